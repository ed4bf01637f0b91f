import { Elysia } from "elysia";
import { AgentChangesInput, NewAgentInput } from "../../agents/agent-input.ts";
import { readInput } from "../../infra/input.ts";
import { notFound } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";

/** The agents the ACP engine runs: anyone signed in reads them; admins add, change and remove them. */
export function agentApi(pier: Pier) {
  const { agents } = pier;
  return new Elysia({ prefix: "/api/config/agents" })
    .get("/", (ctx) => {
      requireActor(pier, ctx);
      return agents.list();
    })
    .post("/", async (ctx) => {
      const agent = await agents.create(requireActor(pier, ctx), readInput(NewAgentInput, ctx.body));
      ctx.set.status = 201;
      return agent;
    })
    .get("/:id", (ctx) => {
      requireActor(pier, ctx);
      const agent = agents.get(ctx.params.id);
      if (!agent) throw notFound("agent");
      return agent;
    })
    .patch("/:id", async (ctx) => agents.update(requireActor(pier, ctx), ctx.params.id, readInput(AgentChangesInput, ctx.body)))
    .delete("/:id", (ctx) => {
      agents.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    });
}
