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
import { drainBoundFor, meteredBody } from "./metered-body.ts";
import type { ForwardedPath, ModelService, ModelServiceName, ServiceCredential } from "./model-service.ts";
import { ANTHROPIC } from "./services/anthropic.ts";
import { GEMINI } from "./services/gemini.ts";
import { OPENAI } from "./services/openai.ts";
import { gatewayTokens } from "./tables.ts";
import { type MeteredResponse, usageReaderFor } from "./usage-reader.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A model response outside the chat (an agent in the pod, through the gateway) was paid for (topic: the session id). */
    "session.cost": { sessionCostUsd: number };
  }
}

/** Where the gateway listens for each service: `<pod url>/api/gateway/<service>`. */
export const GATEWAY_ROOT = "/api/gateway";
/** Where Claude Code reaches the gateway: pods get `<pod url>/api/gateway/anthropic` as ANTHROPIC_BASE_URL. */
export const GATEWAY_PREFIX = `${GATEWAY_ROOT}/anthropic`;

/**
 * The largest request body the gateway forwards. Claude Code sends the whole conversation with
 * each request, far more than Pier's 1 MiB for its own routes once a session has gone on a while.
 */
export const MAX_GATEWAY_BODY_BYTES = 32 * 1024 * 1024;

const PREFIX = "pier_gw_";
/** How long a token minted for the pod's key helper lasts (Claude Code asks again as it needs). */
const HELPER_TOKEN_LIFETIME_MS = 12 * 60 * 60_000;
/** How long the chat engine's token lasts: as long as the session may (ending it ends the token). */
const ENGINE_TOKEN_LIFETIME_MS = 365 * 24 * 60 * 60_000;

/** The services, each under GATEWAY_ROOT by its name. */
const SERVICES: Record<ModelServiceName, ModelService> = { anthropic: ANTHROPIC, openai: OPENAI, gemini: GEMINI };

export interface GatewayDeps {
  db: Db;
  bus: EventBus;
  sessions: Sessions;
  credentials: Credentials;
  /** Each service's real API, e.g. https://api.anthropic.com, https://api.openai.com/v1, https://generativelanguage.googleapis.com. */
  upstream: Record<ModelServiceName, string>;
  /** Where pods reach Pier, or null when they cannot (network none). */
  podUrl(): string | null;
  /** The budgets every model request passes: asked before each is forwarded, told after each is paid for. */
  budget: Pick<BudgetGate, "refusal" | "spent">;
  /** A live session's request for what the gateway does not forward goes in it (a budget's refusals are heard once, on the bus). */
  audit: AuditLog;
}

/** A credential a service refused for a session's person (its kind), or none they had (null), with Pier's sentence for it. */
interface CredentialRefusal {
  service: ModelServiceName;
  kind: ServiceCredential["kind"] | null;
  message: string;
}

/** A refusal as the chat says it: its code and Pier's sentence. */
export interface RefusalSaid {
  code: "key_refused" | "sign_in_expired" | "no_credential";
  message: string;
}

/** How an agent's process for a session is pointed at a model service (see src/claude-code/launch.ts). */
export interface GatewayEnv {
  env: Record<string, string>;
  meteredByGateway: boolean;
  notice: string | null;
}

/**
 * Pier as the model gateway for its pods: an agent in a pod (Claude Code, or any other) talks to
 * Pier with a token good for its one live session, and Pier sends each request on to the model
 * service (Anthropic's, OpenAI's or Google's Gemini API) with the real credential of the
 * session's person, streams the answer back untouched and records, from a copy it reads on the
 * way, what each model response used in the session's cost ledger. The credential never enters
 * the pod; a session's tokens stop working the moment it ends or fails. What differs between the
 * services is in services/*.ts.
 */
export class Gateway {
  /** The gateway's tokens: each good for one session while it is live, for any of the services. */
  readonly tokens: SessionTokens<Session>;
  /**
   * The token each session's chat engine runs with: asking again (every turn does) gives the same,
   * so a running agent keeps its process.
   */
  private engineTokens: HeldTokens;
  /** The token each session's pod gets for its key helper, the same one however often it asks (see HeldTokens). */
  private podTokens: HeldTokens;

  /** Sessions whose person's credential a service refused (or who had none for it), until the chat engine asks (or the session's host releases it). */
  private refusals = new Map<string, CredentialRefusal>();

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

  /** Whether the Anthropic API refused the session's person's credential since this was last asked, and of which kind. */
  takeRefusal(sessionId: string): AnthropicCredential["kind"] | null {
    const refusal = this.refusals.get(sessionId);
    this.refusals.delete(sessionId);
    return refusal?.service === "anthropic" ? refusal.kind : null;
  }

  /**
   * What to tell the session's person, in Pier's words, when a service refused their credential
   * (or they had none for it) since this was last asked: an agent over ACP says only that *its*
   * key was refused, or retries, though its key is the gateway's token and the missing or refused
   * one is the person's.
   */
  takeRefusalSaid(sessionId: string): RefusalSaid | null {
    const refusal = this.refusals.get(sessionId);
    this.refusals.delete(sessionId);
    if (!refusal) return null;
    const code = refusal.kind === "oauth" ? "sign_in_expired" : refusal.kind === "apiKey" ? "key_refused" : "no_credential";
    return { code, message: refusal.message };
  }

