/**
 * The session budget, in a real pod with the real Claude Code CLI: a scripted chat turn of Pier's
 * agent whose second response reaches the budget is stopped there (its tool never runs, no third
 * request is made, nothing is billed past that response), the person is told in the chat and by
 * "needs you", "budget.exceeded" is published, and then `claude -p` typed in the session's
 * terminal is refused by Pier's gateway with the API's error naming the budget, reaching nothing.
 * A Claude Code chat turn, metered by the gateway, is stopped the same way.
 *
 * The pod uses host networking (PIER_POD_NETWORK=host) so that it reaches Pier, and Pier the fake,
 * on 127.0.0.1; nothing else is reached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BudgetExceeded } from "../../src/costs/budget-gate.ts";
import { ChatClient } from "../support/chat-client.ts";
import { claudeCodeTestImage } from "../support/claude-code.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = `sk-ant-real-key-${crypto.randomUUID()}`;
/** 10 000 input and 100 output tokens of claude-sonnet-4-6 ($3 and $15 per million): $0.0315 a response. */
const STEP = { input_tokens: 10_000, output_tokens: 100 };
const STEP_USD = (10_000 * 3 + 100 * 15) / 1e6;

describe("the session budget", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-session-budget-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  const exceeded: BudgetExceeded[] = [];
  /** The sessions to end when done. */
  const ended: string[] = [];
  const headers = () => ({ cookie, origin: pier.url });
  const sessionNow = async () => (await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { costUsd: number; attention: string | null };
  const inPod = async (script: string) => {
    const child = Bun.spawn(["docker", "exec", "-u", "1000", "-w", session.worktreePath, session.podId!, "bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const [out] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    return out.trim();
  };

  beforeAll(async () => {
    const image = await claudeCodeTestImage();
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: image, PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY, sessionBudgetUsd: 0.05 }, { cookie }), method: "PUT" });
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("session-budget").path}`, "session-budget");
    session = await activeSession(pier, cookie, { repoId });
    ended.push(session.id);
    pier.pier.bus.subscribe("budget.exceeded", null, (event) => exceeded.push(event));
  }, 600_000);

  afterAll(async () => {
    // Ended first, so nothing opens the pod again as it goes.
    for (const id of ended) await pier.fetch(`/api/sessions/${id}/end`, { method: "POST", headers: headers() });
    await pier.pier.pods.removeAll(session.repoId).catch(() => undefined);
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("a chat turn that reaches it is stopped at that response, its person told", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    // Nothing scripted after the response that reaches the budget: a third request would be an error, and counted.
    fake.script(
      { toolUse: { name: "write_file", input: { path: "first.txt", content: "within the budget\n" } }, usage: STEP },
      { toolUse: { name: "write_file", input: { path: "second.txt", content: "past the budget\n" } }, usage: STEP },
    );
    const events = await chat.turn("Write two files.", 120_000);
    // The first step ran; the second response reached the budget, so its tool never ran and nothing more was asked.
    expect(fake.requests).toHaveLength(2);
    expect(await inPod("cat first.txt; ls second.txt 2>&1")).toBe("within the budget\nls: cannot access 'second.txt': No such file or directory");
    expect(events.filter((event) => event.type === "tool_result").map((event) => event.isError)).toEqual([false]);
    const refusal = events.find((event) => event.type === "error")!;
    expect(refusal).toMatchObject({ code: "budget_exceeded" });
    expect(refusal.message).toBe("This session reached the session budget: it has spent $0.06 of $0.05, so Pier stopped its agent and refuses its model requests until an admin raises the budget in Settings.");
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: "turn_end", interrupted: true });
    expect(end.costUsd).toBeCloseTo(2 * STEP_USD, 10);
    // Billed exactly the two responses: nothing past the one that reached the budget.
    const now = await sessionNow();
    expect(now.costUsd).toBeCloseTo(2 * STEP_USD, 10);
    expect(now.attention).toBe("budget");
    expect(exceeded).toEqual([{ sessionId: session.id, budget: "session", limitUsd: 0.05, spentUsd: expect.closeTo(2 * STEP_USD, 10) }]);
    chat.close();
  }, 180_000);

  test("then claude -p in its terminal gets the gateway's refusal naming the budget, and nothing reaches the API", async () => {
    const sent = fake.requests.length;
    const term = await TermClient.connect(pier.url, session.id, { cookie });
    try {
      term.input(`CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 claude -p "Say hello." ; echo "CC-EXIT-$?"\r`);
      await term.waitFor(/CC-EXIT-\d+/, 120_000);
      const shown = term.text.replace(/\s+/g, " ");
      expect(shown).toContain("This session reached the session budget");
      expect(shown).toMatch(/CC-EXIT-[1-9]/);
    } finally {
      term.close();
    }
    expect(fake.requests).toHaveLength(sent);
    expect((await sessionNow()).costUsd).toBeCloseTo(2 * STEP_USD, 10);
    // Said once, as it was reached: the terminal's refusals are in the terminal.
    expect(exceeded).toHaveLength(1);
  }, 180_000);

  test("a Claude Code chat turn that reaches it through the gateway is stopped too, and billed no further", async () => {
    const other = await activeSession(pier, cookie, { repoId: session.repoId, engine: "claude-code", model: "claude-sonnet-4-6" });
    ended.push(other.id);
    const chat = await ChatClient.connect(pier.url, other.id, headers());
    const sent = fake.requests.length;
    fake.script(
      { toolUse: { name: "Bash", input: { command: "echo one > one.txt", description: "First" } }, usage: STEP },
      { toolUse: { name: "Bash", input: { command: "echo two > two.txt", description: "Second" } }, usage: STEP },
    );
    const events = await chat.turn("Write two files.", 120_000);
    expect(events.at(-1)).toMatchObject({ type: "turn_end", interrupted: true });
    expect(events.find((event) => event.type === "error")).toMatchObject({ code: "budget_exceeded" });
    // Claude Code's next request after the one that reached the budget was refused by the gateway, or never made.
    expect(fake.requests.length - sent).toBe(2);
    const now = (await (await pier.fetch(`/api/sessions/${other.id}`, { headers: { cookie } })).json()) as { costUsd: number; attention: string | null };
    expect(now.costUsd).toBeCloseTo(2 * STEP_USD, 10);
    expect(now.attention).toBe("budget");
    expect(exceeded.at(-1)).toEqual({ sessionId: other.id, budget: "session", limitUsd: 0.05, spentUsd: expect.closeTo(2 * STEP_USD, 10) });
    chat.close();
  }, 300_000);
});
