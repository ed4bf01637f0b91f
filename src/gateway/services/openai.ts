import type { Usage } from "../../costs/usage.ts";
import { count, fields } from "../json-picker.ts";
import { type GatewayRefusal, type ModelService, describingHeaders, keyOrBearer } from "../model-service.ts";
import type { UsageWire } from "../usage-reader.ts";

/**
 * Request headers passed on: the client's description of itself and of the request (Codex's
 * `originator` and its session and thread ids, `session_id`/`conversation_id` in older versions and
 * `session-id`/`thread-id` in newer ones, keep its prompt cache warm), none that authenticates or picks
 * whose organisation or project pays (OpenAI-Organization, OpenAI-Project: the key's own apply).
 */
const FORWARDED_REQUEST = /^(content-type|accept|user-agent|x-stainless-.+|openai-beta|originator|session_id|conversation_id|session-id|thread-id|x-client-request-id|idempotency-key)$/;

/**
 * The usage object of both APIs: input counts cached tokens too (their `*_details.cached_tokens`),
 * which the price table's cache-read price pays instead; output counts reasoning tokens too,
 * which are paid as output.
 */
function openaiUsage(value: unknown, names: { input: string; output: string; inputDetails: string }): Usage | null {
  const wire = fields(value);
  if (!wire) return null;
  const input = count(wire[names.input]) ?? 0;
  const cached = Math.min(input, count(fields(wire[names.inputDetails])?.cached_tokens) ?? 0);
  return { inputTokens: input - cached, outputTokens: count(wire[names.output]) ?? 0, cacheWriteTokens: 0, cacheReadTokens: cached };
}

/**
 * Chat Completions: a JSON answer's `model` and `usage`; a stream's chunks each name the model,
 * and the last one before `[DONE]` carries the usage (with `stream_options.include_usage`, which
 * the gateway asks for: see prepareBody). The others carry `"usage": null`.
 */
export const CHAT_COMPLETIONS_USAGE: UsageWire = {
  jsonPaths: ["$.model", "$.usage"],
  eventPaths: ["$.model", "$.usage"],
  carriesUsage: (event) => event === "",
  pick(seen, key, value) {
    if (key === "model" && typeof value === "string") seen.model = value;
    else if (key === "usage") seen.usage = openaiUsage(value, { input: "prompt_tokens", output: "completion_tokens", inputDetails: "prompt_tokens_details" }) ?? seen.usage;
  },
};

/** The Responses API's events that carry the response object, and with it the model and (once done) the usage. */
const RESPONSE_EVENTS = new Set(["", "response.created", "response.in_progress", "response.completed", "response.incomplete", "response.failed"]);

/**
 * Responses: a JSON answer is the response object; a stream's `response.created` names the model,
 * and `response.completed` (or `.incomplete`, `.failed`) carries the usage. These events repeat
 * the request's instructions and tools, so they are picked from as they pass, never held.
 */
export const RESPONSES_USAGE: UsageWire = {
  jsonPaths: ["$.model", "$.usage"],
  eventPaths: ["$.response.model", "$.response.usage"],
  carriesUsage: (event) => RESPONSE_EVENTS.has(event),
  pick(seen, key, value) {
    if (key === "model" && typeof value === "string") seen.model = value;
    else if (key === "usage") seen.usage = openaiUsage(value, { input: "input_tokens", output: "output_tokens", inputDetails: "input_tokens_details" }) ?? seen.usage;
  },
};

/**
 * The OpenAI API's two ways to ask a model, as Codex, opencode and most agents call them. Nothing
 * else goes on with a person's key: stored responses, files, batches and the rest are objects of
 * the whole organisation behind it, and their usage would never pass here to be metered.
 */
export const OPENAI: ModelService = {
  name: "openai",
  label: "the OpenAI API",
  forwards: "POST /v1/responses and /v1/chat/completions",
  route(apiPath) {
    if (apiPath === "/v1/responses") return { billed: true, usage: RESPONSES_USAGE, model: null };
    if (apiPath === "/v1/chat/completions") return { billed: true, usage: CHAT_COMPLETIONS_USAGE, model: null };
    return null;
  },
  tokenOf: keyOrBearer,
  async credentialFor(credentials, userId) {
    const key = await credentials.serviceKey(userId, "openai");
    return key ? { kind: "apiKey", value: key } : null;
  },
  // The base names the version (https://api.openai.com/v1), as the SDK's does.
  upstreamUrl: (baseUrl, apiPath, url) => `${baseUrl.replace(/\/+$/, "")}${apiPath.slice("/v1".length)}${url.search}`,
  upstreamHeaders(incoming, credential) {
    const headers = describingHeaders(incoming, FORWARDED_REQUEST);
    headers.set("authorization", `Bearer ${credential.value}`);
    return headers;
  },
  prepareBody(apiPath, body) {
    const request = body && parsedObject(body);
    if (!request) return body;
    if (apiPath === "/v1/responses" && request.background === true) {
      return OPENAI.refusal(400, "bad_request", "Pier's gateway does not take background responses: their usage would never pass through it to be metered. Ask without background.");
    }
    // A stream says what it used only when asked to; the gateway always asks, so every answer is metered.
    if (apiPath === "/v1/chat/completions" && request.stream === true && fields(request.stream_options)?.include_usage !== true) {
      request.stream_options = { ...fields(request.stream_options), include_usage: true };
      return new TextEncoder().encode(JSON.stringify(request));
    }
    return body;
  },
  answerHeaders: /^(content-type|cache-control|x-request-id|retry-after|x-should-retry|openai-processing-ms|openai-version|x-ratelimit-.+)$/,
  refusal: (status, kind, message) => Response.json({ error: { message, type: ERROR_TYPES[kind], param: null, code: ERROR_CODES[kind] } }, { status }),
  credentialRefused: () => "The OpenAI API refused the API key Pier sent for you: save a working key under Your credentials on the Tokens page (or ask an admin to fix the instance's), then try again.",
  env: (baseUrl, key) => ({ OPENAI_BASE_URL: baseUrl, ...(key ? { OPENAI_API_KEY: key } : {}) }),
  sdkBaseUrl: (prefixUrl) => `${prefixUrl}/v1`,
  unreachableNotice: "Pods cannot reach Pier here (their network is none), so the agent gets your OpenAI API key in its own process's environment and what it spends is not metered.",
};

/** The API's error `type` for each of the gateway's refusals (a budget's is Pier's own, as for Anthropic). */
const ERROR_TYPES: Record<GatewayRefusal, string> = {
  not_found: "invalid_request_error",
  method_not_allowed: "invalid_request_error",
  unauthenticated: "invalid_request_error",
  no_credential: "invalid_request_error",
  credential_refused: "invalid_request_error",
  budget_exceeded: "budget_exceeded",
  too_large: "invalid_request_error",
  bad_request: "invalid_request_error",
  unreachable: "server_error",
};

const ERROR_CODES: Record<GatewayRefusal, string | null> = {
  not_found: "unknown_url",
  method_not_allowed: null,
  unauthenticated: "invalid_api_key",
  no_credential: "no_credential",
  credential_refused: "credential_refused",
  budget_exceeded: "budget_exceeded",
  too_large: "request_too_large",
  bad_request: null,
  unreachable: null,
};

/** The body as a JSON object, or null when it is not one (the API says what is wrong with it). */
function parsedObject(body: Uint8Array): Record<string, unknown> | null {
  try {
    return fields(JSON.parse(new TextDecoder().decode(body)));
  } catch {
    return null;
  }
}
