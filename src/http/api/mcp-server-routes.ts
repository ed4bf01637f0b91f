import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import { McpServerChangesInput, NewMcpServerInput } from "../../mcp-servers/mcp-servers.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";

/** The MCP servers sessions get: admins change them; anyone signed in reads them, secrets masked. */
export function mcpServerApi(pier: Pier) {
  const { mcpServers } = pier;
  return new Elysia({ prefix: "/api/config/mcps" })
    .get("/", (ctx) => {
      const repoId = (ctx.query as Record<string, string | undefined>).repoId;
      return mcpServers.list(requireActor(pier, ctx), repoId === undefined ? {} : { repoId });
    })
    .post("/", async (ctx) => {
      const server = await mcpServers.create(requireActor(pier, ctx), readInput(NewMcpServerInput, ctx.body));
      ctx.set.status = 201;
      return server;
    })
    .get("/:id", (ctx) => mcpServers.get(requireActor(pier, ctx), ctx.params.id))
    .patch("/:id", (ctx) => mcpServers.update(requireActor(pier, ctx), ctx.params.id, readInput(McpServerChangesInput, ctx.body)))
    .delete("/:id", (ctx) => {
      mcpServers.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    });
}
