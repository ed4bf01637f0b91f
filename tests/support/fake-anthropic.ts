/**
 * A stand-in for the Anthropic Messages API, for tests.
 *
 * The API cannot be reached from the test machine, so tests replace it at the network edge only:
 * Pier (through the real `@anthropic-ai/sdk`) talks HTTP to this server exactly as it would to
 * api.anthropic.com. Everything above the socket — the SDK's SSE parsing, its error classes, its
 * retries — runs for real, so the wire format here follows what SDK 1.11.0 parses
 * (src/core/streaming.ts, src/lib/MessageStream.ts, src/resources/messages/messages.ts).
 *
 * A test queues answers with `script(...)`; each POST /v1/messages takes the next one, in order.
 */

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type Step =
  // finalDelayMs: held after the last content block, before message_delta (which carries the final usage).
  // cut: the stream stops after that many text pieces, by dropping the connection ("drop") or with
  // the API's own mid-stream `error` event ("overloaded"), as a real answer can be cut off.
  // heldUntil: nothing is answered until it settles, so a test can look at what Pier shows while
  // it waits for the model, however slow the machine (a delayMs window can pass unseen under load).
  | { text: string; stopReason?: "end_turn" | "max_tokens"; usage?: Partial<FakeUsage>; delayMs?: number; chunkDelayMs?: number; finalDelayMs?: number; cut?: { afterChunks: number; how: "drop" | "overloaded" }; heldUntil?: Promise<unknown> }
  // An optional text block first, then one tool_use block; stop_reason "tool_use". delayMs as for text.
  | { toolUse: { name: string; input: unknown; id?: string }; text?: string; usage?: Partial<FakeUsage>; delayMs?: number }
  | { status: 429 | 500 | 529 | 400 | 401; message?: string; retryAfterSeconds?: number };

export interface RecordedRequest {
  /** The path and query, e.g. /v1/messages?beta=true (Claude Code's). */
  path: string;
  /** Header names are lower-case, as `Headers` gives them. */
  headers: Record<string, string>;
  /** The parsed JSON body (the raw text if it was not JSON). */
  body: any;
  /** When it arrived (epoch milliseconds). */
  receivedAt: number;
}

export interface FakeAnthropic {
  /** e.g. http://127.0.0.1:PORT — what Pier gets as ANTHROPIC_BASE_URL. */
  url: string;
  /** Queues answers for the next requests, in order. */
  script(...steps: Step[]): void;
  /**
   * Queues answers for the next requests that `match` (by their body), apart from the main queue:
   * for a request Pier makes on its own while a conversation runs (a task's verification report).
   */
  scriptWhen(match: (body: any) => boolean, ...steps: Step[]): void;
  /** Every /v1/messages request, in order, including refused ones. */
  requests: RecordedRequest[];
  /** Every request that reached the fake, whatever its method and path (e.g. "POST /v1/messages?beta=true"), in order. */
  hits: string[];
  /** The body of each successful answer, exactly as it was sent (every byte of an SSE stream), in order. */
  answers: string[];
  stop(): Promise<void>;
}

type ErrorStep = Extract<Step, { status: number }>;
type ToolStep = Extract<Step, { toolUse: unknown }>;

