import { describe, expect, test } from "bun:test";
import { MESSAGES_USAGE } from "../../src/gateway/services/anthropic.ts";
import { JsonUsageReader, SseUsageReader, type UsageReader, usageReaderFor } from "../../src/gateway/usage-reader.ts";

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
