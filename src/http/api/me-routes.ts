import { Elysia } from "elysia";
import { asInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor } from "../auth.ts";

/** Your own credentials: write-only like settings; yours win over the instance's in your sessions. */
export function meApi(pier: Pier) {
  return new Elysia({ prefix: "/api/me" })
    .get("/credentials", (ctx) => pier.credentials.view(requireActor(pier, ctx)))
    .put("/credentials", (ctx) => pier.credentials.update(requireActor(pier, ctx), asInput(ctx.body)));
}