const DEFAULT_USAGE: FakeUsage = { input_tokens: 100, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

/** The API's error `type` for each status a step can ask for. */
const ERROR_TYPES: Record<ErrorStep["status"], { type: string; message: string }> = {
  400: { type: "invalid_request_error", message: "Invalid request." },
  401: { type: "authentication_error", message: "invalid x-api-key" },
  429: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit." },
  500: { type: "api_error", message: "Internal server error" },
  529: { type: "overloaded_error", message: "Overloaded" },
};

/** Longest text_delta; short texts are still cut in at least three pieces so streaming is observable. */
const MAX_TEXT_CHUNK = 16;
/** Varying piece sizes for input_json_delta, so cuts land mid-key, mid-string and mid-number. */
const JSON_PIECE_SIZES = [3, 7, 2, 11, 5];

/**
 * `apiKey` is accepted as the API takes a key (x-api-key, or Authorization: Bearer as SDK 1.11
 * sends it), and so is each of `otherApiKeys` (people's own keys, to tell whose paid);
 * `oauthToken`, a Claude subscription's token, only as Authorization: Bearer with the oauth beta
 * flag in anthropic-beta, as the API takes one.
 */
export async function startFakeAnthropic(options: { apiKey: string; otherApiKeys?: string[]; oauthToken?: string }): Promise<FakeAnthropic> {
  const queue: Step[] = [];
  const matched: Array<{ match: (body: any) => boolean; steps: Step[] }> = [];
  const requests: RecordedRequest[] = [];
  const answers: string[] = [];
  const hits: string[] = [];
  const authenticated = (headers: Headers): boolean => {
    const bearer = headers.get("authorization");
    for (const key of [options.apiKey, ...(options.otherApiKeys ?? [])]) {
      if (headers.get("x-api-key") === key || bearer === `Bearer ${key}`) return true;
    }
    const betas = (headers.get("anthropic-beta") ?? "").split(",").map((beta) => beta.trim());
    return options.oauthToken !== undefined && bearer === `Bearer ${options.oauthToken}` && betas.includes("oauth-2025-04-20");
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // Bun's default 10 s idle timeout would cut a deliberately slow (delayMs) answer; tests bound time themselves.
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const path = url.pathname;
      hits.push(`${request.method} ${path}${url.search}`);
      if (request.method === "POST" && path === "/v1/messages/count_tokens") return countTokens(request, authenticated(request.headers));
      if (request.method !== "POST" || path !== "/v1/messages") {
        return errorResponse(404, "not_found_error", `fake-anthropic: no route for ${request.method} ${path}`);
      }

      const raw = await request.text();
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      requests.push({ path: url.pathname + url.search, headers: Object.fromEntries(request.headers), body, receivedAt: Date.now() });

      // Checked before a step is taken, so a refused request leaves the script for the next one.
      if (!authenticated(request.headers)) {
        return errorResponse(401, "authentication_error", "invalid x-api-key");
      }
      if (typeof body !== "object" || body === null) {
        return errorResponse(400, "invalid_request_error", "fake-anthropic: the request body is not a JSON object");
      }

      const step = matched.find((entry) => entry.steps.length > 0 && entry.match(body))?.steps.shift() ?? queue.shift();
      if (!step) {
        // `x-should-retry: false` stops the SDK from retrying, so the test fails at once on this message
        // instead of after backoff, and a retry cannot swallow a step the test queues later.
        return errorResponse(
          500,
          "api_error",
          `fake-anthropic: the test scripted no answer for request #${requests.length} (call script(...) before Pier calls the API)`,
          { "x-should-retry": "false" },
        );
      }

      if ("status" in step) {
        const headers: Record<string, string> = {};
        if ((step.status === 429 || step.status === 529) && step.retryAfterSeconds !== undefined) {
          headers["retry-after"] = String(step.retryAfterSeconds);
        }
        const { type, message } = ERROR_TYPES[step.status];
        return errorResponse(step.status, type, step.message ?? message, headers);
      }

      const answer = toAnswer(step, typeof body.model === "string" ? body.model : "claude-fake");
      // Held before any byte goes out (like a slow time to first token), so the client sits mid-request
      // and can interrupt it. Bun would hold a streamed response's headers until its first chunk anyway.
      if (answer.delayMs > 0) await sleep(answer.delayMs, request.signal);
      if (!isToolStep(step) && step.heldUntil) await step.heldUntil;
      // Nobody is left to read an answer; Bun discards whatever is returned.
      if (request.signal.aborted) return new Response(null, { status: 499 });

      if (body.stream === true) {
        const slot = answers.push("") - 1;
        return streamResponse(answer, request.signal, (text) => (answers[slot] += text));
      }
      const complete = JSON.stringify(completeMessage(answer));
      answers.push(complete);
      return new Response(complete, { headers: { "content-type": "application/json", "request-id": newId("req_") } });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    script(...steps) {
      queue.push(...steps);
    },
    scriptWhen(match, ...steps) {
      matched.push({ match, steps });
    },
    requests,
    answers,
    hits,
    async stop() {
      // Closing active connections too, so a test that ends mid-stream does not hang here.
      await server.stop(true);
    },
  };
}

/** One content block of an answer, with its full content (the stream sends it in pieces). */
type Block = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: unknown };

