import type { Credentials } from "../settings/credentials.ts";
import type { UsageWire } from "./usage-reader.ts";

/** The model services Pier's gateway speaks, each under `/api/gateway/<name>`. */
export const MODEL_SERVICES = ["anthropic", "openai", "gemini"] as const;
export type ModelServiceName = (typeof MODEL_SERVICES)[number];

/** What goes to a service for a person: an API key, or (Anthropic's only) a Claude subscription's OAuth token. */
export interface ServiceCredential {
  kind: "apiKey" | "oauth";
  value: string;
}

/** The refusals the gateway makes itself, each said in the service's own error shape. */
export type GatewayRefusal = "not_found" | "method_not_allowed" | "unauthenticated" | "no_credential" | "credential_refused" | "budget_exceeded" | "too_large" | "bad_request" | "unreachable";

/** A path the gateway forwards, and how. */
export interface ForwardedPath {
  /** A model answers it for money: budgets refuse it and its answer is metered. Counting tokens is free. */
  billed: boolean;
  /** Where the answer says what it used. */
  usage: UsageWire;
  /** The model the request's path names (Gemini's), for an answer that does not name one. */
  model: string | null;
}

/**
 * One model service as the gateway speaks it: which paths go on, how a client sends its key and
 * how the real one goes upstream, what the service's own errors look like, where its answers say
 * what they used, and what an agent's process needs to find it. The gateway (gateway.ts) does the
 * rest the same for all: the session's token, budgets, forwarding, metering, the audit log.
 */
export interface ModelService {
  name: ModelServiceName;
  /** "the OpenAI API", in sentences. */
  label: string;
  /** What the gateway forwards, told to a client that asked for something else. */
  forwards: string;
  /** The path (after `/api/gateway/<name>`) as a forwarded one, or null for any other. */
  route(apiPath: string): ForwardedPath | null;
  /** The session's gateway token, where this service's clients put their key. */
  tokenOf(request: Request, url: URL): string | undefined;
  /** The credential Pier holds for this person (theirs before the instance's), or null. */
  credentialFor(credentials: Credentials, userId: string): Promise<ServiceCredential | null>;
  /** The service's URL for the request: its base and path, with what the query carries that is the service's. */
  upstreamUrl(baseUrl: string, apiPath: string, url: URL): string;
  /** The request's headers for the service: what describes the request, none that authenticates, plus the real credential. */
  upstreamHeaders(incoming: Headers, credential: ServiceCredential): Headers;
  /** The body as it goes on, or the refusal of a request that could not be metered. */
  prepareBody(apiPath: string, body: Uint8Array<ArrayBuffer> | null): Uint8Array<ArrayBuffer> | null | Response;
  /** Answer headers passed back to the client. */
  answerHeaders: RegExp;
  /** A refusal in the service's own error shape, so its clients show the message. */
  refusal(status: number, kind: GatewayRefusal, message: string): Response;
  /** The sentence for a credential the service refused (its 401). */
  credentialRefused(credential: ServiceCredential): string;
  /** The variables an agent's process reads to reach the service at `baseUrl` (a gateway's or the service's) with `key`. */
  env(baseUrl: string, key: string | null): Record<string, string>;
  /** The base URL an SDK wants for the gateway at `prefixUrl` (the OpenAI SDK's ends in /v1). */
  sdkBaseUrl(prefixUrl: string): string;
  /** Said on the session page when pods cannot reach the gateway and an agent gets the credential itself. */
  unreachableNotice: string;
}

/** The session's gateway token in `x-api-key` or `Authorization: Bearer`, as Anthropic's and OpenAI's clients send a key. */
export function keyOrBearer(request: Request): string | undefined {
  return request.headers.get("x-api-key") ?? request.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/** The request's headers whose names `forwarded` matches, asking for an answer nobody compresses on the way (so its bytes pass back untouched). */
export function describingHeaders(incoming: Headers, forwarded: RegExp): Headers {
  const headers = new Headers();
  for (const [name, value] of incoming) if (forwarded.test(name)) headers.set(name, value);
  headers.set("accept-encoding", "identity");
  return headers;
}
