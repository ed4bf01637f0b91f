import type { AuditLog } from "../audit/audit-log.ts";
import type { HeldTokens } from "../auth/held-tokens.ts";
import { SessionTokens } from "../auth/session-tokens.ts";
import type { BudgetGate } from "../costs/budget-gate.ts";
import { priceOf } from "../costs/costs.ts";
import { ResponseMeter } from "../costs/usage-in-flight.ts";
import type { Db } from "../infra/db.ts";
import type { EventBus } from "../infra/events.ts";
import { readBodyAtMost } from "../infra/read-at-most.ts";
import type { Sessions } from "../sessions/sessions.ts";
import { addSessionCost } from "../sessions/session-cost.ts";
import type { Session } from "../sessions/session.ts";
import type { AnthropicCredential, Credentials } from "../settings/credentials.ts";
import { KEY_REFUSED, SIGN_IN_EXPIRED } from "../settings/sign-in.ts";
import { meteredBody } from "./metered-body.ts";
import { gatewayTokens } from "./tables.ts";
import { type MeteredResponse, usageReaderFor } from "./usage-reader.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A model response outside the chat (Claude Code through the gateway) was paid for (topic: the session id). */
    "session.cost": { sessionCostUsd: number };
  }
}

/** Where the gateway listens: pods get `<pod url>/api/gateway/anthropic` as ANTHROPIC_BASE_URL. */
export const GATEWAY_PREFIX = "/api/gateway/anthropic";

/**
 * The largest request body the gateway forwards. Claude Code sends the whole conversation with
 * each request, far more than Pier's 1 MiB for its own routes once a session has gone on a while.
 */
export const MAX_GATEWAY_BODY_BYTES = 32 * 1024 * 1024;

/** The beta flag the API wants with a Claude subscription's OAuth token. */
export const OAUTH_BETA = "oauth-2025-04-20";

const PREFIX = "pier_gw_";
/** How long a token minted for the pod's key helper lasts (Claude Code asks again as it needs). */
const HELPER_TOKEN_LIFETIME_MS = 12 * 60 * 60_000;
/** How long the chat engine's token lasts: as long as the session may (ending it ends the token). */
const ENGINE_TOKEN_LIFETIME_MS = 365 * 24 * 60 * 60_000;

/** Request headers passed on: the API's own and the client's description of itself, nothing that authenticates. */
const FORWARDED_REQUEST = /^(content-type|accept|user-agent|anthropic-(?!beta$).+|x-stainless-.+|x-app|x-claude-code-.+)$/;
/** Answer headers passed back: what clients read (rate limits, request ids, retry advice). */
const FORWARDED_RESPONSE = /^(content-type|cache-control|request-id|x-request-id|retry-after|x-should-retry|anthropic-.+)$/;
/**
 * The API paths the gateway forwards (POST, under the prefix): what a real Claude Code run is seen
 * to call. Nothing else goes on with a person's credential: message batches and files are objects
 * of the whole organisation behind the credential, and a batch's usage would never pass here to be
 * metered.
 */
const FORWARDED_PATHS = new Set(["/v1/messages", "/v1/messages/count_tokens"]);

export interface GatewayDeps {
  db: Db;
  bus: EventBus;
  sessions: Sessions;
  credentials: Credentials;
  /** The real API, e.g. https://api.anthropic.com. */
  anthropicBaseUrl: string;
  /** Where pods reach Pier, or null when they cannot (network none). */
  podUrl(): string | null;
  /** The budgets every model request passes: asked before each is forwarded, told after each is paid for. */
  budget: Pick<BudgetGate, "refusal" | "spent">;
  /** A live session's request for what the gateway does not forward goes in it (a budget's refusals are heard once, on the bus). */
  audit: AuditLog;
}

/** How a Claude Code process for a session is pointed at the API (see src/claude-code/launch.ts). */
export interface GatewayEnv {
  env: Record<string, string>;
  meteredByGateway: boolean;
  notice: string | null;
}

/**
 * Pier as the model gateway for its pods: Claude Code in a pod talks to Pier with a token good for
 * its one live session, and Pier sends each request on to the Anthropic API with the real
 * credential of the session's person, streams the answer back untouched and records, from a copy
 * it reads on the way, what each model response used in the session's cost ledger. The credential
 * never enters the pod; a session's tokens stop working the moment it ends or fails.
 */