/** A success step, resolved into what both the streamed and the complete form are built from. */
interface Answer {
  id: string;
  model: string;
  blocks: Block[];
  stopReason: "end_turn" | "max_tokens" | "tool_use";
  usage: FakeUsage;
  delayMs: number;
  chunkDelayMs: number;
  finalDelayMs: number;
  cut: { afterChunks: number; how: "drop" | "overloaded" } | null;
}

function toAnswer(step: Exclude<Step, ErrorStep>, model: string): Answer {
  const usage = { ...DEFAULT_USAGE, ...step.usage };
  const base = { id: newId("msg_"), model, usage };
  if (isToolStep(step)) {
    const blocks: Block[] = [];
    if (step.text !== undefined) blocks.push({ type: "text", text: step.text });
    const { name, input, id = newId("toolu_") } = step.toolUse;
    blocks.push({ type: "tool_use", id, name, input });
    return { ...base, blocks, stopReason: "tool_use", delayMs: step.delayMs ?? 0, chunkDelayMs: 0, finalDelayMs: 0, cut: null };
  }
  return {
    ...base,
    blocks: [{ type: "text", text: step.text }],
    stopReason: step.stopReason ?? "end_turn",
    delayMs: step.delayMs ?? 0,
    chunkDelayMs: step.chunkDelayMs ?? 0,
    finalDelayMs: step.finalDelayMs ?? 0,
    cut: step.cut ?? null,
  };
}

function isToolStep(step: Exclude<Step, ErrorStep>): step is ToolStep {
  return "toolUse" in step;
}

/**
 * The message object as the API returns it. Fields the SDK's `Message` type declares but this fake
 * has nothing to say about (container, stop_details, diagnostics) are sent as null, like the API does.
 */
function messageObject(answer: Answer, content: unknown[], stopReason: Answer["stopReason"] | null, outputTokens: number) {
  return {
    id: answer.id,
    type: "message",
    role: "assistant",
    model: answer.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: answer.usage.input_tokens,
      cache_creation_input_tokens: answer.usage.cache_creation_input_tokens,
      cache_read_input_tokens: answer.usage.cache_read_input_tokens,
      cache_creation: { ephemeral_5m_input_tokens: answer.usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
      output_tokens: outputTokens,
      service_tier: "standard",
    },
  };
}

/** A content block in its finished form (also the shape content_block_start sends, with the content emptied). */
function blockObject(block: Block): Record<string, unknown> {
  if (block.type === "text") return { type: "text", text: block.text, citations: null };
  return { type: "tool_use", id: block.id, name: block.name, input: block.input, caller: { type: "direct" } };
}

function completeMessage(answer: Answer) {
  return messageObject(answer, answer.blocks.map(blockObject), answer.stopReason, answer.usage.output_tokens);
}

/**
 * The SSE stream, in the order the API sends it:
 *   message_start, then per block content_block_start / content_block_delta… / content_block_stop
 *   (with one ping after the first content_block_start, where the API sends it),
 *   then message_delta and message_stop.
 */
