import { join } from "node:path";
import { Elysia } from "elysia";
import type { Pier } from "../../pier.ts";
import { PUBLIC_DIR } from "../assets.ts";
import { requireActor, secureCookies } from "../auth.ts";
import { personActor } from "../../auth/actor.ts";
import { pageUser, redirectResponse } from "../pages/respond.ts";

const SERVICE_WORKER = join(PUBLIC_DIR, "vendor", "service-worker.js");

/**
 * Web Push: Pier's VAPID public key, your devices (your browsers' push subscriptions, also removed
 * from the Tokens page), and the service worker, served from the origin's root so that its scope
 * is all of Pier.
 */
export function pushApi(pier: Pier) {
  return new Elysia()
    .get("/api/push/key", async (ctx) => {
      requireActor(pier, ctx);
      return { publicKey: await pier.push.publicKey() };
    })
    .get("/api/me/push", (ctx) => pier.push.devices(requireActor(pier, ctx)))
    .post("/api/me/push", async (ctx) => {
      const device = await pier.push.subscribe(requireActor(pier, ctx), ctx.body, pierUrlOf(pier, ctx.request));
      ctx.set.status = 201;
      return device;
    })
    .delete("/api/me/push/:id", (ctx) => {
      pier.push.remove(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    })
    // The Tokens page's Remove.
    .post("/tokens/devices/:id/remove", (ctx) => {
      pier.push.remove(personActor(pageUser(pier, ctx)), ctx.params.id);
      return redirectResponse(ctx.request, "/tokens#devices");
    })
    .get("/service-worker.js", () => {
      // A browser checks its service worker for a new version at each visit; a cached one would hide it.
      return new Response(Bun.file(SERVICE_WORKER), { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" } });
    });
}

/** Where the person uses Pier: this request's origin, https when it reached Pier (or its proxy) over https. */
function pierUrlOf(pier: Pier, request: Request): string {
  const url = new URL(request.url);
  if (secureCookies(pier, request)) url.protocol = "https:";
  return url.origin;
}
