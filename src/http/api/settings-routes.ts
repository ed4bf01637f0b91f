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
    .put("/settings", (ctx) => pier.settings.update(requireActor(pier, ctx), asInput(ctx.body)));
}