export class Gateway {
  /** The gateway's tokens: each good for one session while it is live. */
  readonly tokens: SessionTokens<Session>;
  /**
   * The token each session's chat engine runs with: asking again (every turn does) gives the same,
   * so a running Claude Code keeps its process.
   */
  private engineTokens: HeldTokens;
  /** The token each session's pod gets for its key helper, the same one however often it asks (see HeldTokens). */
  private podTokens: HeldTokens;

  /** Sessions whose person's credential the API refused, by the credential's kind, until the chat engine asks (or the session's host releases it). */
  private refusals = new Map<string, AnthropicCredential["kind"]>();

  constructor(private deps: GatewayDeps) {
    this.tokens = new SessionTokens({ db: deps.db, table: gatewayTokens, prefix: PREFIX, lifetimeMs: HELPER_TOKEN_LIFETIME_MS, live: (sessionId) => deps.sessions.findLive(sessionId) });
    this.engineTokens = this.tokens.held(ENGINE_TOKEN_LIFETIME_MS);
    this.podTokens = this.tokens.held(HELPER_TOKEN_LIFETIME_MS);
  }

  /** A new token for a live session; good until it stops being live (or `lifetimeMs` passes). */
  mint(sessionId: string, lifetimeMs = HELPER_TOKEN_LIFETIME_MS): string {
    return this.tokens.mint(sessionId, lifetimeMs);
  }

  /** The token for a live session's key helper in its pod: the one it was last given while that has hours left. */
  podToken(sessionId: string): string {
    this.tokens.assertLive(sessionId);
    return this.podTokens.for(sessionId);
  }

  /** Whether the API refused the session's person's credential since this was last asked, and of which kind. */
  takeRefusal(sessionId: string): AnthropicCredential["kind"] | null {
    const kind = this.refusals.get(sessionId) ?? null;
    this.refusals.delete(sessionId);
    return kind;
  }

  /** The session ended or failed (its host releases it): its tokens stop working at once. */
  revoke(sessionId: string): void {
    this.refusals.delete(sessionId);
    this.tokens.revoke(sessionId);
  }

  /**
   * What a Claude Code process of the session gets: the gateway and a token of its own when pods
   * reach Pier (metered here); otherwise the real credential in that process's environment only,
   * unmetered, and a sentence for the session page saying so.
   */
  async envFor(session: Session): Promise<GatewayEnv> {
    const url = this.deps.podUrl();
    if (url) {
      // The process lives as long as the session may; ending the session ends the token.
      const token = this.engineTokens.for(session.id);
      return { env: { ANTHROPIC_BASE_URL: `${url}${GATEWAY_PREFIX}`, ANTHROPIC_API_KEY: token }, meteredByGateway: true, notice: null };
    }
    const credential = await this.deps.credentials.anthropicFor(session.userId);
    const env: Record<string, string> = { ANTHROPIC_BASE_URL: this.deps.anthropicBaseUrl };
    if (credential?.kind === "oauth") env.CLAUDE_CODE_OAUTH_TOKEN = credential.value;
    else if (credential) env.ANTHROPIC_API_KEY = credential.value;
    return { env, meteredByGateway: false, notice: UNREACHABLE_NOTICE };
  }

  /** Whether this request is the gateway's (it takes it before Pier's own body limit and parsers). */
  static handles(path: string): boolean {
    return path === GATEWAY_PREFIX || path.startsWith(`${GATEWAY_PREFIX}/`);
  }

