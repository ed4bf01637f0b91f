import { Elysia } from "elysia";
import { MovePodInput } from "../../docker-engines/engine-input.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";

/**
 * A person's pod: `:id` is its container's id, as a session's podId and a repo's pod.containerId
 * say. Moving it to another Docker engine is an admin's act; it answers 202 at once and runs on,
 * the pod's sessions told on their pages as it goes.
 */
export function podApi(pier: Pier) {
  return new Elysia({ prefix: "/api/pods" }).post("/:id/move", async (ctx) => {
    const actor = requireActor(pier, ctx);
    const started = await pier.podMoves.start(actor, ctx.params.id, readInput(MovePodInput, ctx.body));
    ctx.set.status = 202;
    return started;
  });
}
