import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { ImportSkillsInput, NewSkillInput, SkillChangesInput, SkillPolicyInput } from "../../skills/skills.ts";
import { requireActor } from "../auth.ts";

/** Skills (global and per repo), a repo's skill policy and committed skills, and the agent's proposals. */
export function skillApi(pier: Pier) {
  const { skills } = pier;
  const query = (ctx: { query: Record<string, string | undefined> }) => ctx.query;
  return new Elysia()
    .get("/api/skills", (ctx) => skills.list(requireActor(pier, ctx), query(ctx)))
    .post("/api/skills", (ctx) => {
      const skill = skills.create(requireActor(pier, ctx), readInput(NewSkillInput, ctx.body));
      ctx.set.status = 201;
      return skill;
    })
    .get("/api/skills/proposals", (ctx) => skills.proposals(requireActor(pier, ctx), query(ctx)))
    .get("/api/skills/proposals/:id", (ctx) => skills.proposal(requireActor(pier, ctx), ctx.params.id))
    .post("/api/skills/proposals/:id/accept", (ctx) => skills.accept(requireActor(pier, ctx), ctx.params.id))
    .post("/api/skills/proposals/:id/decline", (ctx) => skills.decline(requireActor(pier, ctx), ctx.params.id))
    .get("/api/skills/:id", (ctx) => skills.get(requireActor(pier, ctx), ctx.params.id))
    .patch("/api/skills/:id", (ctx) => skills.update(requireActor(pier, ctx), ctx.params.id, readInput(SkillChangesInput, ctx.body)))
    .delete("/api/skills/:id", (ctx) => {
      skills.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    })
    .get("/api/repos/:id/skill-policy", (ctx) => skills.policy(requireActor(pier, ctx), ctx.params.id))
    .put("/api/repos/:id/skill-policy", (ctx) => skills.setPolicy(requireActor(pier, ctx), ctx.params.id, readInput(SkillPolicyInput, ctx.body)))
    .get("/api/repos/:id/skills/committed", (ctx) => skills.committed(requireActor(pier, ctx), ctx.params.id))
    .post("/api/repos/:id/skills/committed/refresh", (ctx) => skills.refreshCommitted(requireActor(pier, ctx), ctx.params.id))
    .post("/api/repos/:id/skills/import", async (ctx) => {
      const imported = await skills.importCommitted(requireActor(pier, ctx), ctx.params.id, readInput(ImportSkillsInput, ctx.body));
      ctx.set.status = 201;
      return imported;
    });
}
