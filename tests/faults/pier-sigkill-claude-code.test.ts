/**
 * Fault: Pier is killed with SIGKILL while Claude Code (the real CLI from npm, in a test pod, its
 * model requests through Pier's gateway to the fake Anthropic server) runs a tool in a turn; Pier
 * is started again on the same data dir and port.
 * Held: the transcript keeps the turn's text and tool call, the tool's result says Pier restarted
 * before it finished, and a `turn_end` with `interrupted: true` closes the turn with the usage the
 * gateway had recorded; the ledger has it exactly once; the next message resumes the conversation.
 * Killed again while an answer streams through the gateway: the text so far is kept, and what had
 * reached the gateway of that answer is in the ledger once; the cut-off Claude Code asks nothing more.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { claudeCodeTestImage } from "../support/claude-code.ts";
import { run } from "../support/commands.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { json, setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-sigkill-claude-code-0000000000";
const MODEL = "claude-sonnet-4-6";
/** An answer streamed slowly, so the second kill lands in the middle of it. */
const SLOW_TEXT = "Here is a slow answer, one small piece at a time, so that Pier is killed in the middle of it. ".repeat(3);

describe("SIGKILL during a Claude Code turn", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-sigkill-cc-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let env: Record<string, string>;
  let port: number;
  let pier: PierProcess;
  let cookie: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    port = await freePort();
    // Host networking: Claude Code in the pod reaches Pier's gateway (and it the fake) on 127.0.0.1.
    env = { ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: await claudeCodeTestImage(), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: API_KEY };
    pier = await startPierProcess(dataDir, port, env);
    cookie = await setUpAdmin(pier);
  }, 300_000);

  afterAll(async () => {
    if (pier) await stopForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the transcript keeps the turn's text and tool call with an interrupted turn_end; the gateway's usage is in the ledger once", async () => {
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("sigkill-cc").path}`, "sigkill-cc");
    const put = await pier.fetch("/api/settings", { ...json({ defaultEngine: "claude-code" }, { cookie }), method: "PUT" });
    expect(put.status).toBe(200);
    const session = await activeSession(pier, cookie, { repoId, model: MODEL });
    const headers = { cookie, origin: pier.url };
    fake.script({ text: "Running the long job.", toolUse: { name: "Bash", input: { command: "echo started > job.txt && sleep 120", description: "A long job" } }, usage: { input_tokens: 1000, output_tokens: 200 } });
    const chat = await ChatClient.connect(pier.url, session.id, headers);
    chat.send("run the long job");
    await chat.next("tool_call", 0, 120_000);
    // Broken: the process, while the tool runs.
    await Bun.sleep(1000);
    expect(await pier.signal("SIGKILL")).not.toBe(0);
    chat.close();

    pier = await startPierProcess(dataDir, port, env);
    const transcript = (await (await pier.fetch(`/api/sessions/${session.id}/transcript`, { headers: { cookie } })).json()) as Array<Record<string, any>>;
    expect(transcript.map((item) => item.kind)).toEqual(["user", "assistant", "tool_call", "tool_result", "turn_end"]);
    expect(transcript[1]!.text).toBe("Running the long job.");
    expect(transcript[2]).toMatchObject({ name: "bash" });
    expect(transcript[3]).toMatchObject({ id: transcript[2]!.id, isError: true });
    expect(transcript[3]!.output).toContain("Pier restarted");
    const end = transcript[4]!;
    expect(end.interrupted).toBe(true);
    expect(end.usage).toEqual({ inputTokens: 1000, outputTokens: 200, cacheWriteTokens: 0, cacheReadTokens: 0 });
    const costs = async () => ((await (await pier.fetch("/api/costs?groupBy=session", { headers: { cookie } })).json()) as Array<{ key: string; inputTokens: number; costUsd: number }>).find((row) => row.key === session.id);
    expect((await costs())?.inputTokens).toBe(1000);
    expect((await costs())?.costUsd).toBeCloseTo(end.costUsd, 10);

    // The next message resumes Claude Code's conversation, and only its own usage is added.
    fake.script({ text: "Back again.", usage: { input_tokens: 500, output_tokens: 10 } });
    const again = await ChatClient.connect(pier.url, session.id, headers);
    const events = await again.turn("are you there?", 120_000);
    expect(events.find((e) => e.type === "assistant_message")?.text).toBe("Back again.");
    expect(events.find((e) => e.type === "turn_end")).toMatchObject({ interrupted: false, usage: { inputTokens: 500, outputTokens: 10 } });
    expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).toContain("run the long job");
    expect((await costs())?.inputTokens).toBe(1500);
    again.close();
    // The Claude Code process the killed Pier had started is gone with its tool, so nothing of the
    // old turn runs on beside the resumed conversation (or spends on the session after it).
    const processes = await run(["docker", "exec", session.podId!, "ps", "-eo", "args"], "/");
    expect(processes).not.toContain("sleep 120");
    expect(processes.split("\n").filter((line) => line.includes("claude -p")).length).toBe(1);

    // Broken again: the process, while an answer streams through the gateway.
    fake.script({ text: SLOW_TEXT, chunkDelayMs: 150, usage: { input_tokens: 300, output_tokens: 30 } });
    const third = await ChatClient.connect(pier.url, session.id, headers);
    const from = third.events.length;
    third.send("tell me slowly");
    const deltas = () => third.events.slice(from).filter((e) => e.type === "text_delta");
    while (deltas().length < 4) await Bun.sleep(20);
    const seen = deltas().map((e) => e.text).join("");
    await Bun.sleep(600);
    expect(await pier.signal("SIGKILL")).not.toBe(0);
    third.close();

    pier = await startPierProcess(dataDir, port, env);
    const asked = fake.requests.length;
    const after = (await (await pier.fetch(`/api/sessions/${session.id}/transcript`, { headers: { cookie } })).json()) as Array<Record<string, any>>;
    expect(after.slice(-3).map((item) => item.kind)).toEqual(["user", "assistant", "turn_end"]);
    const partial = after.at(-2)!.text as string;
    expect(partial.startsWith(seen)).toBe(true);
    expect(SLOW_TEXT.startsWith(partial)).toBe(true);
    // What reached the gateway of the cut-off answer (its message_start: 300 in, 1 out) is counted, once.
    expect(after.at(-1)).toMatchObject({ interrupted: true, usage: { inputTokens: 300, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 } });
    expect((await costs())?.inputTokens).toBe(1800);
    // The Claude Code process cut off mid-answer was ended as Pier came back: it asks the model nothing more.
    await Bun.sleep(3000);
    expect(fake.requests.length).toBe(asked);
    expect((await costs())?.inputTokens).toBe(1800);
  }, 85_000);
});
