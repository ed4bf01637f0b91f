import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { NewProviderInput, ProviderChangesInput } from "../../sso/provider-input.ts";
import { publicProvider } from "../../sso/providers.ts";
import { requireActor } from "../auth.ts";

/** The identity providers people sign in with: admins only; the client secret is write-only. */
export function ssoApi(pier: Pier) {
  return new Elysia({ prefix: "/api/config/sso" })
    .get("/", (ctx) => pier.sso.list(requireActor(pier, ctx)).map(publicProvider))
    .post("/", async (ctx) => {
      const provider = await pier.sso.create(requireActor(pier, ctx), readInput(NewProviderInput, ctx.body));
      ctx.set.status = 201;
      return publicProvider(provider);
    })
    .patch("/:id", async (ctx) => publicProvider(await pier.sso.update(requireActor(pier, ctx), ctx.params.id, readInput(ProviderChangesInput, ctx.body))))
    .delete("/:id", (ctx) => {
      pier.sso.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    });
}
