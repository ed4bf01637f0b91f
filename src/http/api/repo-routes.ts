import { Elysia } from "elysia";
import type { Pier } from "../../pier.ts";
import { readInput } from "../../infra/input.ts";
import { AddRepoInput, RepoSettingsInput, publicRepo } from "../../repos/repos.ts";
import { requireActor, requireUser } from "../auth.ts";

export function repoApi(pier: Pier) {
  return new Elysia({ prefix: "/api/repos" })
    .get("/", (ctx) => {
      requireUser(pier, ctx);
      return pier.repos.list().map(publicRepo);
    })
    .post("/", (ctx) => {
      const repo = pier.repos.add(requireActor(pier, ctx), readInput(AddRepoInput, ctx.body));
      ctx.set.status = 201;
      return publicRepo(repo);
    })
    .get("/:id", (ctx) => {
      const user = requireUser(pier, ctx);
      // Each person has their own pod of a repo: this is the caller's.
      return { ...publicRepo(pier.repos.get(ctx.params.id)), pod: pier.pods.view(ctx.params.id, user.id) };
    })
    .patch("/:id", (ctx) => publicRepo(pier.repos.update(requireActor(pier, ctx), ctx.params.id, readInput(RepoSettingsInput, ctx.body))))
    .get("/:id/environment", (ctx) => pier.environments.view(requireActor(pier, ctx), ctx.params.id))
    .post("/:id/environment/rebuild", (ctx) => {
      pier.environments.rebuild(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 202;
      return { state: "building" };
    })
    .get("/:id/branches", async (ctx) => {
      requireUser(pier, ctx);
      return pier.sessions.branchSuggestions(ctx.params.id);
    })
    .delete("/:id", async (ctx) => {
      await pier.repos.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    })
    .get("/orphan-pods", (ctx) => pier.pods.orphans(requireActor(pier, ctx)));
}
