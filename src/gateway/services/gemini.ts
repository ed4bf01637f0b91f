import type { Usage } from "../../costs/usage.ts";
import { count, fields } from "../json-picker.ts";
import { type GatewayRefusal, type ModelService, describingHeaders } from "../model-service.ts";
import type { UsageWire } from "../usage-reader.ts";

/** Request headers passed on: the client's description of itself, none that authenticates or picks who pays (x-goog-user-project). */
const FORWARDED_REQUEST = /^(content-type|accept|user-agent|x-goog-api-client)$/;

/** A model's method, under an API version: what the Gemini CLI and the @google/genai SDK call. */
const MODEL_METHOD = /^\/(v1beta|v1|v1alpha)\/models\/([A-Za-z0-9][A-Za-z0-9._-]{0,99}):(generateContent|streamGenerateContent|countTokens)$/;

/**
 * `usageMetadata`: the prompt's count holds its cached tokens too (cachedContentTokenCount, paid
 * at the cache-read price instead), a tool-use prompt is counted apart and paid as input, and the
 * model's thoughts are counted apart from its answer and paid as output.
 */
function geminiUsage(value: unknown): Usage | null {
  const wire = fields(value);
  if (!wire) return null;
  const prompt = count(wire.promptTokenCount) ?? 0;
  const cached = Math.min(prompt, count(wire.cachedContentTokenCount) ?? 0);
  return {
    inputTokens: prompt - cached + (count(wire.toolUsePromptTokenCount) ?? 0),
    outputTokens: (count(wire.candidatesTokenCount) ?? 0) + (count(wire.thoughtsTokenCount) ?? 0),
    cacheWriteTokens: 0,
    cacheReadTokens: cached,
  };
}

/**
 * generateContent's answer, and each chunk of streamGenerateContent's, carries `usageMetadata`
 * (a stream's, the counts so far) and the `modelVersion` that answered. A stream comes as SSE
 * with `alt=sse`, and without it as one JSON array whose elements come as they are made.
 */
export const GENERATE_CONTENT_USAGE: UsageWire = {
  jsonPaths: ["$.modelVersion", "$.usageMetadata", "$.*.modelVersion", "$.*.usageMetadata"],
  eventPaths: ["$.modelVersion", "$.usageMetadata"],
  carriesUsage: (event) => event === "",
  pick(seen, key, value) {
    if (key === "modelVersion" && typeof value === "string" && value !== "") seen.model = value;
    else if (key === "usageMetadata") seen.usage = geminiUsage(value) ?? seen.usage;
  },
};

/**
 * The Gemini API's content generation, as the Gemini CLI calls it. Nothing else goes on with a
 * person's key: files, cached contents, batches and tuned models are objects of the project behind it.
 */
export const GEMINI: ModelService = {
  name: "gemini",
  label: "the Gemini API",
  forwards: "POST /v1beta/models/<model>:generateContent, :streamGenerateContent and :countTokens",
  route(apiPath) {
    const match = MODEL_METHOD.exec(apiPath);
    if (!match) return null;
    return { billed: match[3] !== "countTokens", usage: GENERATE_CONTENT_USAGE, model: match[2]! };
  },
  // The SDK sends its key as x-goog-api-key; a plain REST client may put it in the query, as the API allows.
  tokenOf: (request, url) => request.headers.get("x-goog-api-key") ?? url.searchParams.get("key") ?? undefined,
  async credentialFor(credentials, userId) {
    const key = await credentials.serviceKey(userId, "gemini");
    return key ? { kind: "apiKey", value: key } : null;
  },
  // Only how the answer is to come goes on: the session's token (key=) never does.
  upstreamUrl(baseUrl, apiPath, url) {
    const alt = url.searchParams.get("alt");
    return `${baseUrl.replace(/\/+$/, "")}${apiPath}${alt ? `?alt=${encodeURIComponent(alt)}` : ""}`;
  },
  upstreamHeaders(incoming, credential) {
    const headers = describingHeaders(incoming, FORWARDED_REQUEST);
    headers.set("x-goog-api-key", credential.value);
    return headers;
  },
  prepareBody: (_apiPath, body) => body,
  answerHeaders: /^(content-type|cache-control|retry-after)$/,
  refusal: (status, kind, message) =>
    Response.json(
      { error: { code: status, message, status: STATUSES[kind], details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: kind.toUpperCase(), domain: "pier" }] } },
      { status },
    ),
  credentialRefused: () => "The Gemini API refused the API key Pier sent for you: save a working key under Your credentials on the Tokens page (or ask an admin to fix the instance's), then try again.",
  env: (baseUrl, key) => ({ GOOGLE_GEMINI_BASE_URL: baseUrl, ...(key ? { GEMINI_API_KEY: key } : {}) }),
  sdkBaseUrl: (prefixUrl) => prefixUrl,
  unreachableNotice: "Pods cannot reach Pier here (their network is none), so the agent gets your Gemini API key in its own process's environment and what it spends is not metered.",
};

/** The API's `status` for each of the gateway's refusals (its ErrorInfo's reason names the refusal itself). */
const STATUSES: Record<GatewayRefusal, string> = {
  not_found: "NOT_FOUND",
  method_not_allowed: "UNIMPLEMENTED",
  unauthenticated: "UNAUTHENTICATED",
  no_credential: "UNAUTHENTICATED",
  credential_refused: "PERMISSION_DENIED",
  budget_exceeded: "RESOURCE_EXHAUSTED",
  too_large: "INVALID_ARGUMENT",
  bad_request: "INVALID_ARGUMENT",
  unreachable: "UNAVAILABLE",
};