  /** The session ended or failed (its host releases it): its tokens stop working at once. */
  revoke(sessionId: string): void {
    this.refusals.delete(sessionId);
    this.tokens.revoke(sessionId);
  }

  /**
   * What an agent's process in the session gets to reach `service` (Anthropic's by default, as
   * Claude Code's does): the variables that service's SDKs read, naming the gateway and a token of
   * the session's own when pods reach Pier (metered here: ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY,
   * OPENAI_BASE_URL/OPENAI_API_KEY, GOOGLE_GEMINI_BASE_URL/GEMINI_API_KEY); otherwise the service's
   * own URL and the real credential in that process's environment only, unmetered, and a sentence
   * for the session page saying so. The token is the same for every service and every call while
   * the session lives.
   */
  async envFor(session: Session, service: ModelServiceName = "anthropic"): Promise<GatewayEnv> {
    const wire = SERVICES[service];
    const url = this.deps.podUrl();
    if (url) {
      // The process lives as long as the session may; ending the session ends the token.
      const token = this.engineTokens.for(session.id);
      return { env: wire.env(wire.sdkBaseUrl(`${url}${GATEWAY_ROOT}/${service}`), token), meteredByGateway: true, notice: null };
    }
    const credential = await wire.credentialFor(this.deps.credentials, session.userId);
    // A Claude subscription's token is Claude Code's own way in, under its own name.
    const env = credential?.kind === "oauth" ? { ...wire.env(this.deps.upstream[service], null), CLAUDE_CODE_OAUTH_TOKEN: credential.value } : wire.env(this.deps.upstream[service], credential?.value ?? null);
    return { env, meteredByGateway: false, notice: wire.unreachableNotice };
  }

  /** Whether this request is the gateway's (it takes it before Pier's own body limit and parsers). */
  static handles(path: string): boolean {
    return serviceOf(path) !== null;
  }

