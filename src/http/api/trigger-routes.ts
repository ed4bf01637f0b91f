import { Elysia } from "elysia";
import { AppError } from "../../infra/errors.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { NewTriggerInput } from "../../triggers/triggers.ts";
import { requireActor } from "../auth.ts";
import { requestAddress } from "../request-address.ts";

/**
 * Triggers: their owner's (or an admin's) list and changes, their firings, and a webhook trigger's
 * fire, which is authenticated by the trigger's own secret rather than by a person.
 */
export function triggerApi(pier: Pier) {
  const { triggers, triggerFiring } = pier;
  return new Elysia({ prefix: "/api/triggers" })
    .get("/", (ctx) => triggers.list(requireActor(pier, ctx)))
    .post("/", (ctx) => {
      const { trigger, secret } = triggers.create(requireActor(pier, ctx), readInput(NewTriggerInput, ctx.body));
      ctx.set.status = 201;
      return secret ? { ...trigger, secret } : trigger;
    })
    .get("/:id", (ctx) => triggers.get(requireActor(pier, ctx), ctx.params.id))
    .patch("/:id", (ctx) => triggers.update(requireActor(pier, ctx), ctx.params.id, ctx.body))
    .delete("/:id", (ctx) => {
      triggers.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    })
    .post("/:id/secret", (ctx) => {
      const { trigger, secret } = triggers.replaceSecret(requireActor(pier, ctx), ctx.params.id);
      return { ...trigger, secret };
    })
    .get("/:id/firings", (ctx) => triggers.firings(requireActor(pier, ctx), ctx.params.id))
    .post("/:id/fire", async (ctx) => {
      const trigger = triggers.bySecret(ctx.params.id, ctx.request.headers.get("authorization"));
      if (ctx.body === undefined || typeof ctx.body === "string") throw new AppError(400, "invalid_body", "Send the payload as JSON (Content-Type: application/json).");
      const fired = await triggerFiring.fire(trigger, { kind: "webhook", payload: ctx.body, address: requestAddress(ctx.request) });
      ctx.set.status = 202;
      return fired;
    });
}
