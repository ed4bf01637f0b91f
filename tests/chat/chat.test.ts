import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-test-key-000000000000";

describe("the chat agent", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-chat-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let env: Record<string, string>;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });
  const sh = (script: string) => pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath });

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    env = { ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: fake.url };
    pier = await startTestPier(env, dataDir);
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("agent").path}`, "agent");
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("without an API key the agent says so and links to settings; the message is kept", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    const from = chat.events.length;
    chat.send("hello?");
    const error = await chat.next("error", from);
    expect(error.message).toContain("No Anthropic API key");
    expect(error.settingsUrl).toBe("/settings");
    expect(fake.requests).toHaveLength(0);
    chat.close();
    const again = await ChatClient.connect(pier.url, session.id, headers());
    expect(again.events[0]!.messages.map((m: any) => m.kind)).toEqual(["user", "error"]);
    again.close();
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  }, 60_000);

  test("a tool call writes a file the terminal then sees; a file written in the terminal is read by the agent", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script(
      { toolUse: { name: "write_file", input: { path: "notes/agent.txt", content: "written by the agent\n" } }, usage: { input_tokens: 1000, output_tokens: 200 } },
      { text: "I wrote notes/agent.txt.", usage: { input_tokens: 1200, output_tokens: 30 } },
    );
    const events = await chat.turn("Write a note.");
    expect(events.filter((e) => e.type === "text_delta").length).toBeGreaterThan(1);
    const result = events.find((e) => e.type === "tool_result")!;
    expect(result.isError).toBe(false);
    expect(result.diff).toContain("+written by the agent");
    const term = await TermClient.connect(pier.url, session.id, headers());
    await term.run("cat notes/agent.txt; stat -c %u notes/agent.txt", /written by the agent\r\n1000/);
    await term.run("echo 'from the terminal' > terminal.txt && echo done-$((1+1))", /done-2/);
    term.close();

    fake.script(
      { toolUse: { name: "read_file", input: { path: "terminal.txt" } } },
      { text: "It says: from the terminal." },
    );
    const read = await chat.turn("What does terminal.txt say?");
    expect(read.find((e) => e.type === "tool_result")!.output).toContain("from the terminal");
    // The model got the tool's result in its next request.
    const last = fake.requests.at(-1)!.body;
    expect(JSON.stringify(last.messages)).toContain("from the terminal");
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    chat.close();
  }, 60_000);

  test("edit refuses a match that is not unique; paths that escape the worktree are refused", async () => {
    writeFileSync(join(session.worktreePath, "twice.txt"), "same\nsame\n");
    symlinkSync("/etc", join(session.worktreePath, "etc-link"));
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script(
      { toolUse: { name: "edit_file", input: { path: "twice.txt", old_string: "same", new_string: "other" } } },
      { toolUse: { name: "read_file", input: { path: "../../../../../../etc/passwd" } } },
      { toolUse: { name: "read_file", input: { path: "/etc/passwd" } } },
      { toolUse: { name: "read_file", input: { path: "etc-link/passwd" } } },
      { toolUse: { name: "write_file", input: { path: "etc-link/pwned", content: "x" } } },
      { text: "Understood." },
    );
    const events = await chat.turn("Try some edits.");
    const results = events.filter((e) => e.type === "tool_result");
    expect(results.map((r) => r.isError)).toEqual([true, true, true, true, true]);
    expect(results[0]!.output).toContain("occurs 2 times");
    expect(results[1]!.output).toContain("outside the session's worktree");
    expect(results[2]!.output).toContain("outside the session's worktree");
    expect(results[3]!.output).toContain("symbolic link");
    expect(results[4]!.output).toContain("symbolic link");
    expect(readFileSync(join(session.worktreePath, "twice.txt"), "utf8")).toBe("same\nsame\n");
    expect(existsSync("/etc/pwned")).toBe(false);
    chat.close();
  }, 60_000);

  test("interrupting a long command stops the process in the pod; the turn is recorded as interrupted", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ toolUse: { name: "bash", input: { command: "sleep 97" } } });
    const from = chat.events.length;
    chat.send("Wait a while.");
    await chat.next("tool_call", from);
    for (let i = 0; i < 50 && !(await sh("pgrep -fx 'sleep 97'")).stdout.trim(); i++) await Bun.sleep(100);
    expect((await sh("pgrep -fx 'sleep 97'")).stdout.trim()).not.toBe("");
    chat.interrupt();
    const end = await chat.next("turn_end", from);
    expect(end.interrupted).toBe(true);
    expect((await sh("pgrep -fx 'sleep 97' || echo gone")).stdout.trim()).toBe("gone");
    const result = chat.events.slice(from).find((e) => e.type === "tool_result")!;
    expect(result.output).toContain("interrupted");
    chat.close();
  }, 60_000);

  test("a message sent while the agent works is queued, then answered", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    // The first answer waits until the second message has been seen queued behind it.
    const queuedSeen = Promise.withResolvers<void>();
    fake.script({ text: "first answer", heldUntil: queuedSeen.promise }, { text: "second answer" });
    const from = chat.events.length;
    chat.send("first");
    await chat.next("turn_start", from);
    chat.send("second");
    await chat.next("user_message", chat.events.findIndex((e, i) => i >= from && e.type === "user_message") + 1);
    const all = chat.events.slice(from).filter((e) => e.type === "user_message");
    expect(all.map((e) => [e.text, e.queued])).toEqual([["first", false], ["second", true]]);
    queuedSeen.resolve();
    await chat.next("turn_end", from);
    const secondTurnFrom = chat.events.findIndex((e, i) => i >= from && e.type === "turn_end") + 1;
    await chat.next("turn_end", secondTurnFrom);
    const texts = chat.events.slice(from).filter((e) => e.type === "assistant_message").map((e) => e.text);
    expect(texts).toEqual(["first answer", "second answer"]);
    chat.close();
  }, 60_000);

  test("429 then success is retried; costs follow the price table to the cent, across turns and reconnects", async () => {
    const before = (await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { costUsd: number };
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script(
      { status: 429, retryAfterSeconds: 0 },
      { text: "after a retry", usage: { input_tokens: 10_000, output_tokens: 2_000, cache_creation_input_tokens: 4_000, cache_read_input_tokens: 50_000 } },
    );
    const events = await chat.turn("Count the cost.");
    expect(events.some((e) => e.type === "retrying")).toBe(true);
    const end = events.find((e) => e.type === "turn_end")!;
    // claude-sonnet-4-6, the default: $3 in, $15 out, $3.75 cache write, $0.30 cache read per million tokens.
    const expected = (10_000 * 3 + 2_000 * 15 + 4_000 * 3.75 + 50_000 * 0.3) / 1e6;
    expect(end.costUsd).toBeCloseTo(expected, 10);
    expect(end.usage).toEqual({ inputTokens: 10_000, outputTokens: 2_000, cacheWriteTokens: 4_000, cacheReadTokens: 50_000 });
    expect(end.sessionCostUsd).toBeCloseTo(before.costUsd + expected, 10);
    chat.close();

    const reconnected = await ChatClient.connect(pier.url, session.id, headers());
    expect(reconnected.events[0]!.sessionCostUsd).toBeCloseTo(before.costUsd + expected, 10);
    reconnected.close();
    const ledger = (await (await pier.fetch(`/api/costs?groupBy=session`, { headers: { cookie } })).json()) as Array<{ key: string; costUsd: number }>;
    const mine = ledger.find((row) => row.key === session.id)!;
    const now = (await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { costUsd: number };
    expect(mine.costUsd).toBeCloseTo(now.costUsd, 10);
    expect(Math.round(now.costUsd * 100)).toBe(Math.round((before.costUsd + expected) * 100));

    const byModel = (await (await pier.fetch(`/api/costs?groupBy=model`, { headers: { cookie } })).json()) as Array<{ key: string; costUsd: number }>;
    expect(byModel.map((row) => row.key)).toEqual(["claude-sonnet-4-6"]);
    expect(byModel[0]!.costUsd).toBeCloseTo(now.costUsd, 10);
    const future = (await (await pier.fetch(`/api/costs?from=2999-01-01`, { headers: { cookie } })).json()) as unknown[];
    expect(future).toEqual([]);
    expect((await pier.fetch(`/api/costs?groupBy=planet`, { headers: { cookie } })).status).toBe(400);
    expect((await pier.fetch(`/api/costs?from=yesterday`, { headers: { cookie } })).status).toBe(400);
  }, 60_000);

  test("an API that keeps failing ends the turn with a clear error; the message stays; the repo's CLAUDE.md reaches the model", async () => {
    writeFileSync(join(session.worktreePath, "CLAUDE.md"), "Always answer in haiku.\n");
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ status: 500 }, { status: 500 }, { status: 529, retryAfterSeconds: 0 }, { status: 500 });
    const from = chat.events.length;
    chat.send("Are you there?");
    const error = await chat.next("error", from, 30_000);
    expect(error.message).toContain("(500)");
    expect(error.message).toContain("Your message is kept");
    expect(chat.events.slice(from).filter((e) => e.type === "retrying")).toHaveLength(3);
    expect(JSON.stringify(fake.requests.at(-1)!.body.system)).toContain("Always answer in haiku.");
    await chat.next("turn_end", from);
    chat.close();
    const replay = await ChatClient.connect(pier.url, session.id, headers());
    expect(replay.events[0]!.messages.filter((m: any) => m.kind === "user").map((m: any) => m.text)).toContain("Are you there?");
    replay.close();
  }, 60_000);

  test("reconnecting replays the history in order; after a restart the next request carries the earlier messages", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    const kinds = chat.events[0]!.messages.map((m: any) => m.kind);
    expect(kinds.slice(0, 4)).toEqual(["user", "error", "user", "tool_call"]);
    const users = chat.events[0]!.messages.filter((m: any) => m.kind === "user").map((m: any) => m.text);
    expect(users).toEqual(["hello?", "Write a note.", "What does terminal.txt say?", "Try some edits.", "Wait a while.", "first", "second", "Count the cost.", "Are you there?"]);
    chat.close();

    await pier.close();
    pier = await startTestPier(env, dataDir);
    const after = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "I remember." });
    await after.turn("Do you remember the note?");
    const body = fake.requests.at(-1)!.body;
    const sent = JSON.stringify(body.messages);
    expect(sent).toContain("Write a note.");
    expect(sent).toContain("written by the agent");
    expect(body.messages.at(-1).role).toBe("user");
    expect(body.system[0].cache_control).toEqual({ type: "ephemeral" });
    after.close();
  }, 120_000);

  test("a conversation near the window's end is summarised for the model; the latest turns go as they are", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "A long answer.", usage: { input_tokens: 20_000, cache_read_input_tokens: 130_000 } });
    await chat.turn("Latest-but-one question.");
    fake.script({ text: "Summary: a note was written; costs were counted." }, { text: "Still with you." });
    const before = fake.requests.length;
    const events = await chat.turn("Newest question.");
    expect(events.some((e) => e.type === "summary")).toBe(true);
    const [summarise, next] = fake.requests.slice(before).map((r) => r.body);
    expect(summarise.stream).toBeFalsy();
    expect(JSON.stringify(summarise.messages.at(-1))).toContain("Summarise the conversation");
    expect(JSON.stringify(summarise.messages)).toContain("Write a note.");
    const sent = JSON.stringify(next.messages);
    expect(next.messages[0].content[0].text).toContain("Summary: a note was written");
    expect(sent).not.toContain("Write a note.");
    expect(sent).toContain("Latest-but-one question.");
    expect(sent).toContain("Newest question.");
    // The history still has every item; the summarising request was costed too.
    const replay = await ChatClient.connect(pier.url, session.id, headers());
    const texts = replay.events[0]!.messages.filter((m: any) => m.kind === "user").map((m: any) => m.text);
    expect(texts).toContain("Write a note.");
    expect(replay.events[0]!.messages.some((m: any) => m.kind === "summary")).toBe(true);
    const end = events.find((e) => e.type === "turn_end")!;
    expect(end.usage.inputTokens).toBe(200);
    chat.close();
    replay.close();
  }, 60_000);

  test("Stop while a retry is waited out ends the turn at once, as interrupted", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ status: 529, retryAfterSeconds: 60 });
    const from = chat.events.length;
    chat.send("Are you busy?");
    await chat.next("retrying", from);
    const stopped = Date.now();
    chat.interrupt();
    const end = await chat.next("turn_end", from, 10_000);
    expect(end.interrupted).toBe(true);
    expect(Date.now() - stopped).toBeLessThan(5_000);
    chat.close();
  }, 60_000);

  test("ending the session closes the chat with 4001", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    expect(await chat.closed).toBe(4001);
  }, 60_000);

  test("ending a session mid-turn stops the turn and answers nothing that was queued", async () => {
    const other = await activeSession(pier, cookie, { repoId });
    const chat = await ChatClient.connect(pier.url, other.id, headers());
    fake.script({ text: "too slow to finish", delayMs: 5_000 });
    const from = chat.events.length;
    const requests = fake.requests.length;
    chat.send("first");
    await chat.next("turn_start", from);
    chat.send("second");
    for (let i = 0; i < 100 && fake.requests.length === requests; i++) await Bun.sleep(20);
    await pier.fetch(`/api/sessions/${other.id}/end`, json({}, { cookie }));
    await Bun.sleep(500);
    expect(fake.requests.length).toBe(requests + 1);
    const replay = await ChatClient.connect(pier.url, other.id, headers());
    const items = replay.events[0]!.messages;
    expect(items.map((m: any) => m.kind)).toEqual(["user", "user", "turn_end"]);
    expect(items[2].interrupted).toBe(true);
    replay.close();
  }, 60_000);
});
