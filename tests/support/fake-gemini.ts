/**
 * A stand-in for the Gemini API's content generation, for tests: POST
 * /v1beta/models/<model>:generateContent (or /v1/…) (one JSON answer), :streamGenerateContent (SSE with
 * `alt=sse`, as the @google/genai SDK asks, events cut by \r\n\r\n as the API sends them; without
 * it, one JSON array whose pretty-printed elements come as they are made) and :countTokens. Each
 * answer carries `usageMetadata` as the API reports it (a stream's chunks the counts so far, the
 * last the totals, thoughts and cached tokens apart) and the `modelVersion` that answered.
 *
 * An answer can also think first (a part with `thought: true`, as the API sends a model's thought
 * summaries when asked to include them) and call a function (a `functionCall` part, as a model
 * asks for a tool); it can be held until a promise settles, so a test can act while it waits.
 *
 * A test queues answers with `script(...)`; each generation takes the next one, in order.
 */
import { pieces, streamedBody } from "./fake-stream.ts";

export interface GeminiUsage {
  /** The prompt's tokens, cached ones included (as the API counts them). */
  prompt: number;
  candidates: number;
  cached?: number;
  thoughts?: number;
  toolUsePrompt?: number;
}

interface Answering {
  /** A thought summary streamed before the answer, as its own part (`thought: true`). */
  thought?: string;
  modelVersion?: string;
  chunkDelayMs?: number;
  /** Nothing is answered until it settles. */
  heldUntil?: Promise<unknown>;
}

export type GeminiStep =
  | ({ text: string; usage: GeminiUsage } & Answering)
  /** The model calls a tool: one `functionCall` part (after any text), finish reason STOP as the API gives it. */
  | ({ functionCall: { name: string; args: Record<string, unknown> }; text?: string; usage?: GeminiUsage } & Answering)
  | { status: 400 | 429 | 500; message?: string };

export interface GeminiRequest {
  /** The path and query, e.g. /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse. */
  path: string;
  headers: Record<string, string>;
  body: any;
}

export interface FakeGemini {
  /** e.g. http://127.0.0.1:PORT, as GEMINI_BASE_URL (or the SDK's GOOGLE_GEMINI_BASE_URL) takes it. */
  url: string;
  script(...steps: GeminiStep[]): void;
  requests: GeminiRequest[];
  hits: string[];
  answers: string[];
  stop(): Promise<void>;
}

