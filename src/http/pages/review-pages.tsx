import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import type { Pier } from "../../pier.ts";
import { splitPatch } from "../../reviews/patch.ts";
import { readLimitNote } from "../../terminal/recording.ts";
import { ReviewPage, type ReviewPageProps } from "../../../views/review-view.tsx";
import { prPanel } from "./session-pages.tsx";
import { pageUser, redirectResponse } from "./respond.ts";

/** A session's review page, and sending its kept comments to the agent without JavaScript. */
export function reviewPages(pier: Pier) {
  return new Elysia()
    .get("/sessions/:id/review", async (ctx) => {
      const viewer = pageUser(pier, ctx);
      const actor = personActor(viewer);
      const session = pier.sessions.getFor(actor, ctx.params.id);
      const repo = pier.repos.get(session.repoId);
      const { path } = pier.terminals.recordingFor(actor, session.id);
      const hasRecording = await Bun.file(path).exists();
      const names = new Map<string, string>();
      const comments = pier.reviews.list(actor, session.id).map((comment) => {
        if (!names.has(comment.userId)) names.set(comment.userId, pier.users.find(comment.userId)?.username ?? "unknown");
        return { comment, author: names.get(comment.userId)! };
      });
      return (
        <ReviewPage viewer={viewer} runtime={pier.runtime.kind} session={session} repo={repo} diff={await readDiff(pier, viewer, session.id)}
          comments={comments} costs={pier.costs.sessionByModel(session.id)} hasRecording={hasRecording}
          limitNote={hasRecording ? readLimitNote(path) : null} prPanel={await prPanel(pier, viewer, session, repo)} />
      );
    })
    .post("/sessions/:id/review/send", async (ctx) => {
      const viewer = pageUser(pier, ctx);
      await pier.reviews.review(personActor(viewer), ctx.params.id, { comments: [], send: true });
      return redirectResponse(ctx.request, `/sessions/${ctx.params.id}`);
    });
}

/** The diff with each file's lines, or the reason it cannot be read now (the pod would not start, say). */
async function readDiff(pier: Pier, viewer: Parameters<typeof personActor>[0], sessionId: string): Promise<ReviewPageProps["diff"]> {
  try {
    const diff = await pier.sessions.diff(personActor(viewer), sessionId);
    return { diff, patches: splitPatch(diff.patch) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
