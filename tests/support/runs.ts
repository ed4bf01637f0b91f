/**
 * What the tests of unattended runs stand on: the fake GitHub holding octo/widgets, the fake
 * Anthropic scripting each run's agent, a Pier on the local runtime using both, and the calls
 * those tests make to start runs and follow them.
 */
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeAnthropic, type Step, startFakeAnthropic } from "./fake-anthropic.ts";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.ts";
import { makeRemoteRepo } from "./git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "./pier.ts";
import { addRepo } from "./sessions.ts";
import { until } from "./until.ts";

/** The only token the fake GitHub takes and the only key the fake Anthropic takes. */
const GITHUB_TOKEN = `ghp_${"r".repeat(36)}`;
const ANTHROPIC_KEY = "sk-ant-test-key-runs-0000000000";
const HOUR = 3_600_000;

/** A run as GET /api/runs/:id answers. */
export type RunJson = {
  id: string;
  taskId: string;
  sessionId: string | null;
  triggerId: string | null;
  attempt: number;
  model: string;
  state: string;
  reason: string | null;
  rounds: Array<{ kind: string; summary: string; headSha?: string; reviewIds?: number[] }>;
  prNumber: number | null;
  prUrl: string | null;
  autoMerge: boolean;
  budgetUsd: number;
  costUsd: number;
  paused: boolean;
};

export type RunWorld = { github: FakeGitHub; anthropic: FakeAnthropic; pier: TestPier; cookie: string; repoId: string };

/**
 * The fake GitHub with octo/widgets, the fake Anthropic, and a Pier on the local runtime using
 * both (and `env`), in a data directory of its own: an admin signed in (`cookie`), the token and
 * key saved with `settings`, and octo/widgets added as a repository (`repoId`).
 */
export async function setUpRuns(settings: Record<string, unknown>, env: Record<string, string> = {}): Promise<RunWorld> {
  const github = await startFakeGitHub({ token: GITHUB_TOKEN });
  await github.createRepo("octo", "widgets", { from: makeRemoteRepo("widgets").path });
  const anthropic = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
  const pier = await startPierOnFakes(github, anthropic, mkdtempSync(join(tmpdir(), "pier-runs-")), env);
  const cookie = await setUpAdmin(pier);
  const saved = await pier.fetch("/api/settings", { ...json({ githubToken: GITHUB_TOKEN, anthropicApiKey: ANTHROPIC_KEY, ...settings }, { cookie }), method: "PUT" });
  expect(saved.status).toBe(200);
  const repoId = await addRepo(pier, cookie, `${github.url}/octo/widgets.git`, "widgets");
  return { github, anthropic, pier, cookie, repoId };
}

/** A Pier on the local runtime using the fakes, on `dataDir`: how a test starts it again after closing it. */
export function startPierOnFakes(github: FakeGitHub, anthropic: FakeAnthropic, dataDir: string, env: Record<string, string> = {}): Promise<TestPier> {
  return startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", GITHUB_API_URL: github.apiUrl, ANTHROPIC_BASE_URL: anthropic.url, ...env }, dataDir);
}

/** Ends what setUpRuns started (any part of it a failed set-up got to), its data directory too. */
export async function tearDownRuns(world: Partial<RunWorld>): Promise<void> {
  if (world.pier) {
    await closeForGood(world.pier);
    rmSync(world.pier.dataDir, { recursive: true, force: true });
  }
  await world.github?.stop();
  await world.anthropic?.stop();
}

/** The agent's scripted work: a file written, committed with git through its shell, then a last word. */
export function agentCommits(file: string, content: string, message: string): Step[] {
  return [
    { toolUse: { name: "write_file", input: { path: file, content } } },
    { toolUse: { name: "bash", input: { command: `git add -A && git commit -qm '${message}' && git log --oneline -1` } } },
    { text: "Done: committed." },
  ];
}

/** Matches the requests of the agent whose task (its first message) carries `marker`, for scriptWhen. */
export const agentWhoseTaskSays = (marker: string) => (body: { system?: unknown; messages?: unknown[] }) =>
  body.system !== undefined && JSON.stringify(body.messages?.[0] ?? "").includes(marker);

/**
 * The calls a runs test makes as the signed-in person. `at` is read at each call, so a Pier
 * started again, or a cookie signed in again, is the one used from then on.
 */
export function runCalls(at: () => { pier: TestPier; cookie: string; repoId: string }) {
  const get = async <T>(path: string): Promise<T> => (await at().pier.fetch(path, { headers: { cookie: at().cookie } })).json() as Promise<T>;
  const post = (path: string, body: unknown = {}) => at().pier.fetch(path, json(body, { cookie: at().cookie }));
  const runOf = (id: string) => get<RunJson>(`/api/runs/${id}`);
  return {
    get,
    post,
    runOf,
    /** The run, once it is in one of `states`. */
    runIn: (id: string, ...states: string[]) => until(`run ${id} in ${states.join("/")}`, () => runOf(id), (run) => states.includes(run.state)),
    /** A new task on octo/widgets (or on `repoId`); its id. */
    newTask: async (title: string, description = "", repoId = at().repoId): Promise<string> => {
      const res = await post("/api/tasks", { title, description, repoId });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    },
    /** Run pressed on a task: its runs, one an attempt. */
    startRuns: async (taskId: string, body: Record<string, unknown> = {}) => (await (await post(`/api/tasks/${taskId}/runs`, body)).json()) as RunJson[],
    /** GitHub asked again, as if an hour had passed, and the runs moved on by the same clock. */
    pollAndTick: async () => {
      await at().pier.pier.prs.poll(Date.now() + HOUR);
      await at().pier.pier.runs.tick(Date.now() + HOUR);
    },
  };
}