/** Under each API version the SDKs call (@google/genai 3.x asks v1 unless told; the Gemini CLI v1beta). */
const MODEL_METHOD = /^\/(?:v1beta|v1|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

const STATUSES = { 400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL" } as const;

/** `apiKeys`: the keys the API takes (x-goog-api-key, or ?key=), so a test tells whose paid. */
export async function startFakeGemini(options: { apiKeys: string[] }): Promise<FakeGemini> {
  const queue: GeminiStep[] = [];
  const requests: GeminiRequest[] = [];
  const hits: string[] = [];
  const answers: string[] = [];

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      hits.push(`${request.method} ${url.pathname}${url.search}`);
      const match = request.method === "POST" ? MODEL_METHOD.exec(url.pathname) : null;
      if (!match) return apiError(404, "NOT_FOUND", `fake-gemini: no route for ${request.method} ${url.pathname}`);
      const raw = await request.text();
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      requests.push({ path: url.pathname + url.search, headers: Object.fromEntries(request.headers), body });
      const key = request.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
      if (!key || !options.apiKeys.includes(key)) {
        return apiError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID");
      }
      const [, model, method] = match;
      if (method === "countTokens") return Response.json({ totalTokens: Math.ceil(raw.length / 4) });
      const step = queue.shift();
      if (!step) return apiError(500, "INTERNAL", `fake-gemini: the test scripted no answer for request #${requests.length}`);
      if ("status" in step) return apiError(step.status, STATUSES[step.status], step.message ?? "The model is overloaded.");
      if (step.heldUntil) await step.heldUntil;
      if (request.signal.aborted) return new Response(null, { status: 499 });
      const chunks = answerChunks(step, step.modelVersion ?? model!);
      const slot = answers.push("") - 1;
      const sent = (text: string) => (answers[slot] += text);
      if (method === "generateContent") {
        const text = JSON.stringify(wholeAnswer(step, step.modelVersion ?? model!), null, 2);
        sent(text);
        return new Response(text, { headers: { "content-type": "application/json; charset=UTF-8" } });
      }
      const sse = url.searchParams.get("alt") === "sse";
      const parts = sse ? chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`) : chunks.map((chunk, i) => `${i === 0 ? "[" : "\n,\r\n"}${JSON.stringify(chunk, null, 2)}`).concat("\n]");
      const stream = streamedBody(parts, { delayMs: step.chunkDelayMs ?? 0, sent, clientGone: request.signal });
      return new Response(stream, { headers: { "content-type": sse ? "text/event-stream" : "application/json; charset=UTF-8" } });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    script: (...steps) => void queue.push(...steps),
    requests,
    hits,
    answers,
    stop: () => server.stop(true),
  };
}

type AnswerStep = Exclude<GeminiStep, { status: number }>;

const DEFAULT_USAGE: GeminiUsage = { prompt: 100, candidates: 10 };

function usageMetadata(usage: GeminiUsage, candidates: number, final: boolean) {
  return {
    promptTokenCount: usage.prompt,
    ...(candidates > 0 ? { candidatesTokenCount: candidates } : {}),
    ...(usage.cached ? { cachedContentTokenCount: usage.cached } : {}),
    ...(usage.toolUsePrompt ? { toolUsePromptTokenCount: usage.toolUsePrompt } : {}),
    ...(final && usage.thoughts ? { thoughtsTokenCount: usage.thoughts } : {}),
    totalTokenCount: usage.prompt + candidates + (usage.toolUsePrompt ?? 0) + (final ? (usage.thoughts ?? 0) : 0),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: usage.prompt }],
  };
}

/** An answer's parts, whole: its thought, its text, its function call. */
function answerParts(step: AnswerStep): unknown[] {
  return [
    ...(step.thought ? [{ text: step.thought, thought: true }] : []),
    ...(step.text ? [{ text: step.text }] : []),
    ...("functionCall" in step ? [{ functionCall: step.functionCall }] : []),
  ];
}

function wholeAnswer(step: AnswerStep, modelVersion: string) {
  const usage = step.usage ?? DEFAULT_USAGE;
  return {
    candidates: [{ content: { parts: answerParts(step), role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: usageMetadata(usage, usage.candidates, true),
    modelVersion,
    responseId: newId(),
  };
}

/**
 * The stream's chunks, each with the counts so far, the last with the totals and the finish
 * reason: the thought, then the text in pieces, then the function call whole (as the API sends one).
 */
function answerChunks(step: AnswerStep, modelVersion: string) {
  const usage = step.usage ?? DEFAULT_USAGE;
  const parts: unknown[][] = [
    ...(step.thought ? [[{ text: step.thought, thought: true }]] : []),
    ...(step.text ? pieces(step.text).map((text) => [{ text }]) : []),
    ...("functionCall" in step ? [[{ functionCall: step.functionCall }]] : []),
  ];
  const responseId = newId();
  return parts.map((chunkParts, i) => {
    const last = i === parts.length - 1;
    const candidates = last ? usage.candidates : Math.floor((usage.candidates * (i + 1)) / parts.length);
    return {
      candidates: [{ content: { parts: chunkParts, role: "model" }, ...(last ? { finishReason: "STOP" } : {}), index: 0 }],
      usageMetadata: usageMetadata(usage, candidates, last),
      modelVersion,
      responseId,
    };
  });
}

/** The API's error body: `{"error": {code, message, status, details}}`. */
function apiError(code: number, status: string, message: string, reason?: string): Response {
  const details = reason ? [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com" }] : [];
  return Response.json({ error: { code, message, status, details } }, { status: code });
}

function newId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 22);
}
