import { verify } from "@octokit/webhooks-methods";
import { Elysia } from "elysia";
import { AppError } from "../../infra/errors.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { AddPrInput, OpenPrInput, type WebhookPayload } from "../../prs/pull-requests.ts";
import type { IssuePayload } from "../../triggers/github-issues.ts";
import { requireActor } from "../auth.ts";
import { MAX_BODY_BYTES, bodyLimit } from "../body-limit.ts";

/** A session's pull requests, everyone's (as far as the caller may see), and GitHub's webhook. */
export function prApi(pier: Pier) {
  const { prs } = pier;
  return new Elysia({ prefix: "/api" })
    .get("/sessions/:id/prs", (ctx) => prs.forSession(requireActor(pier, ctx), ctx.params.id))
    .post("/sessions/:id/prs", async (ctx) => {
      const pr = await prs.addByUrl(requireActor(pier, ctx), ctx.params.id, readInput(AddPrInput, ctx.body));
      ctx.set.status = 201;
      return pr;
    })
    .get("/sessions/:id/pull-request", (ctx) => prs.draft(requireActor(pier, ctx), ctx.params.id))
    .post("/sessions/:id/pull-request", async (ctx) => {
      const pr = await prs.open(requireActor(pier, ctx), ctx.params.id, readInput(OpenPrInput, ctx.body));
      ctx.set.status = 201;
      return pr;
    })
    .get("/prs", (ctx) => {
      const state = (ctx.query as { state?: string }).state ?? "open";
      if (state !== "open" && state !== "all") throw new AppError(400, "invalid_state", "state must be open or all.", "state");
      return prs.all(requireActor(pier, ctx), state);
    })
    .post(
      "/github/webhook",
      async (ctx) => {
        // Signed by GitHub with the shared secret; anything else changes nothing.
        const secret = await pier.settings.secret("githubWebhookSecret");
        const signature = ctx.request.headers.get("x-hub-signature-256") ?? "";
        const body = typeof ctx.body === "string" ? ctx.body : "";
        if (!secret || !signature || !(await verify(secret, body, signature).catch(() => false))) {
          throw new AppError(401, "bad_signature", "The webhook's signature does not match the secret in settings.");
        }
        let payload: WebhookPayload;
        try {
          payload = JSON.parse(body) as WebhookPayload;
        } catch {
          throw new AppError(400, "invalid_body", "The webhook's body is not JSON.");
        }
        const event = ctx.request.headers.get("x-github-event") ?? "";
        await prs.webhook(event, payload);
        await pier.issueTriggers.delivery(event, payload as IssuePayload);
        pier.environments.pushed(event, payload as Parameters<Pier["environments"]["pushed"]>[1]);
        ctx.set.status = 204;
      },
      // GitHub sends payloads of up to 25 MB, read as they came because they are signed as they came.
      { parse: bodyLimit(25 * MAX_BODY_BYTES, "text") },
    );
}
