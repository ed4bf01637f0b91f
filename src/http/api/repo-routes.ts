import { Elysia } from "elysia";
import { asInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { addRepo, getRepo, listRepos, publicRepo, removeRepo, updateRepo } from "../../repos/repos.ts";
import { requireAdmin, requireUser } from "../auth.ts";

export function repoApi(pier: Pier) {
  return new Elysia({ prefix: "/api/repos" })
    .get("/", (ctx) => {
      requireUser(pier, ctx);
      return listRepos(pier.db).map(publicRepo);
    })
    .post("/", (ctx) => {
      const user = requireAdmin(pier, ctx);
      const repo = addRepo(pier.db, pier.config, asInput(ctx.body), user.id);
      ctx.set.status = 201;
      return publicRepo(repo);
    })
    .get("/:id", (ctx) => {
      const user = requireUser(pier, ctx);
      // Each person has their own pod of a repo: this is the caller's.
      return { ...publicRepo(getRepo(pier.db, ctx.params.id)), pod: pier.pods.view(ctx.params.id, user.id) };
    })
    .patch("/:id", (ctx) => {
      requireAdmin(pier, ctx);
      return publicRepo(updateRepo(pier.db, ctx.params.id, asInput(ctx.body)));
    })
    .get("/:id/branches", async (ctx) => {
      requireUser(pier, ctx);
      return pier.sessions.branchSuggestions(ctx.params.id);
    })
    .delete("/:id", async (ctx) => {
      requireAdmin(pier, ctx);
      await removeRepo(pier.db, ctx.params.id, pier.repoRemoval);
      ctx.set.status = 204;
    })
    .get("/orphan-pods", (ctx) => {
      requireAdmin(pier, ctx);
      return pier.pods.orphans();
    });
}
