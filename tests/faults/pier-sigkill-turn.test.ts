/**
 * Fault: Pier is killed with SIGKILL in the middle of a chat turn (nothing in the process gets to
 * say so), then started again on the same data dir and port.
 * Held: the transcript keeps the turn's text and tool items so far, closed by a `turn_end` with
 * `interrupted: true` whose usage is what reached Pier, the answer cut off mid-stream included;
 * the ledger has that usage exactly once (nothing lost, nothing counted again on restart); the
 * next message is answered as usual.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { json, setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-sigkill-test-00000000000000";
const MODEL = "claude-sonnet-4-6";
/** The second answer streams slowly, so the kill lands in the middle of it. */
const LONG_TEXT = "The command ran; now here is a long explanation of what it did, one slow piece at a time, ".repeat(4);

describe("SIGKILL during a turn of Pier's own agent", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-sigkill-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let env: Record<string, string>;
  let port: number;
  let pier: PierProcess;
  let cookie: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    port = await freePort();
    env = { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: API_KEY, PIER_ALLOW_LOCAL_REPOS: "1" };
    pier = await startPierProcess(dataDir, port, env);
    cookie = await setUpAdmin(pier);
  }, 60_000);

  afterAll(async () => {
    if (pier) await stopForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the transcript keeps the turn's text and tools with an interrupted turn_end; its usage is in the ledger once", async () => {
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("sigkill").path}`, "sigkill");
    const session = await activeSession(pier, cookie, { repoId, model: MODEL });
    const headers = { cookie, origin: pier.url };
    fake.script(
      { text: "I will run it.", toolUse: { name: "bash", input: { command: "echo ran > ran.txt" } }, usage: { input_tokens: 1000, output_tokens: 200 } },
      { text: LONG_TEXT, chunkDelayMs: 150, usage: { input_tokens: 1100, output_tokens: 30 } },
    );
    const chat = await ChatClient.connect(pier.url, session.id, headers);
    chat.send("run it and explain");
    const result = await chat.next("tool_result", 0, 60_000);
    expect(result.isError).toBe(false);
    // Broken: the process, while the second answer streams (a few pieces in, and long enough for them to be saved).
    const from = chat.events.indexOf(result);
    for (;;) {
      if (chat.events.slice(from).filter((e) => e.type === "text_delta").length >= 6) break;
      await Bun.sleep(20);
    }
    const seen = chat.events.slice(from).filter((e) => e.type === "text_delta").map((e) => e.text).join("");
    await Bun.sleep(600);
    expect(await pier.signal("SIGKILL")).not.toBe(0);
    chat.close();

    pier = await startPierProcess(dataDir, port, env);
    const transcript = (await (await pier.fetch(`/api/sessions/${session.id}/transcript`, { headers: { cookie } })).json()) as Array<Record<string, any>>;
    expect(transcript.map((item) => item.kind)).toEqual(["user", "assistant", "tool_call", "tool_result", "assistant", "turn_end"]);
    expect(transcript[1]!.text).toBe("I will run it.");
    expect(transcript[2]).toMatchObject({ name: "bash", input: { command: "echo ran > ran.txt" } });
    // The text streamed before the kill, as far as it was saved: at least what was seen well before it.
    const partial = transcript[4]!.text as string;
    expect(partial.startsWith(seen)).toBe(true);
    expect(LONG_TEXT.startsWith(partial)).toBe(true);
    expect(partial.length).toBeLessThan(LONG_TEXT.length);
    const end = transcript[5]!;
    expect(end.interrupted).toBe(true);
    // The first answer's usage, and what reached Pier of the answer the kill cut off (its message_start: 1100 in, 1 out).
    expect(end.usage).toEqual({ inputTokens: 2100, outputTokens: 201, cacheWriteTokens: 0, cacheReadTokens: 0 });
    expect(end.costUsd).toBeGreaterThan(0);
    const costs = async () => ((await (await pier.fetch("/api/costs?groupBy=session", { headers: { cookie } })).json()) as Array<{ key: string; inputTokens: number; costUsd: number }>).find((row) => row.key === session.id);
    expect((await costs())?.inputTokens).toBe(2100);
    expect((await costs())?.costUsd).toBeCloseTo(end.costUsd, 10);

    // The conversation goes on: the next turn is answered and costed alone.
    fake.script({ text: "Back again.", usage: { input_tokens: 500, output_tokens: 10 } });
    const again = await ChatClient.connect(pier.url, session.id, headers);
    const events = await again.turn("are you there?");
    expect(events.find((e) => e.type === "assistant_message")?.text).toBe("Back again.");
    expect(events.find((e) => e.type === "turn_end")).toMatchObject({ interrupted: false, usage: { inputTokens: 500, outputTokens: 10 } });
    expect((await costs())?.inputTokens).toBe(2600);
    again.close();
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
  }, 80_000);

  test("a tool call waiting for its approval when Pier is killed is closed as not run: nothing to answer after the restart, and the model hears it never ran", async () => {
    const put = await pier.fetch("/api/config/tool-policies", { ...json({ mode: "custom", denied: [], ask: ["bash"] }, { cookie }), method: "PUT" });
    expect(put.status).toBe(200);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("sigkill-ask").path}`, "sigkill-ask");
    const session = await activeSession(pier, cookie, { repoId, model: MODEL });
    const headers = { cookie, origin: pier.url };
    fake.script({ toolUse: { name: "bash", input: { command: "touch never.txt" }, id: "toolu_killed_1" }, usage: { input_tokens: 300, output_tokens: 20 } });
    const chat = await ChatClient.connect(pier.url, session.id, headers);
    chat.send("make never.txt");
    await chat.next("approval_request", 0, 60_000);
    expect(await pier.signal("SIGKILL")).not.toBe(0);
    chat.close();

    pier = await startPierProcess(dataDir, port, env);
    const transcript = (await (await pier.fetch(`/api/sessions/${session.id}/transcript`, { headers: { cookie } })).json()) as Array<Record<string, any>>;
    expect(transcript.map((item) => item.kind)).toEqual(["user", "tool_call", "approval_request", "tool_result", "turn_end"]);
    expect(transcript[3]).toMatchObject({ id: "toolu_killed_1", isError: true, refused: true, output: "Not run: Pier restarted before anyone answered its approval." });
    expect(transcript[4]!.interrupted).toBe(true);
    const late = await pier.fetch(`/api/sessions/${session.id}/approvals/toolu_killed_1`, json({ allow: true }, { cookie }));
    expect(late.status).toBe(409);
    expect(existsSync(join(session.worktreePath, "never.txt"))).toBe(false);

    fake.script({ text: "Understood." });
    const again = await ChatClient.connect(pier.url, session.id, headers);
    await again.turn("carry on");
    expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).toContain("Not run: Pier restarted before anyone answered its approval.");
    again.close();
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
  }, 80_000);
});
