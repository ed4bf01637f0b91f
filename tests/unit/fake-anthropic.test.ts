import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import Anthropic, { type APIError } from "@anthropic-ai/sdk";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";

// The fake is only worth something if the real SDK accepts it as the API, so every check goes through the SDK
// except the one that pins the raw event order.

const API_KEY = "sk-ant-test-fake-key";
const MODEL = "claude-sonnet-4-6";
const ASK = { model: MODEL, max_tokens: 1024, messages: [{ role: "user" as const, content: "Hi" }] };

describe("fake Anthropic API", () => {
  let fake: FakeAnthropic;
  let client: Anthropic;

  beforeEach(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    client = new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 });
  }, 60_000);
  afterEach(async () => {
    await fake.stop();
  }, 60_000);

  test("a streamed text answer arrives in several deltas, with the scripted stop reason and usage", async () => {
    const text = "Hello from the fake API — streamed in pieces, emoji 🚀 included.";
    fake.script({ text, usage: { input_tokens: 12, cache_read_input_tokens: 7 } });

    const deltas: string[] = [];
    const stream = client.messages.stream(ASK).on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();

    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join("")).toBe(text);
    expect(message.id).toStartWith("msg_");
    expect(message.model).toBe(MODEL);
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toMatchObject({ type: "text", text });
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 7 });
  });

  test("the wire carries the API's event sequence, each as `event:` + `data:` lines", async () => {
    fake.script({ text: "abcdefghij", stopReason: "max_tokens" });
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ ...ASK, stream: true }),
    });
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");

    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((chunk) => {
        const [eventLine, dataLine, ...rest] = chunk.split("\n");
        expect(rest).toEqual([]);
        const name = eventLine!.replace(/^event: /, "");
        const data = JSON.parse(dataLine!.replace(/^data: /, ""));
        expect(data.type).toBe(name);
        return data;
      });

    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[0].message).toMatchObject({ type: "message", role: "assistant", model: MODEL, content: [], stop_reason: null });
    expect(events[0].message.usage).toMatchObject({ input_tokens: 100, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(events.slice(3, 6).map((e) => e.delta.text)).toEqual(["abcd", "efgh", "ij"]);
    expect(events[7]).toMatchObject({ delta: { stop_reason: "max_tokens", stop_sequence: null }, usage: { output_tokens: 50 } });
  });

  test("a tool_use step yields a tool_use block whose input is the scripted object", async () => {
    const input = { path: "src/main.ts", lines: [1, 20], options: { follow: true, note: "ünïcode 🚀 \"quoted\"" } };
    fake.script({ toolUse: { name: "read_file", input }, text: "Let me look." });

    const jsonPieces: string[] = [];
    const message = await client.messages
      .stream(ASK)
      .on("inputJson", (piece) => jsonPieces.push(piece))
      .finalMessage();

    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toHaveLength(2);
    expect(message.content[0]).toMatchObject({ type: "text", text: "Let me look." });
    const tool = message.content[1]!;
    if (tool.type !== "tool_use") throw new Error(`expected a tool_use block, got ${tool.type}`);
    expect(tool.name).toBe("read_file");
    expect(tool.id).toStartWith("toolu_");
    expect(tool.input).toEqual(input);
    expect(jsonPieces.length).toBeGreaterThan(3);
  });

  test("a scripted tool id is used as given", async () => {
    fake.script({ toolUse: { name: "noop", input: {}, id: "toolu_fixed" } });
    const message = await client.messages.stream(ASK).finalMessage();
    expect(message.content).toMatchObject([{ type: "tool_use", id: "toolu_fixed", name: "noop", input: {} }]);
  });

  test("a non-streaming request gets the complete message", async () => {
    fake.script({ toolUse: { name: "ls", input: { dir: "." } }, text: "Listing.", usage: { output_tokens: 9 } });
    const message = await client.messages.create(ASK);
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: MODEL,
      stop_reason: "tool_use",
      content: [
        { type: "text", text: "Listing." },
        { type: "tool_use", name: "ls", input: { dir: "." } },
      ],
      usage: { input_tokens: 100, output_tokens: 9 },
    });
  });

  test("a wrong key is refused with the API's authentication error, and still recorded", async () => {
    fake.script({ text: "never sent" });
    const wrong = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: fake.url, maxRetries: 0 });
    const error = await wrong.messages.stream(ASK).finalMessage().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.headers.authorization).toBe("Bearer sk-ant-wrong");
    // The refused request did not use up the script.
    expect(await client.messages.stream(ASK).finalText()).toBe("never sent");
  });

  test("a 429 step throws RateLimitError, and the SDK's own retry gets past it", async () => {
    fake.script({ status: 429, retryAfterSeconds: 0 });
    const error = await client.messages.stream(ASK).finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).headers.get("retry-after")).toBe("0");

    const retrying = new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 1 });
    fake.script({ status: 429, retryAfterSeconds: 0 }, { text: "after the retry" });
    expect(await retrying.messages.stream(ASK).finalText()).toBe("after the retry");
    expect(fake.requests).toHaveLength(3);
  });

  test("other error steps map to the SDK's error classes", async () => {
    fake.script({ status: 529, message: "busy" }, { status: 500 }, { status: 400, message: "bad field" });
    const failures = [];
    for (let i = 0; i < 3; i++) failures.push(await client.messages.create(ASK).catch((e: unknown) => e));
    expect(failures[0]).toBeInstanceOf(Anthropic.OverloadedError);
    expect(failures[1]).toBeInstanceOf(Anthropic.InternalServerError);
    expect(failures[2]).toBeInstanceOf(Anthropic.BadRequestError);
    expect((failures[0] as APIError).type).toBe("overloaded_error");
    expect((failures[2] as APIError).apiMessage).toBe("bad field");
  });

  test("a request with nothing scripted fails at once, saying so, without SDK retries", async () => {
    const eager = new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 2 });
    const error = await eager.messages.create(ASK).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect(String((error as Error).message)).toContain("scripted no answer");
    expect(fake.requests).toHaveLength(1);
  });

  test("requests are recorded with the Bearer and anthropic-version headers and the parsed body", async () => {
    fake.script({ text: "one" }, { text: "two" });
    await client.messages.stream(ASK).finalMessage();
    await client.messages.create({ ...ASK, system: "be brief" });

    expect(fake.requests).toHaveLength(2);
    const [streamed, plain] = fake.requests;
    expect(streamed!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(streamed!.headers["anthropic-version"]).toBe("2026-10-21");
    expect(streamed!.body).toMatchObject({ ...ASK, stream: true });
    expect(plain!.body).toMatchObject({ ...ASK, system: "be brief" });
    expect(plain!.body.stream).toBeFalsy();
  });

  test("chunkDelayMs spreads the deltas out in time", async () => {
    fake.script({ text: "abcdefghi", chunkDelayMs: 60 });
    const times: number[] = [];
    await client.messages
      .stream(ASK)
      .on("text", () => times.push(performance.now()))
      .finalMessage();
    expect(times).toHaveLength(3);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(100);
  });

  test("a client can abort during delayMs; the server stays healthy for the next request", async () => {
    fake.script({ text: "too late", delayMs: 5_000 }, { text: "next" });
    const started = performance.now();
    const stream = client.messages.stream(ASK);
    setTimeout(() => stream.abort(), 50);
    const error = await stream.finalMessage().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await client.messages.stream(ASK).finalText()).toBe("next");
  });

  test("a client can abort mid-stream; the stream stops and the server stays healthy", async () => {
    fake.script({ text: "x".repeat(200), chunkDelayMs: 100 }, { text: "next" });
    const stream = client.messages.stream(ASK);
    const deltas: string[] = [];
    stream.on("text", (delta) => {
      deltas.push(delta);
      stream.abort();
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(deltas).toHaveLength(1);
    expect(await client.messages.stream(ASK).finalText()).toBe("next");
  });
});