  /** Answers one request under a service's prefix, in that service's own error shape when it refuses. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const service = serviceOf(url.pathname);
    if (!service) return ANTHROPIC.refusal(404, "not_found", `Pier's gateway has no service at ${url.pathname}.`);
    const apiPath = url.pathname.slice(`${GATEWAY_ROOT}/${service.name}`.length);
    const route = service.route(apiPath);
    if (!route) {
      this.refusedPath(service, request, url, apiPath);
      return service.refusal(404, "not_found", `Pier's gateway forwards only ${service.forwards} to ${service.label}, not ${apiPath || "/"}.`);
    }
    if (request.method !== "POST") {
      this.refusedPath(service, request, url, apiPath);
      return service.refusal(405, "method_not_allowed", `Pier's gateway forwards POST only, not ${request.method}.`);
    }
    const session = this.tokens.sessionOf(service.tokenOf(request, url));
    if (!session) {
      return service.refusal(401, "unauthenticated", "Pier's gateway needs a live session's gateway token as the API key; this one is missing, unknown, expired or its session has ended.");
    }
    // Counting tokens is free; asking a model is what a budget refuses.
    const refused = route.billed ? this.deps.budget.refusal(session.id) : null;
    if (refused) return noRetry(service.refusal(429, "budget_exceeded", refused.reached.message));
    const read = await readBody(request);
    if (read === "too_large") return service.refusal(413, "too_large", `Pier's gateway forwards request bodies of at most ${MAX_GATEWAY_BODY_BYTES / (1024 * 1024)} MiB.`);
    const body = service.prepareBody(apiPath, read);
    if (body instanceof Response) return body;
    const credential = await service.credentialFor(this.deps.credentials, session.userId);
    if (!credential) {
      this.refusals.set(session.id, { service: service.name, kind: null, message: NO_CREDENTIAL[service.name] });
      return service.refusal(401, "no_credential", NO_CREDENTIAL[service.name]);
    }
    // A client that goes away before the answer starts ends the request; once it has started,
    // the answer is read on without it (see meteredBody), so the signal is let go then.
    const clientGone = new AbortController();
    const abandon = () => clientGone.abort();
    request.signal.addEventListener("abort", abandon, { once: true });
    let upstream: Response;
    try {
      upstream = await fetch(service.upstreamUrl(this.deps.upstream[service.name], apiPath, url), {
        method: request.method,
        headers: service.upstreamHeaders(request.headers, credential),
        body,
        redirect: "manual",
        signal: clientGone.signal,
      });
    } catch (error) {
      if (request.signal.aborted) return new Response(null, { status: 499 });
      return service.refusal(502, "unreachable", `Pier could not reach ${service.label}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      request.signal.removeEventListener("abort", abandon);
    }
    if (upstream.status === 401) {
      this.refusals.set(session.id, { service: service.name, kind: credential.kind, message: service.credentialRefused(credential) });
      return refusedCredential(service, upstream, credential);
    }
    return this.passBack(session, service, route, upstream, body?.byteLength ?? 0);
  }

  /** The answer as it came, its bytes going out as they arrive; a successful answer of a model is metered on the way. */
  private passBack(session: Session, service: ModelService, route: ForwardedPath, upstream: Response, requestBytes: number): Response {
    const headers = new Headers();
    for (const [name, value] of upstream.headers) if (service.answerHeaders.test(name)) headers.set(name, value);
    if (!upstream.body) return new Response(null, { status: upstream.status, headers });
    const usage = route.billed && upstream.status === 200 ? usageReaderFor(route.usage, upstream.headers.get("content-type"), route.model) : null;
    // Kept as it comes (a stream's counts so far), so a server killed mid-answer still counts it.
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
      drainBoundFor(requestBytes),
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

  /** The price table's name for a model the API names (a dated snapshot or not), or null when it has no price. */
  private pricedModel(model: string): string | null {
    if (priceOf(this.deps.db, model)) return model;
    const undated = undatedModel(model);
    return undated && priceOf(this.deps.db, undated) ? undated : null;
  }

  /**
   * Records a refused path in the audit log when a live session's token asked for it: its agent (or
   * whatever in its pod holds the token) reached for what the credential behind it must not give.
   * One without a token is a stranger's, and not recorded, or anyone could fill the log.
   */
  private refusedPath(service: ModelService, request: Request, url: URL, apiPath: string): void {
    const session = this.tokens.sessionOf(service.tokenOf(request, url));
    if (!session) return;
    const path = `path: ${request.method} ${apiPath || "/"}`;
    this.deps.audit.record(this.deps.audit.agentOf(session), "gateway_refused", { kind: "session", id: session.id, name: session.title }, { detail: service.name === "anthropic" ? path : `${path} on ${service.label}` });
  }
}

/** Said on the session page when pods cannot reach Pier's gateway and Claude Code gets the credential itself. */
export const UNREACHABLE_NOTICE = ANTHROPIC.unreachableNotice;

/** What a person with no credential for the service is told. */
const NO_CREDENTIAL: Record<ModelServiceName, string> = {
  anthropic: "No Anthropic API key or Claude subscription token is set in Pier for you. Add yours under Your credentials in Pier (or ask an admin to set the instance's), then try again.",
  openai: "No OpenAI API key is set in Pier for you. Add yours under Your credentials in Pier (or ask an admin to set the instance's), then try again.",
  gemini: "No Gemini API key is set in Pier for you. Add yours under Your credentials in Pier (or ask an admin to set the instance's), then try again.",
};

/** The service whose prefix the path is under, or null. */
function serviceOf(path: string): ModelService | null {
  for (const service of Object.values(SERVICES)) {
    const prefix = `${GATEWAY_ROOT}/${service.name}`;
    if (path === prefix || path.startsWith(`${prefix}/`)) return service;
  }
  return null;
}

/**
 * A model id without its snapshot's date or version, as the price table may list it:
 * claude-sonnet-4-5-20250929 → claude-sonnet-4-5, gpt-5.4-2026-03-05 → gpt-5.4, gemini-2.0-flash-001 → gemini-2.0-flash.
 */
function undatedModel(model: string): string | null {
  const undated = model.replace(/-(\d{8}|\d{4}-\d{2}-\d{2}|\d{3})$/, "");
  return undated === model ? null : undated;
}

/** The request body, read whole up to MAX_GATEWAY_BODY_BYTES, or "too_large". */
async function readBody(request: Request): Promise<Uint8Array<ArrayBuffer> | null | "too_large"> {
  if (!request.body) return null;
  return (await readBodyAtMost(request, MAX_GATEWAY_BODY_BYTES)) ?? "too_large";
}

/**
 * The service refused the person's credential (an expired or revoked subscription token, a dead
 * key). Passed on as a 401 it would tell the agent that *its* key (the gateway token, which is
 * fine) was refused, and Claude Code retries a 401 for minutes, refreshing that key, before saying
 * anything. So it goes back as a 403, which is not retried, saying what to do (Pier's words, then
 * the service's own) to a client that shows the body; Claude Code shows its own "Invalid API key",
 * so the chat engine asks the gateway (takeRefusal) and says Pier's words itself.
 */
async function refusedCredential(service: ModelService, upstream: Response, credential: ServiceCredential): Promise<Response> {
  const said = ((await upstream.json().catch(() => null)) as { error?: { message?: unknown } } | null)?.error?.message;
  const theirs = typeof said === "string" && said ? ` (The API said: ${said.slice(0, 300)})` : "";
  const refusal = noRetry(service.refusal(403, "credential_refused", `${service.credentialRefused(credential)}${theirs}`));
  const requestId = upstream.headers.get("request-id") ?? upstream.headers.get("x-request-id");
  if (requestId) refusal.headers.set(upstream.headers.has("request-id") ? "request-id" : "x-request-id", requestId);
  return refusal;
}

/**
 * A refusal no wait lifts (a budget, a refused credential). Claude Code and the OpenAI SDK retry a
 * 429 for minutes unless told not to, so they are told not to, and show the message at once.
 */
function noRetry(refusal: Response): Response {
  refusal.headers.set("x-should-retry", "false");
  return refusal;
}
