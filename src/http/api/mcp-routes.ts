import { Elysia } from "elysia";
import { AppError, forbidden } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";

/**
 * Pier's MCP endpoint (Streamable HTTP, with a session's bearer token), and a way for a session's
 * person to get a token of their own for it (a script, another MCP client).
 */
export function mcpApi(pier: Pier) {
  return new Elysia()
    .all("/mcp", (ctx) => pier.mcp.handle(ctx.request, ctx.body))
    .post("/api/sessions/:id/mcp-token", (ctx) => {
      const actor = requireActor(pier, ctx);
      const session = pier.sessions.getFor(actor, ctx.params.id);
      if (actor.kind !== "person" || actor.user.id !== session.userId) throw forbidden("Only the session's own person can get its MCP token.");
      if (!pier.sessions.findLive(session.id)) throw new AppError(409, "session_not_active", "The session is not live; its MCP tokens ended with it.");
      ctx.set.status = 201;
      return { token: pier.mcp.mint(session.id), url: `${new URL(ctx.request.url).origin}/mcp`, podUrl: pier.podUrl() ? `${pier.podUrl()}/mcp` : null };
    });
}