  /** Answers one request under GATEWAY_PREFIX, in the API's own error shape when it refuses. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const apiPath = url.pathname.slice(GATEWAY_PREFIX.length);
    if (!FORWARDED_PATHS.has(apiPath)) {
      this.refusedPath(request, apiPath);
      return apiError(404, "not_found_error", `Pier's gateway forwards only what Claude Code calls (POST ${[...FORWARDED_PATHS].join(" and ")}), not ${apiPath || "/"}.`);
    }
    if (request.method !== "POST") {
      this.refusedPath(request, apiPath);
      return apiError(405, "invalid_request_error", `Pier's gateway forwards POST only, not ${request.method}.`);
    }
    const session = this.sessionOf(request.headers);
    if (!session) {
      return apiError(401, "authentication_error", "Pier's gateway needs a live session's gateway token (x-api-key or Authorization: Bearer); this one is missing, unknown, expired or its session has ended.");
    }
    // Counting tokens is free; a message is what a budget refuses.
    const refused = apiPath === "/v1/messages" ? this.deps.budget.refusal(session.id) : null;
    if (refused) return budgetRefusal(refused.reached.message);
    const body = await readBody(request);
    if (body instanceof Response) return body;
    const credential = await this.deps.credentials.anthropicFor(session.userId);
    if (!credential) {
      return apiError(401, "authentication_error", "No Anthropic API key or Claude subscription token is set in Pier for you. Add yours under Your credentials in Pier (or ask an admin to set the instance's), then try again.");
    }
    // A client that goes away before the answer starts ends the request; once it has started,
    // the answer is read on without it (see meteredBody), so the signal is let go then.
    const clientGone = new AbortController();
    const abandon = () => clientGone.abort();
    request.signal.addEventListener("abort", abandon, { once: true });
    let upstream: Response;
    try {
      upstream = await fetch(`${this.deps.anthropicBaseUrl.replace(/\/+$/, "")}${apiPath}${url.search}`, {
        method: request.method,
        headers: upstreamHeaders(request.headers, credential),
        body,
        redirect: "manual",
        signal: clientGone.signal,
      });
    } catch (error) {
      if (request.signal.aborted) return new Response(null, { status: 499 });
      return apiError(502, "api_error", `Pier could not reach the Anthropic API: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      request.signal.removeEventListener("abort", abandon);
    }
    if (upstream.status === 401) {
      this.refusals.set(session.id, credential.kind);
      return refusedCredential(upstream, credential);
    }
    return this.passBack(session, upstream);
  }

  /** The answer as it came, its bytes going out as they arrive; a successful one is metered on the way. */
  private passBack(session: Session, upstream: Response): Response {
    const headers = new Headers();
    for (const [name, value] of upstream.headers) if (FORWARDED_RESPONSE.test(name)) headers.set(name, value);
    if (!upstream.body) return new Response(null, { status: upstream.status, headers });
    const usage = upstream.status === 200 ? usageReaderFor(upstream.headers.get("content-type")) : null;
    // Kept as it comes (message_start, message_delta), so a server killed mid-answer still counts it.
    const meter = new ResponseMeter(this.deps.db, { sessionId: session.id, taskId: session.taskId, userId: session.userId, repoId: session.repoId }, addSessionCost, () =>
      this.deps.budget.spent(session.id),
    );
    let lastSeen: string | null = null;
    const body = meteredBody(
      upstream.body,
      usage,
      (seen) => {
        const response = seen.result();
        if (response) this.record(session, response, meter);
        else meter.finish();
      },
      (seen) => {
        // Most chunks change nothing of it: only a new count is looked up and kept.
        const now = seen.peek();
        const key = now && JSON.stringify(now);
        if (!now || key === lastSeen) return;
        lastSeen = key;
        const priced = this.pricedModel(now.model);
        if (priced) meter.saw(priced, now.usage);
      },
    );
    return new Response(body, { status: upstream.status, headers });
  }

  /** Records one model response in the session's ledger and tells the session's page the new total. */
  private record(session: Session, { model, usage }: MeteredResponse, meter: ResponseMeter): void {
    const priced = this.pricedModel(model);
    if (!priced) {
      meter.finish();
      console.error(`[pier] gateway: the model ${model} is not in the price table, so a response in session ${session.id} went unrecorded; add it in settings.`);
      return;
    }
    meter.finish({ model: priced, usage });
    this.deps.bus.publish("session.cost", session.id, { sessionCostUsd: this.deps.sessions.get(session.id).costUsd });
  }

  /** The price table's name for a model the API names (dated or not), or null when it has no price. */
  private pricedModel(model: string): string | null {
    const priced = priceOf(this.deps.db, model) ? model : undatedModel(model);
    return priced && priceOf(this.deps.db, priced) ? priced : null;
  }

  /**
   * Records a refused path in the audit log when a live session's token asked for it: its agent (or
   * whatever in its pod holds the token) reached for what the credential behind it must not give.
   * One without a token is a stranger's, and not recorded, or anyone could fill the log.
   */
  private refusedPath(request: Request, apiPath: string): void {
    const session = this.sessionOf(request.headers);
    if (session) this.deps.audit.record(this.deps.audit.agentOf(session), "gateway_refused", { kind: "session", id: session.id, name: session.title }, { detail: `path: ${request.method} ${apiPath || "/"}` });
  }

