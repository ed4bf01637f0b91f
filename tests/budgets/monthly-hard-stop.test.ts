/**
 * The monthly budget as a hard stop, on the local runtime with the suite's stand-in for the
 * Anthropic API: the chat turn whose response reaches it is stopped before its next step, the
 * gateway then refuses every session's model requests with the API's error shape naming the
 * budget (each session's person told once, in its chat and by "needs you"), and as a soft budget
 * (or a raised one) requests go through again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BudgetExceeded } from "../../src/costs/budget-gate.ts";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-budget-real-key-0000000000";
const GATEWAY = "/api/gateway/anthropic";
/** 20 000 input tokens of claude-sonnet-4-6 at $3 per million: one response of $0.06, past a $0.05 budget. */
const COSTLY = { input_tokens: 20_000, output_tokens: 0 };

describe("the monthly budget as a hard stop", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-monthly-stop-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let first: SessionJson;
  let second: SessionJson;
  const exceeded: BudgetExceeded[] = [];
  const headers = () => ({ cookie, origin: pier.url });
  const put = (body: Record<string, unknown>) => pier.fetch("/api/settings", { ...json(body, { cookie }), method: "PUT" });

  /** What the session's key helper prints: the gateway token a claude in its terminal uses. */
  const helperToken = async (of: SessionJson) => {
    const settings = JSON.parse(readFileSync(join(of.worktreePath, ".claude/settings.local.json"), "utf8")) as { apiKeyHelper: string };
    const child = Bun.spawn(["sh", "-c", settings.apiKeyHelper], { stdout: "pipe" });
    return (await new Response(child.stdout).text()).trim();
  };
  const messages = async (of: SessionJson) =>
    pier.fetch(`${GATEWAY}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": await helperToken(of) },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }),
    });
  const transcript = async (of: SessionJson) => (await (await pier.fetch(`/api/sessions/${of.id}/transcript`, { headers: { cookie } })).json()) as Array<Record<string, any>>;
  const attention = async (of: SessionJson) => ((await (await pier.fetch(`/api/sessions/${of.id}`, { headers: { cookie } })).json()) as { attention: string | null }).attention;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    expect((await put({ anthropicApiKey: API_KEY, monthlyBudgetUsd: 0.05, monthlyBudgetHard: true })).status).toBe(200);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("monthly").path}`, "monthly");
    first = await activeSession(pier, cookie, { repoId });
    second = await activeSession(pier, cookie, { repoId });
    pier.pier.bus.subscribe("budget.exceeded", null, (event) => exceeded.push(event));
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the response that reaches it is the turn's last: the turn stops before its tool runs, and the person is told", async () => {
    const chat = await ChatClient.connect(pier.url, first.id, headers());
    fake.script(
      { toolUse: { name: "write_file", input: { path: "after-budget.txt", content: "should never be written\n" } }, usage: COSTLY },
      { text: "A second step the budget never paid for." },
    );
    const events = await chat.turn("Write a file.");
    expect(fake.requests).toHaveLength(1);
    const refusal = events.find((event) => event.type === "error")!;
    expect(refusal.code).toBe("budget_exceeded");
    expect(refusal.message).toContain("reached the monthly budget of $0.05, a hard stop");
    expect(events.at(-1)).toMatchObject({ type: "turn_end", interrupted: true });
    expect(events.some((event) => event.type === "tool_result" && !event.isError)).toBe(false);
    expect(existsSync(join(first.worktreePath, "after-budget.txt"))).toBe(false);
    expect(exceeded).toEqual([{ sessionId: first.id, budget: "monthly", limitUsd: 0.05, spentUsd: expect.closeTo(0.06, 10) }]);
    // Nobody looks at the session: it needs its person, for the budget.
    expect(await attention(first)).toBe("budget");

    // A new message is refused at once, saying why, and asks the model nothing.
    const from = chat.events.length;
    chat.send("Go on.");
    const again = await chat.next("error", from);
    expect(again.code).toBe("budget_exceeded");
    expect(fake.requests).toHaveLength(1);
    expect(chat.events.slice(from).some((event) => event.type === "turn_start" || event.type === "turn_end")).toBe(false);
    chat.close();
  }, 60_000);

  test("the gateway refuses another session's model request with the API's error shape, and its person is told too", async () => {
    const res = await messages(second);
    expect(res.status).toBe(429);
    expect(res.headers.get("x-should-retry")).toBe("false");
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("budget_exceeded");
    expect(body.error.message).toContain("This month's spending, $0.06, reached the monthly budget of $0.05");
    expect(fake.requests).toHaveLength(1);
    expect(exceeded.at(-1)).toEqual({ sessionId: second.id, budget: "monthly", limitUsd: 0.05, spentUsd: expect.closeTo(0.06, 10) });
    const told = (await transcript(second)).filter((item) => item.kind === "error");
    expect(told).toEqual([expect.objectContaining({ code: "budget_exceeded", message: body.error.message })]);
    expect(await attention(second)).toBe("budget");
    // Told once: the next refusal says so in its answer, not again in the chat.
    expect((await messages(second)).status).toBe(429);
    expect((await transcript(second)).filter((item) => item.kind === "error")).toHaveLength(1);
  });

  test("as a soft budget, or once raised, requests go through again", async () => {
    await put({ monthlyBudgetHard: false });
    const soft = await messages(second);
    expect(soft.status).toBe(200);
    await soft.text();
    expect(fake.requests).toHaveLength(2);
    await put({ monthlyBudgetHard: true, monthlyBudgetUsd: 100 });
    fake.script({ text: "Within the raised budget." });
    const raised = await messages(second);
    expect(raised.status).toBe(200);
    expect(await raised.text()).toContain("Within the raised budget.");
    expect(fake.requests).toHaveLength(3);
  });
});
