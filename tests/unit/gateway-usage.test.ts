import { describe, expect, test } from "bun:test";
import { MESSAGES_USAGE } from "../../src/gateway/services/anthropic.ts";
import { GENERATE_CONTENT_USAGE } from "../../src/gateway/services/gemini.ts";
import { CHAT_COMPLETIONS_USAGE, RESPONSES_USAGE } from "../../src/gateway/services/openai.ts";
import { JsonUsageReader, type MeteredResponse, SseUsageReader, type UsageReader, type UsageWire, usageReaderFor } from "../../src/gateway/usage-reader.ts";

const sseReader = () => usageReaderFor(MESSAGES_USAGE, "text/event-stream")!;
const jsonReader = () => usageReaderFor(MESSAGES_USAGE, "application/json")!;

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** A stream as the API sends it, with a model name and a text holding multi-byte characters. */
const STREAM =
  event("message_start", {
    type: "message_start",
    message: { id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-6", content: [], usage: { input_tokens: 1200, output_tokens: 1, cache_creation_input_tokens: 2000, cache_read_input_tokens: 50000 } },
  }) +
  event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
  event("ping", { type: "ping" }) +
  event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "naïve 🚀 \"message_delta\" in text" } }) +
  event("content_block_stop", { type: "content_block_stop", index: 0 }) +
  event("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 345 } }) +
  event("message_stop", { type: "message_stop" });

const WANTED = { model: "claude-sonnet-4-6", usage: { inputTokens: 1200, outputTokens: 345, cacheWriteTokens: 2000, cacheReadTokens: 50000 } };

function readInPieces(bytes: Uint8Array, cuts: number[]) {
  const reader: UsageReader = sseReader();
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.push(bytes.slice(at, cut));
    at = cut;
  }
  return reader.result();
}

describe("the gateway's SSE usage reader", () => {
  const bytes = new TextEncoder().encode(STREAM);

  test("reads the model and the final usage from a whole stream", () => {
    expect(readInPieces(bytes, [])).toEqual(WANTED);
  });

  test("gives the same answer wherever the chunks are cut, even inside a UTF-8 character or a line end", () => {
    for (let cut = 1; cut < bytes.length; cut++) expect(readInPieces(bytes, [cut])).toEqual(WANTED);
    for (let size = 1; size <= 7; size++) {
      const cuts = Array.from({ length: Math.floor(bytes.length / size) }, (_, i) => (i + 1) * size).filter((cut) => cut < bytes.length);
      expect(readInPieces(bytes, cuts)).toEqual(WANTED);
    }
  });

  test("CRLF line ends, even cut between \\r and \\n, read the same", () => {
    const crlf = new TextEncoder().encode(STREAM.replaceAll("\n", "\r\n"));
    for (let cut = 1; cut < crlf.length; cut += 3) expect(readInPieces(crlf, [cut])).toEqual(WANTED);
  });

  test("a stream cut off after message_start still says what it used so far", () => {
    const start = STREAM.slice(0, STREAM.indexOf("event: content_block_start"));
    expect(readInPieces(new TextEncoder().encode(start), [])).toEqual({ model: "claude-sonnet-4-6", usage: { inputTokens: 1200, outputTokens: 1, cacheWriteTokens: 2000, cacheReadTokens: 50000 } });
  });

  test("a stream with no message_start (an error event) says nothing", () => {
    const error = event("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    expect(readInPieces(new TextEncoder().encode(error), [])).toBeNull();
  });

  test("a huge line is skipped without being kept, and the events after it are still read", () => {
    const huge = `event: content_block_delta\ndata: ${"x".repeat(3 * 1024 * 1024)}\n\n`;
    const text = STREAM.replace("event: content_block_stop", `${huge}event: content_block_stop`);
    const data = new TextEncoder().encode(text);
    const cuts = Array.from({ length: Math.floor(data.length / 65536) }, (_, i) => (i + 1) * 65536);
    expect(readInPieces(data, cuts)).toEqual(WANTED);
  });
});

describe("the gateway's JSON usage reader", () => {
  test("reads model and usage from a whole answer, cut anywhere", () => {
    const answer = new TextEncoder().encode(JSON.stringify({ id: "msg_1", type: "message", model: "claude-haiku-4-5", content: [{ type: "text", text: "é" }], usage: { input_tokens: 7, output_tokens: 9 } }));
    for (let cut = 1; cut < answer.length; cut += 5) {
      const reader = jsonReader();
      reader.push(answer.slice(0, cut));
      reader.push(answer.slice(cut));
      expect(reader.result()).toEqual({ model: "claude-haiku-4-5", usage: { inputTokens: 7, outputTokens: 9, cacheWriteTokens: 0, cacheReadTokens: 0 } });
    }
  });

  test("an answer without usage (count_tokens) says nothing", () => {
    const reader = jsonReader();
    reader.push(new TextEncoder().encode(JSON.stringify({ input_tokens: 42 })));
    expect(reader.result()).toBeNull();
  });

  test("readers by content type", () => {
    expect(usageReaderFor(MESSAGES_USAGE, "text/event-stream; charset=utf-8")).toBeInstanceOf(SseUsageReader);
    expect(usageReaderFor(MESSAGES_USAGE, "application/json")).toBeInstanceOf(JsonUsageReader);
    expect(usageReaderFor(MESSAGES_USAGE, "text/html")).toBeNull();
    expect(usageReaderFor(MESSAGES_USAGE, null)).toBeNull();
  });
});

/** Reads the bytes cut at `cut` (and, when given, at every `every` bytes) through a fresh reader of the wire. */
function readCut(wire: UsageWire, contentType: string, text: string, cuts: number[], requestedModel: string | null = null) {
  const bytes = new TextEncoder().encode(text);
  const reader = usageReaderFor(wire, contentType, requestedModel)!;
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.push(bytes.slice(at, cut));
    at = cut;
  }
  return reader.result();
}