  /** The live session whose token the request carries, or null. */
  private sessionOf(headers: Headers): Session | null {
    return this.tokens.sessionOf(headers.get("x-api-key") ?? headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1]);
  }
}

/** Said on the session page when pods cannot reach Pier's gateway. */
export const UNREACHABLE_NOTICE =
  "Pods cannot reach Pier here (their network is none), so Claude Code in the chat gets your Anthropic credential in its own process's environment and what it spends is not metered; a claude typed in the terminal gets no credential from Pier and is not metered either.";

/** The request's headers for the API: its own, minus the pod's token, plus the real credential. */
export function upstreamHeaders(incoming: Headers, credential: AnthropicCredential): Headers {
  const headers = new Headers();
  for (const [name, value] of incoming) if (FORWARDED_REQUEST.test(name)) headers.set(name, value);
  // Bytes pass back untouched only if nobody compresses them on the way.
  headers.set("accept-encoding", "identity");
  const betas = (incoming.get("anthropic-beta") ?? "")
    .split(",")
    .map((beta) => beta.trim())
    .filter(Boolean);
  if (credential.kind === "oauth") {
    headers.set("authorization", `Bearer ${credential.value}`);
    if (!betas.includes(OAUTH_BETA)) betas.push(OAUTH_BETA);
  } else headers.set("x-api-key", credential.value);
  if (betas.length > 0) headers.set("anthropic-beta", betas.join(","));
  return headers;
}

/** A model id without its date (claude-sonnet-4-5-20250929 → claude-sonnet-4-5), as the price table may list it. */
function undatedModel(model: string): string | null {
  const undated = model.replace(/-\d{8}$/, "");
  return undated === model ? null : undated;
}

/** The request body, read whole up to MAX_GATEWAY_BODY_BYTES, or the refusal. */
async function readBody(request: Request): Promise<Uint8Array<ArrayBuffer> | null | Response> {
  if (!request.body) return null;
  const tooLarge = () => apiError(413, "request_too_large", `Pier's gateway forwards request bodies of at most ${MAX_GATEWAY_BODY_BYTES / (1024 * 1024)} MiB.`);
  return (await readBodyAtMost(request, MAX_GATEWAY_BODY_BYTES)) ?? tooLarge();
}

/**
 * The API refused the person's credential (an expired or revoked subscription token, a dead key).
 * Passed on as a 401 it would tell Claude Code that *its* key (the gateway token, which is fine)
 * was refused, and Claude Code retries a 401 for minutes, refreshing that key, before saying
 * anything. So it goes back as a 403, which Claude Code does not retry, saying what to do (Pier's
 * words, then the API's own) to a client that shows the body; Claude Code shows its own "Invalid
 * API key", so the chat engine asks the gateway (takeRefusal) and says Pier's words itself.
 */
async function refusedCredential(upstream: Response, credential: AnthropicCredential): Promise<Response> {
  const said = ((await upstream.json().catch(() => null)) as { error?: { message?: unknown } } | null)?.error?.message;
  const theirs = typeof said === "string" && said ? ` (The API said: ${said.slice(0, 300)})` : "";
  const refusal = apiError(403, "permission_error", `${credential.kind === "oauth" ? SIGN_IN_EXPIRED : KEY_REFUSED}${theirs}`);
  refusal.headers.set("x-should-retry", "false");
  const requestId = upstream.headers.get("request-id");
  if (requestId) refusal.headers.set("request-id", requestId);
  return refusal;
}

/**
 * A model request past one of the session's budgets. Claude Code retries a 429 for minutes unless
 * told not to, and no wait lifts a budget, so it is told not to, and shows the message at once.
 */
function budgetRefusal(message: string): Response {
  const refusal = apiError(429, "budget_exceeded", message);
  refusal.headers.set("x-should-retry", "false");
  return refusal;
}

/** An error as the Anthropic API words it, so Claude Code shows its message. */
export function apiError(status: number, type: string, message: string): Response {
  return Response.json({ type: "error", error: { type, message } }, { status });
}
