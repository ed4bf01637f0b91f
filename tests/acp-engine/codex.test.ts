/**
 * The ACP engine with Codex through its ACP adapter (`codex-acp` from npm, its native platform
 * build supplied into the pod by pier.agents), on the OpenAI Responses API: it asks the fake
 * OpenAI API through Pier's gateway, on a provider of its own that Pier configures.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf, priceOf } from "../../src/costs/costs.ts";
import { type AcpTestPier, startAcpTestPier, untilAsked } from "../support/acp-engine.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeOpenAi, startFakeOpenAi } from "../support/fake-openai.ts";
import type { SessionJson } from "../support/sessions.ts";

const API_KEY = "sk-openai-acp-engine-test-0000000000";
const MODEL = "gpt-5.3-codex";
/** The adapter's native program, as the pod's process list shows it. */
const AGENT_PROCESS = "[b]in/codex-acp";

describe("Codex as the chat engine, over ACP", () => {
  let fake: FakeOpenAi;
  let acp: AcpTestPier;
  let session: SessionJson;
  const podSh = (script: string) => acp.podSh(session, script);
  const connect = () => ChatClient.connect(acp.pier.url, session.id, acp.headers());

  beforeAll(async () => {
    fake = await startFakeOpenAi({ apiKeys: [API_KEY] });
    acp = await startAcpTestPier("acp-codex", { OPENAI_BASE_URL: fake.url }, { openaiApiKey: API_KEY });
    session = await acp.startSession({ model: MODEL, engine: "acp", agent: "codex" });
    expect(session.agent).toBe("codex");
  }, 600_000);

  afterAll(async () => {
    await acp.close();
    await fake.stop();
  }, 120_000);

  test("a turn streams Codex's text on the session's model, through the gateway, and costs what the price table says of the fake's usage", async () => {
    fake.script({ text: "Hello from Codex, through Pier's gateway.", usage: { input: 1000, output: 200, cached: 400 } });
    const chat = await connect();
    // The first turn waits for the adapter's build to be fetched from the registry (once per machine).
    const events = await chat.turn("Say hello.", 600_000);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect(events.filter((e) => e.type === "text_delta").length).toBeGreaterThan(1);
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("Hello from Codex, through Pier's gateway.");
    // Asked once, by the Responses API over HTTP, on the session's model, with the instance's key (the gateway's, not the agent's).
    expect(fake.hits).toEqual(["POST /v1/responses"]);
    expect(fake.requests[0]!.body.model).toBe(MODEL);
    expect(JSON.stringify(fake.requests[0]!.body.input)).toContain("Say hello.");
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    // Codex's own description of the request reaches the service: its session and thread keep OpenAI's prompt cache on one machine.
    expect(fake.requests[0]!.headers["session-id"]).toMatch(/\S/);
    expect(fake.requests[0]!.headers["thread-id"]).toMatch(/\S/);
    const end = events.at(-1)!;
    expect(end.type).toBe("turn_end");
    const usage = { inputTokens: 600, outputTokens: 200, cacheWriteTokens: 0, cacheReadTokens: 400 };
    expect(end.usage).toEqual(usage);
    expect(end.costUsd).toBeCloseTo(costOf(priceOf(acp.pier.pier.db, MODEL)!, usage), 10);
    chat.close();
  }, 900_000);

  test("the gateway's key for the session is in Codex's environment only: not in its arguments, nor in any file of its home", async () => {
    const pid = (await podSh(`pgrep -f '${AGENT_PROCESS}' | head -1`)).stdout.trim();
    expect(pid).not.toBe("");
    const environ = (await podSh(`tr '\\0' '\\n' < /proc/${pid}/environ`)).stdout;
    const key = environ.match(/^OPENAI_API_KEY=(.+)$/m)?.[1];
    const home = environ.match(/^HOME=(.+)$/m)?.[1];
    expect(key).toBeTruthy();
    expect(key).not.toBe(API_KEY);
    expect(home).toBeTruthy();
    expect((await podSh(`tr '\\0' ' ' < /proc/${pid}/cmdline`)).stdout).toContain("model_providers.pier.base_url=");
    expect((await podSh(`tr '\\0' ' ' < /proc/${pid}/cmdline`)).stdout).not.toContain(key!);
    // Codex has written its state there by now (its sessions, its logs).
    expect((await podSh(`find '${home}/.codex' -type f | wc -l`)).stdout.trim()).not.toBe("0");
    const found = await podSh(`grep -rlF -e '${key}' '${home}' || true`);
    expect(found.stdout.trim()).toBe("");
  }, 120_000);

  test("Codex asks before a command that writes: an ask policy shows the approval card (approved once), the command runs and its output goes back to the model", async () => {
    await acp.setPolicy({ mode: "custom", allowed: [], denied: [], ask: ["execute"] });
    const chat = await connect();
    fake.script({ call: { name: "exec_command", arguments: { cmd: "echo approved > approved.txt && cat approved.txt" } } }, { text: "Done after approval.", usage: { input: 10, output: 5 } });
    const from = chat.events.length;
    chat.send("Write approved.txt.");
    const request = await chat.next("approval_request", from, 120_000);
    expect(request.tool).toBe("execute");
    // Codex's own account of the call: the command line, as its shell runs it.
    expect(request.input.command.at(-1)).toBe("echo approved > approved.txt && cat approved.txt");
    expect((await podSh("test -e approved.txt && echo yes || echo no")).stdout.trim()).toBe("no");
    chat.sendJson({ type: "approval", id: request.id, allow: true });
    await chat.next("turn_end", from, 120_000);
    const turn = chat.events.slice(from);
    expect(turn.filter((e) => e.type === "error")).toEqual([]);
    expect(turn.find((e) => e.type === "tool_result")!.isError).toBe(false);
    expect(turn.find((e) => e.type === "assistant_message")!.text).toBe("Done after approval.");
    expect((await podSh("cat approved.txt")).stdout.trim()).toBe("approved");
    const output = fake.requests.at(-1)!.body.input.find((item: any) => item.type === "function_call_output");
    expect(output.output).toContain("approved");
    await acp.setPolicy({ mode: "allow_all" });
    chat.close();
  }, 240_000);

  test("an edit is Codex's apply_patch, asked for with its diff; a deny policy refuses a command without asking", async () => {
    await acp.setPolicy({ mode: "custom", allowed: [], denied: [], ask: ["edit"] });
    expect((await podSh("printf 'one\\ntwo\\n' > notes.txt && cat notes.txt")).stdout).toBe("one\ntwo\n");
    const chat = await connect();
    const patch = ["*** Begin Patch", "*** Update File: notes.txt", "@@", " one", "-two", "+three", "*** End Patch"].join("\n");
    fake.script({ call: { name: "apply_patch", input: patch } }, { text: "The notes now say three.", usage: { input: 10, output: 5 } });
    let from = chat.events.length;
    chat.send("Change two to three in notes.txt.");
    const request = await chat.next("approval_request", from, 120_000);
    expect(request.tool).toBe("edit");
    expect((await podSh("cat notes.txt")).stdout).toBe("one\ntwo\n");
    chat.sendJson({ type: "approval", id: request.id, allow: true });
    await chat.next("turn_end", from, 120_000);
    let turn = chat.events.slice(from);
    expect(turn.filter((e) => e.type === "error")).toEqual([]);
    const result = turn.find((e) => e.type === "tool_result")!;
    expect(result.isError).toBe(false);
    expect(result.diff).toContain("b/notes.txt");
    expect(result.diff).toContain("-two");
    expect(result.diff).toContain("+three");
    expect((await podSh("cat notes.txt")).stdout).toBe("one\nthree\n");

    await acp.setPolicy({ mode: "custom", allowed: [], denied: ["execute"], ask: [] });
    // Codex's only way to refuse ("No, and tell Codex what to do differently") ends its turn, without asking the model again.
    fake.script({ call: { name: "exec_command", arguments: { cmd: "echo denied > denied.txt" } } });
    const asked = fake.requests.length;
    from = chat.events.length;
    await chat.turn("Write denied.txt.", 120_000);
    turn = chat.events.slice(from);
    expect(turn.filter((e) => e.type === "approval_request")).toEqual([]);
    const refused = turn.filter((e) => e.type === "tool_result");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.refused).toBe(true);
    expect((await podSh("test -e denied.txt && echo yes || echo no")).stdout.trim()).toBe("no");
    expect(turn.filter((e) => e.type === "error")).toEqual([]);
    expect(fake.requests.length).toBe(asked + 1);
    await acp.setPolicy({ mode: "allow_all" });
    chat.close();
  }, 240_000);

  test("an interrupt is ACP's cancel: the turn ends interrupted and Codex stays for the next message", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.script({ text: "This answer comes too late.", usage: { input: 10, output: 5 }, heldUntil: held }, { text: "Back again.", usage: { input: 10, output: 5 } });
    const chat = await connect();
    const pids = async () => (await podSh(`pgrep -f '${AGENT_PROCESS}' | sort`)).stdout.trim();
    const running = await pids();
    expect(running).not.toBe("");
    const before = fake.requests.length;
    const from = chat.events.length;
    chat.send("Take your time.");
    await untilAsked(() => fake.requests.length, before);
    chat.interrupt();
    const end = await chat.next("turn_end", from, 60_000);
    expect(end.interrupted).toBe(true);
    release();
    const next = await chat.turn("Are you there?", 120_000);
    expect(next.filter((e) => e.type === "error")).toEqual([]);
    expect(next.find((e) => e.type === "assistant_message")!.text).toBe("Back again.");
    // Cancelled, not stopped: the same process answered.
    expect(await pids()).toBe(running);
    chat.close();
  }, 240_000);
});
