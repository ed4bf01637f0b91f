import type { Usage } from "../../costs/usage.ts";
import { KEY_REFUSED, SIGN_IN_EXPIRED } from "../../settings/sign-in.ts";
import { count, fields } from "../json-picker.ts";
import { type GatewayRefusal, type ModelService, type ServiceCredential, describingHeaders, keyOrBearer } from "../model-service.ts";
import type { Seen, UsageWire } from "../usage-reader.ts";

/** The beta flag the API wants with a Claude subscription's OAuth token. */
export const OAUTH_BETA = "oauth-2025-04-20";

/** Request headers passed on: the API's own and the client's description of itself, nothing that authenticates. */
const FORWARDED_REQUEST = /^(content-type|accept|user-agent|anthropic-(?!beta$).+|x-stainless-.+|x-app|x-claude-code-.+)$/;

/**
 * The Messages API's usage: a JSON answer's `usage`; in a stream, `message_start` names the model
 * and the input counts (message.usage), `message_delta` the final output count (and, from some
 * models, the input counts again). Later counts replace earlier ones: they are totals.
 */
export const MESSAGES_USAGE: UsageWire = {
  jsonPaths: ["$.model", "$.usage"],
  eventPaths: ["$.message.model", "$.message.usage", "$.usage"],
  carriesUsage: (event) => event === "" || event === "message_start" || event === "message_delta",
  pick(seen: Seen, key, value, depth) {
    if (key === "model" && typeof value === "string") seen.model = value;
    // message_start's (depth 2) starts the counts afresh; message_delta's and a JSON answer's (depth 1) go over them.
    else if (key === "usage") seen.usage = messagesUsage(depth === 2 ? null : seen.usage, value) ?? seen.usage;
  },
};

function messagesUsage(before: Usage | null, value: unknown): Usage | null {
  const wire = fields(value);
  if (!wire) return null;
  return {
    inputTokens: count(wire.input_tokens) ?? before?.inputTokens ?? 0,
    outputTokens: count(wire.output_tokens) ?? before?.outputTokens ?? 0,
    cacheWriteTokens: count(wire.cache_creation_input_tokens) ?? before?.cacheWriteTokens ?? 0,
    cacheReadTokens: count(wire.cache_read_input_tokens) ?? before?.cacheReadTokens ?? 0,
  };
}

/**
 * The Anthropic Messages API, as Claude Code calls it. Only messages and their token counts go on:
 * message batches and files are objects of the whole organisation behind the credential, and a
 * batch's usage would never pass here to be metered.
 */
export const ANTHROPIC: ModelService = {
  name: "anthropic",
  label: "the Anthropic API",
  forwards: "what Claude Code calls (POST /v1/messages and /v1/messages/count_tokens)",
  route(apiPath) {
    if (apiPath === "/v1/messages") return { billed: true, usage: MESSAGES_USAGE, model: null };
    if (apiPath === "/v1/messages/count_tokens") return { billed: false, usage: MESSAGES_USAGE, model: null };
    return null;
  },
  tokenOf: keyOrBearer,
  credentialFor: (credentials, userId) => credentials.anthropicFor(userId),
  upstreamUrl: (baseUrl, apiPath, url) => `${baseUrl.replace(/\/+$/, "")}${apiPath}${url.search}`,
  upstreamHeaders,
  prepareBody: (_apiPath, body) => body,
  answerHeaders: /^(content-type|cache-control|request-id|x-request-id|retry-after|x-should-retry|anthropic-.+)$/,
  refusal: (status, kind, message) => apiError(status, ERROR_TYPES[kind], message),
  credentialRefused: (credential) => (credential.kind === "oauth" ? SIGN_IN_EXPIRED : KEY_REFUSED),
  env: (baseUrl, key) => ({ ANTHROPIC_BASE_URL: baseUrl, ...(key ? { ANTHROPIC_API_KEY: key } : {}) }),
  sdkBaseUrl: (prefixUrl) => prefixUrl,
  unreachableNotice:
    "Pods cannot reach Pier here (their network is none), so Claude Code in the chat gets your Anthropic credential in its own process's environment and what it spends is not metered; a claude typed in the terminal gets no credential from Pier and is not metered either.",
};

/** The API's error `type` for each of the gateway's refusals. */
const ERROR_TYPES: Record<GatewayRefusal, string> = {
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  unauthenticated: "authentication_error",
  no_credential: "authentication_error",
  credential_refused: "permission_error",
  budget_exceeded: "budget_exceeded",
  too_large: "request_too_large",
  bad_request: "invalid_request_error",
  unreachable: "api_error",
};

/** The request's headers for the API: its own, minus the pod's token, plus the real credential. */
export function upstreamHeaders(incoming: Headers, credential: ServiceCredential): Headers {
  const headers = describingHeaders(incoming, FORWARDED_REQUEST);
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

/** An error as the Anthropic API words it, so Claude Code shows its message. */
export function apiError(status: number, type: string, message: string): Response {
  return Response.json({ type: "error", error: { type, message } }, { status });
}
