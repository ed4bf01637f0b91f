/**
 * One task tried side by side by Pier's own agent and by an ACP agent (Gemini CLI from npm, in its
 * pod, through Pier's gateway to the fake Gemini API): each attempt commits, its branch is pushed
 * and its pull request opened, and each is metered. The pods use the host's network so that the
 * agent reaches Pier (and git the fake GitHub) on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf, priceOf } from "../../src/costs/costs.ts";
import type { FakeAnthropic } from "../support/fake-anthropic.ts";
import { type FakeGemini, startFakeGemini } from "../support/fake-gemini.ts";
import type { FakeGitHub } from "../support/fake-github.ts";
import type { TestPier } from "../support/pier.ts";
import { agentCommits, runCalls, setUpRuns, tearDownRuns } from "../support/runs.ts";
import type { SessionJson } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const GEMINI_KEY = "gemini-acp-run-test-key-0000000000000";
const GEMINI_MODEL = "gemini-2.5-flash";

describe("a run's attempt with an ACP agent", () => {
  let github: FakeGitHub;
  let anthropic: FakeAnthropic;
  let gemini: FakeGemini;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  const { get, newTask, startRuns, runIn } = runCalls(() => ({ pier, cookie, repoId }));

  beforeAll(async () => {
    gemini = await startFakeGemini({ apiKeys: [GEMINI_KEY] });
    const env = { ...(await dockerTestEnv()), PIER_RUNTIME: "docker", PIER_POD_NETWORK: "host", GEMINI_BASE_URL: gemini.url };
    ({ github, anthropic, pier, cookie, repoId } = await setUpRuns({ maxConcurrentRuns: 2, geminiApiKey: GEMINI_KEY }, env));
  }, 600_000);

  afterAll(async () => {
    await tearDownRuns({ pier, github, anthropic });
    await gemini?.stop();
  }, 120_000);

  test("Pier's agent and Gemini CLI each try the task: each commits on its own branch, opens its pull request and is metered", async () => {
    const taskId = await newTask("Say hello", "Add hello.txt saying hello.");
    anthropic.script(...agentCommits("hello.txt", "hello from pier\n", "Say hello"));
    gemini.script(
      { functionCall: { name: "run_shell_command", args: { command: "printf 'hello from gemini\\n' > hello.txt && git add -A && git commit -qm 'Say hello' && git log --oneline -1", description: "Commit hello.txt" } } },
      { text: "Done: committed.", usage: { prompt: 2000, candidates: 40 } },
    );
    const runs = await startRuns(taskId, { variants: [{ engine: "pier", model: "claude-sonnet-4-6" }, { engine: "acp", agent: "gemini", model: GEMINI_MODEL }] });
    expect(runs).toHaveLength(2);
    // The first attempt's turn waits for Gemini CLI and its Node to be fetched from the registry (once per machine).
    const done = await Promise.all(runs.map((run) => runIn(run.id, "waiting_ci", "failed")));
    expect(done.map((run) => run.reason)).toEqual([null, null]);
    const [pierRun, geminiRun] = done;
    const session = await get<SessionJson>(`/api/sessions/${geminiRun!.sessionId}`);
    expect(session).toMatchObject({ engine: "acp", agent: "gemini", model: GEMINI_MODEL });

    // Gemini CLI was given the task (quoted, after Pier's instruction) and answered on the run's model.
    const first = gemini.requests[0]!;
    expect(first.path).toBe(`/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`);
    const asked = JSON.stringify(first.body.contents);
    expect(asked).toContain("commit it on the current branch");
    expect(asked).toContain("Add hello.txt saying hello.");

    // Each attempt's own pull request, from its own branch, with its own agent's file.
    expect(pierRun!.prNumber).not.toBe(geminiRun!.prNumber);
    const pull = await github.pull("octo", "widgets", geminiRun!.prNumber!);
    expect(pull.state).toBe("open");
    expect(github.gitAt("octo", "widgets", "show", `${pull.headSha}:hello.txt`)).toBe("hello from gemini");
    const pierPull = await github.pull("octo", "widgets", pierRun!.prNumber!);
    expect(github.gitAt("octo", "widgets", "show", `${pierPull.headSha}:hello.txt`)).toBe("hello from pier");

    // Metered through the gateway: the Gemini attempt costs its two answers' usage (the first the fake's default).
    const usage = { inputTokens: 100 + 2000, outputTokens: 10 + 40, cacheWriteTokens: 0, cacheReadTokens: 0 };
    expect(geminiRun!.costUsd).toBeCloseTo(costOf(priceOf(pier.pier.db, GEMINI_MODEL)!, usage), 10);
    expect(pierRun!.costUsd).toBeGreaterThan(0);
  }, 900_000);
});
