import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { PassOnInput } from "../../tasks/feedback.ts";
import { requireActor } from "../auth.ts";

/**
 * A session's person passes a note of its task (another member's feedback, above all) on to
 * its agent, as their own message with the note quoted and attributed.
 */
export function feedbackApi(pier: Pier) {
  return new Elysia().post("/api/sessions/:id/feedback", (ctx) => {
    const input = readInput(PassOnInput, ctx.body);
    const passed = pier.taskFeedback.passOn(requireActor(pier, ctx), ctx.params.id, input);
    ctx.set.status = 201;
    return { noteId: input.noteId, message: passed.text };
  });
}
