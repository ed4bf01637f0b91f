import { Elysia } from "elysia";
import { asInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor, requireUser } from "../auth.ts";

export function settingsApi(pier: Pier) {
  return new Elysia({ prefix: "/api" })
    .get("/settings", (ctx) => {
      requireUser(pier, ctx);
      return pier.settings.view();
    })
    .put("/settings", async (ctx) => {
      const view = await pier.settings.update(requireActor(pier, ctx), asInput(ctx.body));
      // A new pinned version is fetched now, for the pods that use Pier's copy.
      pier.claudeCode.versionChanged();
      return view;
    });
}