/** The same answer wherever one cut falls, and in pieces of 1 to 5 bytes. */
function expectEverywhere(wire: UsageWire, contentType: string, text: string, wanted: MeteredResponse, requestedModel: string | null = null) {
  const length = new TextEncoder().encode(text).length;
  for (let cut = 1; cut < length; cut++) expect(readCut(wire, contentType, text, [cut], requestedModel)).toEqual(wanted);
  for (let size = 1; size <= 5; size++) {
    const cuts = Array.from({ length: Math.floor(length / size) }, (_, i) => (i + 1) * size).filter((cut) => cut < length);
    expect(readCut(wire, contentType, text, cuts, requestedModel)).toEqual(wanted);
  }
}

describe("the OpenAI API's usage", () => {
  const chunk = (delta: unknown, usage: unknown) => `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", model: "gpt-5.4-2026-03-05", choices: delta ? [{ index: 0, delta }] : [], usage })}\n\n`;

  test("a chat completion stream: the last chunk's usage, cached input apart, reasoning in the output", () => {
    const stream = chunk({ role: "assistant", content: "" }, null) + chunk({ content: "naïve 🚀 \"usage\": {" }, null) + chunk(null, { prompt_tokens: 1200, completion_tokens: 345, total_tokens: 1545, prompt_tokens_details: { cached_tokens: 200 }, completion_tokens_details: { reasoning_tokens: 100 } }) + "data: [DONE]\n\n";
    expectEverywhere(CHAT_COMPLETIONS_USAGE, "text/event-stream", stream, { model: "gpt-5.4-2026-03-05", usage: { inputTokens: 1000, outputTokens: 345, cacheWriteTokens: 0, cacheReadTokens: 200 } });
  });

  test("a chat completion stream never asked for its usage says nothing", () => {
    const stream = chunk({ content: "hi" }, undefined) + "data: [DONE]\n\n";
    expect(readCut(CHAT_COMPLETIONS_USAGE, "text/event-stream", stream, [])).toBeNull();
  });

  test("a Responses stream: response.completed's usage, read through events of megabytes that repeat the request's instructions", () => {
    const response = (usage: unknown) => ({ id: "resp_1", object: "response", status: usage ? "completed" : "in_progress", instructions: "i".repeat(3 * 1024 * 1024), model: "gpt-5.3-codex", output: [], tools: [], usage });
    const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const stream =
      event("response.created", { response: response(null) }) +
      event("response.output_text.delta", { delta: "\"usage\":{\"input_tokens\":1}" }) +
      event("response.completed", { response: response({ input_tokens: 40_000, input_tokens_details: { cached_tokens: 30_000 }, output_tokens: 900, output_tokens_details: { reasoning_tokens: 600 }, total_tokens: 40_900 }) });
    const cuts = Array.from({ length: Math.floor(stream.length / 65_536) }, (_, i) => (i + 1) * 65_536);
    expect(readCut(RESPONSES_USAGE, "text/event-stream", stream, cuts)).toEqual({ model: "gpt-5.3-codex", usage: { inputTokens: 10_000, outputTokens: 900, cacheWriteTokens: 0, cacheReadTokens: 30_000 } });
    // Cut off after response.created: the model is known, what it used is not.
    const created = stream.slice(0, stream.indexOf("event: response.output_text.delta"));
    expect(readCut(RESPONSES_USAGE, "text/event-stream", created, cuts.filter((cut) => cut < created.length))).toBeNull();
  });

  test("a whole Responses answer, its instructions however long, cut anywhere", () => {
    const answer = JSON.stringify({ id: "resp_1", object: "response", model: "gpt-5.4", instructions: "é".repeat(40), output: [{ type: "message", content: [{ type: "output_text", text: "usage" }] }], usage: { input_tokens: 300, input_tokens_details: { cached_tokens: 100 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 0 } } });
    expectEverywhere(RESPONSES_USAGE, "application/json", answer, { model: "gpt-5.4", usage: { inputTokens: 200, outputTokens: 20, cacheWriteTokens: 0, cacheReadTokens: 100 } });
  });
});

