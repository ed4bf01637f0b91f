/**
 * Faults of the model service, under Pier's own agent (the Anthropic SDK against the suite's fake
 * API, on the local runtime): 429 with retry-after, 529, 500, and an answer cut off mid-stream.
 * Each test names what it broke and what held. The back-off is shortened through
 * PIER_MODEL_RETRY_FIRST_MS; a retry-after the service sends is honoured as sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-model-faults-000000000000";
const ANSWER = "The whole answer, streamed in several pieces, arrives exactly once.";

describe("faults of the model service", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-model-faults-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });
  const transcript = async () => (await (await pier.fetch(`/api/sessions/${session.id}/transcript`, { headers: { cookie } })).json()) as Array<Record<string, any>>;
  /** What a viewer would show as the turn's text: the deltas since the last retry that discarded them, or the kept blocks. */
  const shownText = (events: Array<Record<string, any>>) => {
    let text = "";
    for (const event of events) {
      if (event.type === "text_delta") text += event.text;
      if (event.type === "retrying" && event.discardStreamed) text = "";
    }
    return text;
  };

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url, PIER_MODEL_RETRY_FIRST_MS: "50" }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("model-faults").path}`, "model-faults");
    session = await activeSession(pier, cookie, { repoId });
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("broke: 429 with retry-after 2 s, then 529, then 500 — held: the person is told each wait, retry-after is waited out, the answer comes once", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ status: 429, retryAfterSeconds: 2 }, { status: 529 }, { status: 500 }, { text: ANSWER });
    const before = fake.requests.length;
    const events = await chat.turn("Are you there?");
    const retries = events.filter((e) => e.type === "retrying");
    expect(retries.map((e) => e.reason)).toEqual(["The model service is busy (429)", "The model service is overloaded (529)", "The model service failed (500)"]);
    // The service's retry-after, then Pier's own (shortened) back-off, doubling.
    expect(retries.map((e) => e.delayMs)).toEqual([2000, 100, 200]);
    const times = fake.requests.slice(before).map((r) => r.receivedAt);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1900);
    expect(events.filter((e) => e.type === "assistant_message").map((e) => e.text)).toEqual([ANSWER]);
    expect(events.at(-1)).toMatchObject({ type: "turn_end", interrupted: false });
    chat.close();
  }, 60_000);

  test("broke: the connection dropped mid-answer, and an overloaded error mid-stream — held: the new try replaces what streamed, nothing shows twice", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script(
      { toolUse: { name: "write_file", input: { path: "cut.txt", content: "kept once\n" } }, text: "Writing the file first." },
      { text: ANSWER, cut: { afterChunks: 2, how: "drop" } },
      { text: ANSWER, cut: { afterChunks: 1, how: "overloaded" } },
      { text: ANSWER },
    );
    const events = await chat.turn("Write cut.txt, then tell me.");
    const retries = events.filter((e) => e.type === "retrying");
    expect(retries).toHaveLength(2);
    expect(retries.every((e) => e.discardStreamed === true)).toBe(true);
    expect(retries[1]!.reason).toContain("overloaded_error");
    // What a viewer shows, and what is kept: the answer once, whole.
    expect(shownText(events.slice(events.findIndex((e) => e.type === "tool_result")))).toBe(ANSWER);
    expect(events.filter((e) => e.type === "assistant_message").map((e) => e.text)).toEqual(["Writing the file first.", ANSWER]);
    expect(events.filter((e) => e.type === "tool_result")).toHaveLength(1);
    const items = await transcript();
    const asked = items.findIndex((item) => item.kind === "user" && item.text === "Write cut.txt, then tell me.");
    expect(items.slice(asked).filter((item) => item.kind === "assistant").map((item) => item.text)).toEqual(["Writing the file first.", ANSWER]);
    chat.close();
  }, 60_000);

  test("broke: the service kept answering 529 — held: the turn ends with the service's own sentence and keeps the message", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script(...Array.from({ length: 4 }, () => ({ status: 529 as const, message: "Overloaded: the service is under heavy load right now." })));
    const events = await chat.turn("Still there?");
    expect(events.filter((e) => e.type === "retrying")).toHaveLength(3);
    const error = events.find((e) => e.type === "error")!;
    expect(error.message).toContain("Overloaded: the service is under heavy load right now.");
    expect(error.message).toContain("(529)");
    expect(error.message).toContain("Your message is kept");
    expect(events.at(-1)).toMatchObject({ type: "turn_end" });
    const items = await transcript();
    expect(items.filter((item) => item.kind === "user").map((item) => item.text)).toContain("Still there?");
    chat.close();
  }, 60_000);

  test("broke: the API refused the key (401) — told: what to do and where, at once, without retrying", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ status: 401 });
    const before = fake.requests.length;
    const events = await chat.turn("Hello?");
    expect(fake.requests.length - before).toBe(1);
    expect(events.filter((e) => e.type === "retrying")).toEqual([]);
    expect(events.find((e) => e.type === "error")).toMatchObject({ code: "key_refused", tokensUrl: "/tokens" });
    chat.close();
  }, 60_000);

  test("broke: a viewer connected while the answer was streaming — held: its history carries the text so far, and the deltas continue it", async () => {
    const watcher = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: ANSWER, chunkDelayMs: 300 });
    const from = watcher.events.length;
    watcher.send("Stream slowly.");
    // Two pieces in, a second viewer arrives.
    for (const deadline = Date.now() + 10_000; watcher.events.slice(from).filter((e) => e.type === "text_delta").length < 2; ) {
      if (Date.now() > deadline) throw new Error("no streaming");
      await Bun.sleep(10);
    }
    const late = await ChatClient.connect(pier.url, session.id, headers());
    await late.next("turn_end");
    const history = late.events[0]!;
    expect(history.streaming).toBeTruthy();
    expect(ANSWER.startsWith(history.streaming)).toBe(true);
    const deltas = late.events.filter((e) => e.type === "text_delta").map((e) => e.text).join("");
    expect(history.streaming + deltas).toBe(ANSWER);
    watcher.close();
    late.close();
  }, 60_000);

  test("broke: a viewer connected while Pier waited out a 529 — held: its history says why and for how long", async () => {
    const watcher = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ status: 529, retryAfterSeconds: 3 }, { text: "After the wait." });
    const from = watcher.events.length;
    watcher.send("Wait for it.");
    await watcher.next("retrying", from);
    const late = await ChatClient.connect(pier.url, session.id, headers());
    const waiting = late.events[0]!.retrying;
    expect(waiting).toMatchObject({ attempt: 1, reason: "The model service is overloaded (529)" });
    expect(waiting.delayMs).toBeGreaterThan(0);
    expect(waiting.delayMs).toBeLessThanOrEqual(3000);
    await late.next("turn_end");
    expect(late.events.filter((e) => e.type === "assistant_message").map((e) => e.text)).toEqual(["After the wait."]);
    watcher.close();
    late.close();
  }, 60_000);
});
