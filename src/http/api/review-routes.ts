import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { ReviewInput, publicComment } from "../../reviews/reviews.ts";
import { requireActor } from "../auth.ts";

/** A session's review comments: kept on lines of its diff, and sent to its agent as one message. */
export function reviewApi(pier: Pier) {
  const { reviews } = pier;
  return new Elysia({ prefix: "/api/sessions/:id/review" })
    .get("/", (ctx) => ({ comments: reviews.list(requireActor(pier, ctx), ctx.params.id).map(publicComment) }))
    .post("/", async (ctx) => {
      const { comments, message } = await reviews.review(requireActor(pier, ctx), ctx.params.id, readInput(ReviewInput, ctx.body));
      ctx.set.status = 201;
      return { comments: comments.map(publicComment), sent: message !== null, message };
    })
    .delete("/comments/:commentId", (ctx) => {
      reviews.remove(requireActor(pier, ctx), ctx.params.id, ctx.params.commentId);
      ctx.set.status = 204;
    });
}
