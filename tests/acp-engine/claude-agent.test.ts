/**
 * The ACP engine with Claude Code through its ACP adapter (`claude-agent-acp` from npm, with the
 * Claude Agent SDK's Claude Code, supplied into the pod by pier.agents) against the fake Anthropic
 * server through Pier's gateway: the agent that reports a plan (its to-do list) over ACP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AcpTestPier, startAcpTestPier } from "../support/acp-engine.ts";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import type { SessionJson } from "../support/sessions.ts";

const API_KEY = "sk-ant-acp-claude-agent-test-0000000000";
/** Not Claude Code's own default, so the model asked is the session's. */
const MODEL = "claude-haiku-4-5";

describe("Claude Code's ACP adapter as the chat engine", () => {
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let acp: AcpTestPier;
  let session: SessionJson;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    acp = await startAcpTestPier("acp-claude-agent", { ANTHROPIC_BASE_URL: fake.url }, { anthropicApiKey: API_KEY });
    session = await acp.startSession({ model: MODEL, engine: "acp", agent: "claude-code" });
  }, 600_000);

  afterAll(async () => {
    await acp.close();
    await fake.stop();
  }, 120_000);

  test("its plan is shown as a to-do list, on the session's model", async () => {
    await acp.setPolicy({ mode: "allow_all" });
    const todos = [
      { content: "Read the notes", status: "completed", activeForm: "Reading the notes" },
      { content: "Change two to three", status: "in_progress", activeForm: "Changing two to three" },
      { content: "Run the tests", status: "pending", activeForm: "Running the tests" },
    ];
    // Claude Code names the session with a request of its own, without tools; answered apart from the script.
    fake.scriptWhen((body) => (body.tools ?? []).length === 0, { text: "Planning" }, { text: "Planning" }, { text: "Planning" });
    fake.script({ toolUse: { name: "TodoWrite", input: { todos } } }, { text: "That is the plan." });
    const chat = await ChatClient.connect(acp.pier.url, session.id, acp.headers());
    // The first turn waits for the adapter and its Claude Code to be fetched from the registry (once per machine).
    const events = await chat.turn("Plan the change.", 600_000);
    const plans = events.filter((e) => e.type === "tool_call" && e.name === "plan");
    expect(plans.length).toBeGreaterThan(0);
    // The adapter words an entry under way by its activeForm.
    expect(plans[0]!.input.todos.map((t: { content: string; status: string }) => [t.content, t.status])).toEqual([
      ["Read the notes", "completed"],
      ["Changing two to three", "in_progress"],
      ["Run the tests", "pending"],
    ]);
    const list = events.find((e) => e.type === "tool_result" && e.id === plans[0]!.id)!;
    expect(list.output).toBe("[x] Read the notes\n[>] Changing two to three\n[ ] Run the tests");
    expect(list.isError).toBe(false);
    expect(events.find((e) => e.type === "assistant_message" && e.text.includes("That is the plan."))).toBeDefined();
    expect(fake.requests.some((r) => r.body.model === MODEL && JSON.stringify(r.body.messages).includes("Plan the change."))).toBe(true);
    chat.close();
  }, 900_000);
});