describe("the Gemini API's usage", () => {
  const chunk = (text: string, usage: Record<string, number>) => ({ candidates: [{ content: { parts: [{ text }], role: "model" }, index: 0 }], usageMetadata: usage, modelVersion: "gemini-2.5-flash" });
  const chunks = [chunk("naïve ", { promptTokenCount: 5000, candidatesTokenCount: 20, cachedContentTokenCount: 4000 }), chunk("🚀 done", { promptTokenCount: 5000, candidatesTokenCount: 80, cachedContentTokenCount: 4000, thoughtsTokenCount: 120, toolUsePromptTokenCount: 10 })];
  const WANTED = { model: "gemini-2.5-flash", usage: { inputTokens: 1010, outputTokens: 200, cacheWriteTokens: 0, cacheReadTokens: 4000 } };

  test("an SSE stream (alt=sse), its events cut by \\r\\n\\r\\n: the last chunk's totals, thoughts paid as output", () => {
    expectEverywhere(GENERATE_CONTENT_USAGE, "text/event-stream", chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(""), WANTED);
  });

  test("a JSON array streamed element by element, pretty-printed as the API sends it; cut short, the counts so far", () => {
    const array = `[${chunks.map((c) => JSON.stringify(c, null, 2)).join("\n,\r\n")}\n]`;
    expectEverywhere(GENERATE_CONTENT_USAGE, "application/json", array, WANTED);
    const first = array.slice(0, array.indexOf("\n,\r\n"));
    expect(readCut(GENERATE_CONTENT_USAGE, "application/json", first, [])).toEqual({ model: "gemini-2.5-flash", usage: { inputTokens: 1000, outputTokens: 20, cacheWriteTokens: 0, cacheReadTokens: 4000 } });
  });

  test("an answer without a modelVersion is the model its request's path named", () => {
    const answer = JSON.stringify({ candidates: [], usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3 } });
    expect(readCut(GENERATE_CONTENT_USAGE, "application/json", answer, [], "gemini-2.5-pro")).toEqual({ model: "gemini-2.5-pro", usage: { inputTokens: 7, outputTokens: 3, cacheWriteTokens: 0, cacheReadTokens: 0 } });
  });
});

describe("the gateway's SSE reading", () => {
  test("data split over several lines is one event's data, with or without the space after the colon", () => {
    const stream = 'event: message_start\ndata:{"type":"message_start",\ndata: "message":{"model":"claude-haiku-4-5","usage":{"input_tokens":5,"output_tokens":1}}}\n\n: a comment\nid: 7\n\n';
    expectEverywhere(MESSAGES_USAGE, "text/event-stream", stream, { model: "claude-haiku-4-5", usage: { inputTokens: 5, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 } });
  });
});
