/**
 * The ACP engine with a second real agent, on another model service than opencode's: Gemini CLI
 * from npm (supplied into the pod with its dependencies and a Node by pier.agents; the test
 * workspace image has neither) speaks the Agent Client Protocol to Pier and asks the fake Gemini
 * API through Pier's gateway.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf, priceOf } from "../../src/costs/costs.ts";
import { type AcpTestPier, startAcpTestPier, untilAsked } from "../support/acp-engine.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeGemini, startFakeGemini } from "../support/fake-gemini.ts";
import type { SessionJson } from "../support/sessions.ts";

const API_KEY = "gemini-acp-engine-test-key-000000000";
const MODEL = "gemini-2.5-flash";
/** Gemini CLI runs as node with its bundle and `--acp`. */
const AGENT_PROCESS = "[g]emini.js --acp";

describe("Gemini CLI as the chat engine, over ACP", () => {
  let fake: FakeGemini;
  let acp: AcpTestPier;
  let session: SessionJson;
  /** When Gemini CLI started its session (its first turn). */
  let sessionStart = 0;
  const podSh = (script: string) => acp.podSh(session, script);
  const connect = () => ChatClient.connect(acp.pier.url, session.id, acp.headers());

  beforeAll(async () => {
    fake = await startFakeGemini({ apiKeys: [API_KEY] });
    acp = await startAcpTestPier("acp-gemini", { GEMINI_BASE_URL: fake.url }, { geminiApiKey: API_KEY });
    session = await acp.startSession({ model: MODEL, engine: "acp", agent: "gemini" });
    expect(session.agent).toBe("gemini");
  }, 600_000);

  afterAll(async () => {
    await acp.close();
    await fake.stop();
  }, 120_000);

  test("a turn streams Gemini CLI's text on the session's model and costs what the price table says of the fake's usage", async () => {
    fake.script({ text: "Hello from Gemini CLI, through Pier's gateway.", usage: { prompt: 1000, candidates: 200 } });
    const chat = await connect();
    sessionStart = Date.now();
    // The first turn waits for Gemini CLI and its Node to be fetched from the registry (once per machine).
    const events = await chat.turn("Say hello.", 600_000);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect(events.filter((e) => e.type === "text_delta").length).toBeGreaterThan(1);
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("Hello from Gemini CLI, through Pier's gateway.");
    // Asked once, on the session's model (not Gemini CLI's own choice, which asks a second model first).
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`]);
    expect(JSON.stringify(fake.requests[0]!.body.contents)).toContain("Say hello.");
    expect(fake.requests[0]!.headers["x-goog-api-key"]).toBe(API_KEY);
    const end = events.at(-1)!;
    expect(end.type).toBe("turn_end");
    const usage = { inputTokens: 1000, outputTokens: 200, cacheWriteTokens: 0, cacheReadTokens: 0 };
    expect(end.usage).toEqual(usage);
    expect(end.costUsd).toBeCloseTo(costOf(priceOf(acp.pier.pier.db, MODEL)!, usage), 10);
    chat.close();
  }, 900_000);

  test("a turn thinks (its thought shown apart), reads a file, edits it (the diff shown) and runs a command, each named by its ACP kind", async () => {
    await acp.setPolicy({ mode: "allow_all" });
    expect((await podSh("printf 'one\\ntwo\\n' > notes.txt && cat notes.txt")).stdout).toBe("one\ntwo\n");
    const file = `${session.worktreePath}/notes.txt`;
    fake.script(
      // Gemini's thought summaries come as parts of their own, a bold subject first.
      { functionCall: { name: "read_file", args: { file_path: file } }, thought: "**Reading the notes**\n\nI should read the notes first." },
      { functionCall: { name: "replace", args: { file_path: file, old_string: "two", new_string: "three", instruction: "Change two to three." } } },
      { functionCall: { name: "run_shell_command", args: { command: "cat notes.txt", description: "Show the notes" } } },
      { text: "The notes now say three.", usage: { prompt: 500, candidates: 20 } },
    );
    const chat = await connect();
    const events = await chat.turn("Change two to three in notes.txt.", 180_000);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    // The thought is kept whole, before the call it led to, as the chat keeps a call of the think tool.
    const thoughts = events.filter((e) => e.type === "tool_call" && e.name === "think");
    expect(thoughts).toHaveLength(1);
    expect(thoughts[0]!.input.thought).toContain("Reading the notes");
    expect(thoughts[0]!.input.thought).toContain("I should read the notes first.");
    expect(events.find((e) => e.type === "tool_result" && e.id === thoughts[0]!.id)).toMatchObject({ output: "", isError: false });
    const calls = events.filter((e) => e.type === "tool_call" && e.name !== "think");
    expect(events.indexOf(thoughts[0]!)).toBeLessThan(events.indexOf(calls[0]!));
    // Gemini CLI names no tool over ACP: the chat (and a tool policy) knows each by its kind, and what it does by its title.
    expect(calls.map((c) => c.name)).toEqual(["read", "edit", "execute"]);
    expect(calls[0]!.input).toEqual({ title: "notes.txt", paths: ["notes.txt"] });
    expect(calls[1]!.input.paths).toEqual(["notes.txt"]);
    expect(calls[2]!.input.title).toContain("cat notes.txt");
    const results = calls.map((call) => events.find((e) => e.type === "tool_result" && e.id === call.id)!);
    expect(results.map((r) => r.isError)).toEqual([false, false, false]);
    expect(results[1]!.diff).toContain("b/notes.txt");
    expect(results[1]!.diff).toContain("-two");
    expect(results[1]!.diff).toContain("+three");
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("The notes now say three.");
    expect((await podSh("cat notes.txt")).stdout).toBe("one\nthree\n");
    // What the command printed went back to the model.
    expect(JSON.stringify(fake.requests.at(-1)!.body.contents.at(-1))).toContain("three");
    chat.close();
  }, 240_000);

  test("Gemini CLI asks before a command that writes: an ask policy shows the approval card (approved once); a deny policy refuses without asking", async () => {
    await acp.setPolicy({ mode: "custom", allowed: [], denied: [], ask: ["execute"] });
    const chat = await connect();
    fake.script({ functionCall: { name: "run_shell_command", args: { command: "echo approved > approved.txt", description: "Write" } } }, { text: "Done after approval.", usage: { prompt: 10, candidates: 5 } });
    let from = chat.events.length;
    chat.send("Write approved.txt.");
    const request = await chat.next("approval_request", from, 120_000);
    expect(request.tool).toBe("execute");
    expect(request.input.title).toContain("echo approved > approved.txt");
    expect((await podSh("test -e approved.txt && echo yes || echo no")).stdout.trim()).toBe("no");
    chat.sendJson({ type: "approval", id: request.id, allow: true });
    await chat.next("turn_end", from, 120_000);
    expect(chat.events.slice(from).find((e) => e.type === "tool_result")!.isError).toBe(false);
    expect((await podSh("cat approved.txt")).stdout.trim()).toBe("approved");

    await acp.setPolicy({ mode: "custom", allowed: [], denied: ["execute"], ask: [] });
    // Gemini CLI tells the model its call was refused, and the model answers.
    fake.script({ functionCall: { name: "run_shell_command", args: { command: "echo denied > denied.txt", description: "Write" } } }, { text: "It was refused.", usage: { prompt: 10, candidates: 5 } });
    from = chat.events.length;
    await chat.turn("Write denied.txt.", 120_000);
    const turn = chat.events.slice(from);
    expect(turn.filter((e) => e.type === "approval_request")).toEqual([]);
    const refused = turn.filter((e) => e.type === "tool_result");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.refused).toBe(true);
    expect(refused[0]!.isError).toBe(true);
    expect((await podSh("test -e denied.txt && echo yes || echo no")).stdout.trim()).toBe("no");
    expect(turn.find((e) => e.type === "assistant_message")!.text).toBe("It was refused.");
    await acp.setPolicy({ mode: "allow_all" });
    chat.close();
  }, 240_000);

  test("an interrupt is ACP's cancel: the turn ends interrupted and Gemini CLI stays for the next message", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.script({ text: "This answer comes too late.", usage: { prompt: 10, candidates: 5 }, heldUntil: held }, { text: "Back again.", usage: { prompt: 10, candidates: 5 } });
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

  test("Gemini CLI exiting mid-turn is said once, and it is started again at the next message, its conversation loaded", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.script({ text: "Never heard.", usage: { prompt: 10, candidates: 5 }, heldUntil: held });
    // Gemini CLI names a session's file by the minute it was started, and a process loading the
    // session starts writing a file of that name before it reads it: loaded in the minute the
    // session began, the conversation is lost (Pier then says it starts afresh). Not that minute.
    while (Math.floor(Date.now() / 60_000) === Math.floor(sessionStart / 60_000)) await Bun.sleep(500);
    const chat = await connect();
    const before = fake.requests.length;
    let from = chat.events.length;
    chat.send("Start something long.");
    await untilAsked(() => fake.requests.length, before);
    await podSh(`pkill -KILL -f '${AGENT_PROCESS}'`);
    await chat.next("turn_end", from, 60_000);
    release();
    const errors = chat.events.slice(from).filter((e) => e.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain("Gemini CLI stopped during the turn");
    fake.script({ text: "Started again.", usage: { prompt: 10, candidates: 5 } });
    from = chat.events.length;
    const next = await chat.turn("Hello again.", 180_000);
    expect(next.filter((e) => e.type === "error")).toEqual([]);
    expect(next.find((e) => e.type === "assistant_message")!.text).toBe("Started again.");
    // The new process loaded Gemini CLI's saved session: the model is asked with the conversation so far.
    expect(JSON.stringify(fake.requests.at(-1)!.body.contents)).toContain("Say hello.");
    expect((await podSh(`pgrep -f '${AGENT_PROCESS}' | wc -l`)).stdout.trim()).not.toBe("0");
    chat.close();
  }, 300_000);
});