function streamResponse(answer: Answer, clientGone: AbortSignal, sent: (text: string) => void): Response {
  const encoder = new TextEncoder();
  // Set when the client disconnects: Bun aborts the request's signal and cancels the body stream.
  let stopped = clientGone.aborted;
  const halt = new AbortController();
  clientGone.addEventListener("abort", () => {
    stopped = true;
    halt.abort();
  });

  async function pump(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const send = (name: string, data: unknown): void => {
      if (stopped) return;
      const text = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
      sent(text);
      controller.enqueue(encoder.encode(text));
    };
    const pause = async (ms: number): Promise<void> => {
      if (ms > 0 && !stopped) await sleep(ms, halt.signal);
    };

    // The answer stops here: the connection drops (the client sees the body fail; Bun prints the
    // error as it drops it, which is expected), or the API says why.
    const cutOff = (how: "drop" | "overloaded"): void => {
      if (stopped) return;
      stopped = true;
      if (how === "drop") return controller.error(new Error("fake-anthropic: connection dropped mid-answer"));
      const text = `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })}\n\n`;
      sent(text);
      controller.enqueue(encoder.encode(text));
      controller.close();
    };

    send("message_start", { type: "message_start", message: messageObject(answer, [], null, 1) });

    for (const [index, block] of answer.blocks.entries()) {
      if (stopped) return;
      if (block.type === "text") {
        send("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "", citations: null } });
        if (index === 0) send("ping", { type: "ping" });
        for (const [n, piece] of textChunks(block.text).entries()) {
          if (answer.cut && n === answer.cut.afterChunks) {
            // What was sent reaches the client first, as on a real connection that dies after it.
            await sleep(100, halt.signal);
            return cutOff(answer.cut.how);
          }
          if (n > 0) await pause(answer.chunkDelayMs);
          send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } });
        }
      } else {
        const start = { type: "tool_use", id: block.id, name: block.name, input: {}, caller: { type: "direct" } };
        send("content_block_start", { type: "content_block_start", index, content_block: start });
        if (index === 0) send("ping", { type: "ping" });
        for (const piece of jsonPieces(JSON.stringify(block.input ?? {}))) {
          send("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } });
        }
      }
      send("content_block_stop", { type: "content_block_stop", index });
    }

    await pause(answer.finalDelayMs);
    // The API's message_delta carries the final output count and repeats the cumulative input counts.
    send("message_delta", {
      type: "message_delta",
      delta: { stop_reason: answer.stopReason, stop_sequence: null, stop_details: null, container: null },
      usage: {
        input_tokens: answer.usage.input_tokens,
        cache_creation_input_tokens: answer.usage.cache_creation_input_tokens,
        cache_read_input_tokens: answer.usage.cache_read_input_tokens,
        output_tokens: answer.usage.output_tokens,
      },
    });
    send("message_stop", { type: "message_stop" });
    if (!stopped) controller.close();
  }

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // Not awaited: each event goes out as soon as it is produced, which is what makes streaming observable.
      pump(controller).catch((error) => {
        // Enqueueing can still race a disconnect; anything else is a bug in this fake and must surface.
        if (!stopped) controller.error(error);
      });
    },
    cancel() {
      stopped = true;
      halt.abort();
    },
  });

  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "request-id": newId("req_") },
  });
}

/** Cuts text into several text_delta pieces, on code points so no emoji is split in half. */
function textChunks(text: string): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const size = Math.max(1, Math.min(MAX_TEXT_CHUNK, Math.ceil(chars.length / 3)));
  const chunks: string[] = [];
  for (let i = 0; i < chars.length; i += size) chunks.push(chars.slice(i, i + size).join(""));
  return chunks;
}

/** Cuts serialized tool input at arbitrary (but repeatable) points, as the API's partial_json does. */
function jsonPieces(json: string): string[] {
  const chars = Array.from(json);
  const pieces: string[] = [];
  for (let i = 0, n = 0; i < chars.length; n++) {
    const size = JSON_PIECE_SIZES[n % JSON_PIECE_SIZES.length]!;
    pieces.push(chars.slice(i, i + size).join(""));
    i += size;
  }
  return pieces;
}

/**
 * POST /v1/messages/count_tokens, which Claude Code calls (its /context): the API answers
 * `{"input_tokens": n}` and nothing is billed; this fake counts a token per four characters of the body.
 */
async function countTokens(request: Request, authenticated: boolean): Promise<Response> {
  if (!authenticated) return errorResponse(401, "authentication_error", "invalid x-api-key");
  const raw = await request.text();
  return Response.json({ input_tokens: Math.ceil(raw.length / 4) }, { headers: { "request-id": newId("req_") } });
}

/** The API's error body: `{"type":"error","error":{"type","message"},"request_id"}`. */
function errorResponse(status: number, type: string, message: string, headers: Record<string, string> = {}): Response {
  const requestId = newId("req_");
  return Response.json(
    { type: "error", error: { type, message }, request_id: requestId },
    { status, headers: { "request-id": requestId, ...headers } },
  );
}

function newId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/** Waits `ms`, or less if `signal` aborts (then it resolves, so the caller just checks whether to go on). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
