import { Elysia } from "elysia";
import { asInput, readInput } from "../../infra/input.ts";
import { DismissNoticeInput } from "../../notices/dismissals.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";

/**
 * Your own things: your credentials (write-only like settings; yours win over the instance's in
 * your sessions) and the notices you dismissed.
 */
export function meApi(pier: Pier) {
  return new Elysia({ prefix: "/api/me" })
    .get("/credentials", (ctx) => pier.credentials.view(requireActor(pier, ctx)))
    .put("/credentials", (ctx) => pier.credentials.update(requireActor(pier, ctx), asInput(ctx.body)))
    .get("/dismissed", (ctx) => ({ notices: pier.dismissals.list(requireActor(pier, ctx)) }))
    .post("/dismissed", (ctx) => {
      const actor = requireActor(pier, ctx);
      return { notices: pier.dismissals.dismiss(actor, readInput(DismissNoticeInput, ctx.body)) };
    });
}
