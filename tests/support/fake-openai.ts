/**
 * A stand-in for the OpenAI API's two ways to ask a model, for tests: Chat Completions
 * (POST /v1/chat/completions) and Responses (POST /v1/responses), each streamed (SSE) or whole,
 * with usage as the API reports it (cached input and reasoning tokens in the details). The wire
 * format follows what the `openai` SDK 7.x parses (its chat completion chunks, its response
 * stream events), so tests drive it with the real SDK. A Responses answer may instead call a
 * tool: a function (JSON arguments) or a custom tool (free-form input, as Codex's apply_patch).
 *
 * A test queues answers with `script(...)`; each request takes the next one, in order.
 */
import { pieces, streamedBody } from "./fake-stream.ts";

export interface OpenAiUsage {
  /** Input tokens, cached ones included (as the API counts them). */
  input: number;
  output: number;
  /** Of the input, how many were read from the cache. */
  cached?: number;
  /** Of the output, how many were reasoning. */
  reasoning?: number;
}

/** A tool the model calls: a function with its arguments, or a custom tool with its free-form input. */
export type OpenAiToolCall = { name: string; arguments: Record<string, unknown> } | { name: string; input: string };

export type OpenAiStep =
  | { text: string; usage: OpenAiUsage; model?: string; chunkDelayMs?: number; heldUntil?: Promise<void> }
  /** Responses API only. */
  | { call: OpenAiToolCall; usage?: OpenAiUsage; model?: string }
  | { status: 400 | 401 | 429 | 500; message?: string };

/** The usage of a step that names none. */
const DEFAULT_USAGE: OpenAiUsage = { input: 100, output: 50 };

export interface OpenAiRequest {
  path: string;
  headers: Record<string, string>;
  body: any;
}

export interface FakeOpenAi {
  /** The API's base, version included (http://127.0.0.1:PORT/v1), as OPENAI_BASE_URL takes it. */
  url: string;
  script(...steps: OpenAiStep[]): void;
  /** Every request to a known path, in order, refused ones included. */
  requests: OpenAiRequest[];
  /** Every request that reached the fake ("POST /v1/files"), in order. */
  hits: string[];
  /** The body of each successful answer, exactly as sent, in order. */
  answers: string[];
  stop(): Promise<void>;
}

const ERRORS: Record<Extract<OpenAiStep, { status: number }>["status"], { type: string; code: string | null; message: string }> = {
  400: { type: "invalid_request_error", code: null, message: "Invalid request." },
  401: { type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided." },
  429: { type: "requests", code: "rate_limit_exceeded", message: "Rate limit reached." },
  500: { type: "server_error", code: null, message: "The server had an error while processing your request." },
};

/** `apiKeys`: the keys the API takes (as `Authorization: Bearer`), so a test tells whose paid. */
export async function startFakeOpenAi(options: { apiKeys: string[] }): Promise<FakeOpenAi> {
  const queue: OpenAiStep[] = [];
  const requests: OpenAiRequest[] = [];
  const hits: string[] = [];
  const answers: string[] = [];

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      hits.push(`${request.method} ${url.pathname}${url.search}`);
      const kind = request.method === "POST" && url.pathname === "/v1/chat/completions" ? "chat" : request.method === "POST" && url.pathname === "/v1/responses" ? "responses" : null;
      if (!kind) return apiError(404, "invalid_request_error", "unknown_url", `Invalid URL (${request.method} ${url.pathname})`);
      const raw = await request.text();
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      requests.push({ path: url.pathname + url.search, headers: Object.fromEntries(request.headers), body });
      const bearer = request.headers.get("authorization")?.replace(/^Bearer /, "");
      if (!bearer || !options.apiKeys.includes(bearer)) return apiError(401, ERRORS[401].type, ERRORS[401].code, ERRORS[401].message);
      const step = queue.shift();
      if (!step) return apiError(500, "server_error", null, `fake-openai: the test scripted no answer for request #${requests.length}`, { "x-should-retry": "false" });
      if ("status" in step) {
        const error = ERRORS[step.status];
        return apiError(step.status, error.type, error.code, step.message ?? error.message);
      }
      const model = step.model ?? (typeof body.model === "string" ? body.model : "gpt-fake");
      if (kind === "chat" && "call" in step) return apiError(500, "server_error", null, "fake-openai: tool calls are scripted for the Responses API only", { "x-should-retry": "false" });
      const answer = kind === "chat" ? chatAnswer(body, step as Extract<OpenAiStep, { text: string }>, model) : responsesAnswer(body, step, model);
      const slot = answers.push("") - 1;
      const sent = (text: string) => (answers[slot] += text);
      if (body.stream !== true) {
        const text = JSON.stringify(answer.whole);
        sent(text);
        return new Response(text, { headers: { "content-type": "application/json", "x-request-id": newId("req_") } });
      }
      const paced = "text" in step ? step : null;
      const events = answer.events.map(({ event, data }) => `${event ? `event: ${event}\n` : ""}data: ${data}\n\n`);
      const stream = streamedBody(events, { delayMs: paced?.chunkDelayMs ?? 0, sent, clientGone: request.signal, heldUntil: paced?.heldUntil });
      return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "x-request-id": newId("req_") } });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    script: (...steps) => void queue.push(...steps),
    requests,
    hits,
    answers,
    stop: () => server.stop(true),
  };
}

