import { Elysia } from "elysia";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";
import { pierRequestOf } from "../pier-request.ts";

/** Web app previews' API (see API.md, "Previews"): the ports of a session, its public links, and the pane's reports to the agent. */
export function previewApi(pier: Pier) {
  const { previews } = pier;
  return new Elysia({ prefix: "/api/sessions" })
    .get("/:id/ports", (ctx) => previews.ports(requireActor(pier, ctx), ctx.params.id))
    .post("/:id/ports/:port/share", (ctx) => {
      const link = previews.share(requireActor(pier, ctx), ctx.params.id, ctx.params.port, ctx.body, pierRequestOf(pier, ctx.request));
      ctx.set.status = 201;
      return link;
    })
    .delete("/:id/ports/:port/share", (ctx) => {
      previews.revoke(requireActor(pier, ctx), ctx.params.id, ctx.params.port);
      ctx.set.status = 204;
    })
    // The preview pane's "Send to chat": the page's address and console errors, quoted, as the person's message.
    .post("/:id/preview-report", (ctx) => {
      const sent = previews.report(requireActor(pier, ctx), ctx.params.id, ctx.body);
      ctx.set.status = 201;
      return sent;
    });
}
