/**
 * The ACP engine with a real agent: opencode from npm (supplied into the pod by pier.agents, the
 * test workspace image has none) speaks the Agent Client Protocol to Pier and asks the fake
 * Anthropic server through Pier's gateway (see acp-engine.ts for the Pier these tests share).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf, priceOf } from "../../src/costs/costs.ts";
import { type AcpTestPier, startAcpTestPier, untilAsked } from "../support/acp-engine.ts";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { json } from "../support/pier.ts";
import { type SessionJson, apiError, startSession } from "../support/sessions.ts";

const API_KEY = "sk-ant-acp-engine-test-00000000000000";
const MODEL = "claude-sonnet-4-6";

/** opencode names its sessions with a request of its own; those are answered apart from the script. */
const isTitleRequest = (body: any) => JSON.stringify(body.system ?? "").includes("title") && !JSON.stringify(body.tools ?? []).includes("bash");

describe("opencode as the chat engine, over ACP", () => {
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let acp: AcpTestPier;
  let session: SessionJson;
  const podSh = (script: string) => acp.podSh(session, script);
  const setPolicy = (policy: Record<string, unknown>) => acp.setPolicy(policy);
  const connect = () => ChatClient.connect(acp.pier.url, session.id, acp.headers());
  const mainRequests = () => fake.requests.filter((r) => !isTitleRequest(r.body));

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    acp = await startAcpTestPier("acp-engine", { ANTHROPIC_BASE_URL: fake.url }, { anthropicApiKey: API_KEY });
  }, 600_000);

  afterAll(async () => {
    await acp.close();
    await fake.stop();
  }, 120_000);

  test('engine "acp" needs an agent that exists; anything else is a 400 that starts nothing', async () => {
    const { pier, cookie, repoId } = acp;
    for (const body of [
      { repoId, engine: "acp" },
      { repoId, engine: "acp", agent: "nobody" },
      { repoId, engine: "pier", agent: "opencode" },
    ]) {
      const error = await apiError(await startSession(pier, cookie, body));
      expect(error.status).toBe(400);
      expect(error.code).toBe("invalid_agent");
    }
    expect(await (await pier.fetch("/api/sessions", { headers: { cookie } })).json()).toHaveLength(0);
    const put = await pier.fetch("/api/settings", { ...json({ defaultEngine: "acp" }, { cookie, origin: pier.url }), method: "PUT" });
    expect(put.status).toBe(400);

    session = await acp.startSession({ model: MODEL, engine: "acp", agent: "opencode" });
    expect(session.engine).toBe("acp");
    expect(session.agent).toBe("opencode");
  }, 300_000);

  test("a turn streams opencode's text back and costs what the price table says of the fake's usage", async () => {
    fake.scriptWhen(isTitleRequest, { text: "Greeting" }, { text: "Greeting" }, { text: "Greeting" });
    fake.script({ text: "Hello from opencode, through Pier's gateway.", usage: { input_tokens: 1000, output_tokens: 200 } });
    const chat = await connect();
    // The first turn waits for opencode's build to be fetched from the registry (once per machine).
    const events = await chat.turn("Say hello.", 600_000);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("user_message");
    expect(types).toContain("turn_start");
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect(events.filter((e) => e.type === "text_delta").length).toBeGreaterThan(1);
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("Hello from opencode, through Pier's gateway.");
    const main = fake.requests.filter((r) => !isTitleRequest(r.body));
    expect(main.at(-1)!.body.model).toBe(MODEL);
    expect(JSON.stringify(main.at(-1)!.body.messages)).toContain("Say hello.");
    const end = events.at(-1)!;
    expect(end.type).toBe("turn_end");
    expect(end.interrupted).toBe(false);
    // Metered by the gateway: the answer's usage, and that of opencode's request for a title (the fake's default usage).
    const titles = fake.requests.filter((r) => isTitleRequest(r.body)).length;
    const usage = { inputTokens: 1000 + 100 * titles, outputTokens: 200 + 50 * titles, cacheWriteTokens: 0, cacheReadTokens: 0 };
    expect(end.usage).toEqual(usage);
    expect(end.costUsd).toBeCloseTo(costOf(priceOf(acp.pier.pier.db, MODEL)!, usage), 10);
    expect(main.at(-1)!.headers["x-api-key"]).toBe(API_KEY);
    chat.close();
  }, 900_000);

  test("a turn reads a file, edits it (the diff shown) and runs a command, each as opencode's own tool", async () => {
    await setPolicy({ mode: "allow_all" });
    expect((await podSh("printf 'one\\ntwo\\n' > notes.txt && cat notes.txt")).stdout).toBe("one\ntwo\n");
    const file = `${session.worktreePath}/notes.txt`;
    fake.script(
      { toolUse: { name: "read", input: { filePath: file } } },
      { toolUse: { name: "edit", input: { filePath: file, oldString: "two", newString: "three" } } },
      { toolUse: { name: "bash", input: { command: "cat notes.txt", description: "Show the notes" } } },
      { text: "The notes now say three.", usage: { input_tokens: 500, output_tokens: 20 } },
    );
    const chat = await connect();
    const events = await chat.turn("Change two to three in notes.txt.", 180_000);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    const calls = events.filter((e) => e.type === "tool_call");
    expect(calls.map((c) => c.name)).toEqual(["read", "edit", "bash"]);
    expect(calls[1]!.input).toMatchObject({ filePath: file, oldString: "two", newString: "three" });
    expect(calls[2]!.input).toMatchObject({ command: "cat notes.txt" });
    const results = events.filter((e) => e.type === "tool_result");
    expect(results.map((r) => r.isError)).toEqual([false, false, false]);
    expect(results[0]!.output).toContain("two");
    expect(results[1]!.diff).toContain("b/notes.txt");
    expect(results[1]!.diff).toContain("-two");
    expect(results[1]!.diff).toContain("+three");
    expect(results[2]!.output).toContain("three");
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("The notes now say three.");
    expect((await podSh("cat notes.txt")).stdout).toBe("one\nthree\n");
    chat.close();
  }, 240_000);

  test("opencode asks before its tools run: an ask policy shows the approval card (approved once); a deny policy refuses without asking", async () => {
    await setPolicy({ mode: "custom", allowed: [], denied: [], ask: ["bash"] });
    const chat = await connect();
    fake.script({ toolUse: { name: "bash", input: { command: "echo approved > approved.txt", description: "Write" } } }, { text: "Done after approval." });
    let from = chat.events.length;
    chat.send("Write approved.txt.");
    const request = await chat.next("approval_request", from, 120_000);
    expect(request.tool).toBe("bash");
    expect(request.input.command).toBe("echo approved > approved.txt");
    expect((await podSh("test -e approved.txt && echo yes || echo no")).stdout.trim()).toBe("no");
    chat.sendJson({ type: "approval", id: request.id, allow: true });
    await chat.next("turn_end", from, 120_000);
    expect(chat.events.slice(from).find((e) => e.type === "tool_result")!.isError).toBe(false);
    expect((await podSh("cat approved.txt")).stdout.trim()).toBe("approved");

    await setPolicy({ mode: "custom", allowed: [], denied: ["bash"], ask: [] });
    // opencode ends its turn on a refused permission, without asking the model again.
    fake.script({ toolUse: { name: "bash", input: { command: "echo denied > denied.txt", description: "Write" } } });
    from = chat.events.length;
    await chat.turn("Write denied.txt.", 120_000);
    const turn = chat.events.slice(from);
    expect(turn.filter((e) => e.type === "approval_request")).toEqual([]);
    const refused = turn.find((e) => e.type === "tool_result")!;
    expect(refused.refused).toBe(true);
    expect(refused.isError).toBe(true);
    expect((await podSh("test -e denied.txt && echo yes || echo no")).stdout.trim()).toBe("no");
    expect(turn.at(-1)!.type).toBe("turn_end");
    await setPolicy({ mode: "allow_all" });
    chat.close();
  }, 240_000);

  test("an interrupt is ACP's cancel: the turn ends interrupted and opencode stays for the next message", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.script({ text: "This answer comes too late.", heldUntil: held }, { text: "Back again." });
    const chat = await connect();
    const pids = async () => (await podSh("pgrep -f '[b]in/opencode acp'")).stdout.trim();
    const running = await pids();
    expect(running).not.toBe("");
    const before = mainRequests().length;
    const from = chat.events.length;
    chat.send("Take your time.");
    await untilAsked(() => mainRequests().length, before);
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

  test("opencode exiting mid-turn is said once, and it is started again at the next message", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.script({ text: "Never heard.", heldUntil: held });
    const chat = await connect();
    const before = mainRequests().length;
    let from = chat.events.length;
    chat.send("Start something long.");
    await untilAsked(() => mainRequests().length, before);
    await podSh("pkill -KILL -f '[b]in/opencode acp'");
    await chat.next("turn_end", from, 60_000);
    release();
    const errors = chat.events.slice(from).filter((e) => e.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain("opencode stopped during the turn");
    fake.script({ text: "Started again." });
    from = chat.events.length;
    const next = await chat.turn("Hello again.", 180_000);
    expect(next.filter((e) => e.type === "error")).toEqual([]);
    expect(next.find((e) => e.type === "assistant_message")!.text).toBe("Started again.");
    // The new process loaded opencode's saved session: the model is asked with the conversation so far.
    expect(JSON.stringify(mainRequests().at(-1)!.body.messages)).toContain("Say hello.");
    expect((await podSh("pgrep -f '[b]in/opencode acp' | wc -l")).stdout.trim()).not.toBe("0");
    chat.close();
  }, 300_000);
});