interface Answer {
  whole: unknown;
  /** The stream's events: a name (the Responses API's) or none (Chat Completions'), and the data. */
  events: Array<{ event: string | null; data: string }>;
}

function chatUsage(usage: OpenAiUsage) {
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning ?? 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** A chat completion, whole; or its chunks, the usage chunk (empty choices) last when the request asked for it, then [DONE]. */
function chatAnswer(body: any, step: Extract<OpenAiStep, { text: string }>, model: string): Answer {
  const id = newId("chatcmpl-");
  const created = Math.floor(Date.now() / 1000);
  const whole = {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: step.text, refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }],
    usage: chatUsage(step.usage),
    service_tier: "default",
    system_fingerprint: "fp_fake",
  };
  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choices: unknown[], usage: unknown) => JSON.stringify({ id, object: "chat.completion.chunk", created, model, service_tier: "default", system_fingerprint: "fp_fake", choices, ...(includeUsage ? { usage } : {}) });
  const events = [{ event: null, data: chunk([{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }], null) }];
  for (const piece of pieces(step.text)) events.push({ event: null, data: chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }], null) });
  events.push({ event: null, data: chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], null) });
  if (includeUsage) events.push({ event: null, data: chunk([], chatUsage(step.usage)) });
  events.push({ event: null, data: "[DONE]" });
  return { whole, events };
}

/**
 * A response object, whole; or its events from response.created to response.completed. Like the
 * real API, the response object repeats the request's instructions and tools, in every event that
 * carries it.
 */
function responsesAnswer(body: any, step: Exclude<OpenAiStep, { status: number }>, model: string): Answer {
  const id = newId("resp_");
  const createdAt = Math.floor(Date.now() / 1000);
  const used = step.usage ?? DEFAULT_USAGE;
  const usage = {
    input_tokens: used.input,
    input_tokens_details: { cached_tokens: used.cached ?? 0 },
    output_tokens: used.output,
    output_tokens_details: { reasoning_tokens: used.reasoning ?? 0 },
    total_tokens: used.input + used.output,
  };
  const response = (status: string, output: unknown[], used: unknown) => ({
    id,
    object: "response",
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: body.store ?? true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: body.tools ?? [],
    top_p: 1,
    truncation: "disabled",
    usage: used,
    user: null,
    metadata: {},
  });
  let sequence = 0;
  const events: Answer["events"] = [];
  const send = (type: string, data: Record<string, unknown>) => events.push({ event: type, data: JSON.stringify({ type, sequence_number: sequence++, ...data }) });
  send("response.created", { response: response("in_progress", [], null) });
  send("response.in_progress", { response: response("in_progress", [], null) });
  const item = "call" in step ? toolCallEvents(step.call, send) : messageEvents(step.text, send);
  send("response.completed", { response: response("completed", [item], usage) });
  return { whole: response("completed", [item], usage), events };
}

type Send = (type: string, data: Record<string, unknown>) => void;

/** An assistant message's events, its text in pieces; answers the finished item. */
function messageEvents(text: string, send: Send): unknown {
  const itemId = newId("msg_");
  const part = { type: "output_text", text, annotations: [], logprobs: [] };
  const item = { id: itemId, type: "message", status: "completed", role: "assistant", content: [part] };
  send("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } });
  send("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0, part: { ...part, text: "" } });
  for (const piece of pieces(text)) send("response.output_text.delta", { item_id: itemId, output_index: 0, content_index: 0, delta: piece, logprobs: [] });
  send("response.output_text.done", { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] });
  send("response.content_part.done", { item_id: itemId, output_index: 0, content_index: 0, part });
  send("response.output_item.done", { output_index: 0, item });
  return item;
}

/**
 * A tool call's events: a function call's arguments (a JSON string) or a custom tool call's
 * input streamed in pieces, then the whole item; answers the finished item.
 */
function toolCallEvents(call: OpenAiToolCall, send: Send): unknown {
  const custom = "input" in call;
  const itemId = newId(custom ? "ctc_" : "fc_");
  const callId = newId("call_");
  const value = custom ? call.input : JSON.stringify(call.arguments);
  const field = custom ? "input" : "arguments";
  const event = custom ? "response.custom_tool_call_input" : "response.function_call_arguments";
  const item = { id: itemId, type: custom ? "custom_tool_call" : "function_call", status: "completed", call_id: callId, name: call.name, [field]: value };
  send("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", [field]: "" } });
  for (const piece of pieces(value)) send(`${event}.delta`, { item_id: itemId, output_index: 0, delta: piece });
  send(`${event}.done`, { item_id: itemId, output_index: 0, [field]: value });
  send("response.output_item.done", { output_index: 0, item });
  return item;
}

function apiError(status: number, type: string, code: string | null, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { message, type, param: null, code } }, { status, headers: { "x-request-id": newId("req_"), ...headers } });
}

function newId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}
