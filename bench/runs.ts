/**
 * What an unattended run (issue 24) costs beyond the agent's own work, median of N runs:
 * - Pier's time from POST /api/tasks/:id/runs to the agent's first model request reaching the
 *   fake Anthropic, on a warm pod (the repo's pod running, its clone made by a run before), and
 *   of it the run's session start to `active` (Pier's start trace, PIER_TRACE);
 * - from Pier seeing its pull request's CI green to the run awaiting approval: CI reported through
 *   the fake GitHub's signed `check_run` webhook (Pier asks GitHub about the PR at once); the two
 *   moments are the session event stream's `pr` event saying "passing" and its `run` event saying
 *   `awaiting_approval`, read on one connection, so both carry the same delivery delay;
 * - GitHub requests from Run to the pull request squash-merged and the session ended, API and git
 *   apart, with prPollSeconds at its maximum so the timer's polls add none beyond the first look;
 * - the server's resident memory with no run working, then with 4 runs working at once (each
 *   agent's model answer held by the fake), maxConcurrentRuns 4: (RSS4 − RSS0) / 4.
 * Pier runs as its own process with the Docker runtime and the suite's test image; the fakes run
 * in this process on 127.0.0.1 and the pods use host networking to reach them (and Pier).
 * Run: bun bench/runs.ts [runs]   (needs a Docker engine)
 */
import Docker from "dockerode";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { type Step, startFakeAnthropic } from "../tests/support/fake-anthropic.ts";
import { signWebhook, startFakeGitHub } from "../tests/support/fake-github.ts";
import { makeRemoteRepo } from "../tests/support/git-fixtures.ts";
import { removeRepoPods, startBenchPier } from "./pier-process.ts";

const runs = Number(process.argv[2] ?? 5);
const TOKEN = `ghp_${"b".repeat(36)}`;
const API_KEY = "sk-ant-bench-key-runs-000000000";
const WEBHOOK_SECRET = "bench-webhook-secret";
const HELD_RUNS = 4;

const traceFile = join(tmpdir(), `pier-bench-runs-${process.pid}.jsonl`);
const github = await startFakeGitHub({ token: TOKEN });
await github.createRepo("octo", "widgets", { from: makeRemoteRepo("bench-runs").path });
const anthropic = await startFakeAnthropic({ apiKey: API_KEY });
const pier = await startBenchPier("runs", {
  PIER_POD_NETWORK: "host",
  GITHUB_API_URL: github.apiUrl,
  ANTHROPIC_BASE_URL: anthropic.url,
  PIER_TRACE: traceFile,
});
const base = pier.base;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let cookie = "";

async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<any> {
  const res = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json", cookie },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

async function until<T>(what: string, read: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 120_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await Bun.sleep(everyMs);
  }
}

/** The run's agent asking (its first message names the task), not a report or a title asked for alongside. */
const agentOf = (title: string) => (body: { system?: unknown; messages?: unknown }) => body.system !== undefined && JSON.stringify(body.messages).includes(title);

/** The agent's scripted work: a file written, committed through its shell, then a last word. */
function agentCommits(file: string, message: string): Step[] {
  return [
    { toolUse: { name: "write_file", input: { path: file, content: `${message}\n` } } },
    { toolUse: { name: "bash", input: { command: `git add -A && git commit -qm '${message}'` } } },
    { text: "Done: committed." },
  ];
}

/**
 * The session's event stream, each event handed over with the moment it was read here; the
 * promise settles once the stream is open (Pier sends how things stand first).
 */
async function sessionEvents(sessionId: string, onEvent: (event: any, at: number) => void): Promise<() => void> {
  const abort = new AbortController();
  const res = await fetch(`${base}/api/sessions/${sessionId}/events`, { headers: { cookie }, signal: abort.signal });
  if (!res.ok || !res.body) throw new Error(`session events: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = performance.now();
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const data = buffer.slice(0, end).split("\n").find((line) => line.startsWith("data: "));
          buffer = buffer.slice(end + 2);
          if (data) onEvent(JSON.parse(data.slice(6)), at);
        }
      }
    } catch {
      // Aborted by the bench: the stream is no longer wanted.
    }
  })();
  return () => abort.abort();
}

/** GitHub's requests since `from`: the REST API's and git's (clone, fetch, push) apart. */
function githubSince(from: number): { rest: number; git: number } {
  const asked = github.requests.slice(from);
  const rest = asked.filter((request) => request.path.startsWith("/api/v3/")).length;
  return { rest, git: asked.length - rest };
}

interface RunTiming {
  sessionId: string;
  created: number;
  firstRequest: number;
  greenToAwaiting: number;
  webhookToAwaiting: number;
  toPr: { rest: number; git: number };
  ciToAwaiting: { rest: number; git: number };
  approvalToMerged: { rest: number; git: number };
  total: { rest: number; git: number };
  /** Whether the `pr` and `run` events came in one read of the stream (Pier wrote them with no I/O between). */
  sameRead: boolean;
  /** What GitHub was asked, as "METHOD path" with numbers and hashes left out. */
  asked: string[];
}

let repoId: string | null = null;
try {
  await api("/api/setup", { body: { username: "bench", password: "bench password" } });
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "bench", password: "bench password" }),
  });
  cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  await api("/api/settings", {
    method: "PUT",
    body: { githubToken: TOKEN, anthropicApiKey: API_KEY, githubWebhookSecret: WEBHOOK_SECRET, maxConcurrentRuns: HELD_RUNS, prPollSeconds: 3600 },
  });
  repoId = (await api("/api/repos", { body: { url: `${github.url}/octo/widgets.git`, name: "widgets" } })).id as string;

  /** One run from Run to its squash merge, timed and counted. */
  const oneRun = async (label: string): Promise<RunTiming> => {
    const title = `Bench run ${label}.`;
    const { id: taskId } = await api("/api/tasks", { body: { title, description: `Add ${label}.txt.`, repoId } });
    anthropic.scriptWhen(agentOf(title), ...agentCommits(`${label}.txt`, title));
    const githubBefore = github.requests.length;
    const clickedAt = Date.now();
    const [started] = await api(`/api/tasks/${taskId}/runs`, { body: { autoMerge: true } });
    const created = Date.now() - clickedAt;
    const asked = await until("the agent's first request", () => anthropic.requests.find((request) => agentOf(title)(request.body)), (request) => request !== undefined, 60_000, 1);
    const firstRequest = asked!.receivedAt - clickedAt;

    const waiting = await until(`run ${label} waiting on CI`, () => api(`/api/runs/${started.id}`), (run) => run.state === "waiting_ci" || run.state === "failed");
    if (waiting.state === "failed") throw new Error(`run ${label} failed: ${waiting.reason}`);
    const toPr = githubSince(githubBefore);

    // CI goes green on GitHub, which tells Pier by webhook; Pier asks GitHub about the PR and moves the run.
    const seen: { green?: number; awaiting?: number } = {};
    const stopEvents = await sessionEvents(waiting.sessionId, (event, at) => {
      if (event.type === "pr" && event.pr.number === waiting.prNumber && event.pr.ciStatus === "passing") seen.green ??= at;
      if (event.type === "run" && event.state === "awaiting_approval") seen.awaiting ??= at;
    });
    anthropic.scriptWhen((body) => body.system === undefined && JSON.stringify(body.messages).includes(title), { text: `## Summary\n${label}.txt was added.` });
    const { headSha } = await github.pull("octo", "widgets", waiting.prNumber);
    const checkRunId = await github.setCheckRun("octo", "widgets", headSha, { name: "build", status: "completed", conclusion: "success" });
    const payload = JSON.stringify(await github.payloads.checkRun("octo", "widgets", checkRunId, "completed"));
    const beforeCi = github.requests.length;
    const sentAt = performance.now();
    const delivered = await fetch(`${base}/api/github/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "check_run", "x-hub-signature-256": signWebhook(WEBHOOK_SECRET, payload) },
      body: payload,
    });
    if (delivered.status !== 204) throw new Error(`webhook: ${delivered.status} ${await delivered.text()}`);
    await until(`run ${label} awaiting approval`, () => seen, (s) => s.green !== undefined && s.awaiting !== undefined, 60_000, 1);
    stopEvents();
    const ciToAwaiting = githubSince(beforeCi);
    await until("the report", () => api(`/api/tasks/${taskId}/verification`), (report) => report.status === "ready" || report.status === "failed");

    const beforeApproval = github.requests.length;
    await api(`/api/tasks/${taskId}/approve`, { body: {} });
    const done = await until(`run ${label} done`, () => api(`/api/runs/${started.id}`), (run) => run.state === "done");
    if (done.reason) throw new Error(`run ${label} was not merged: ${done.reason}`);
    await until("the run's session ended", () => api(`/api/sessions/${waiting.sessionId}`), (session) => session.state === "ended");
    return {
      sessionId: waiting.sessionId,
      created,
      firstRequest,
      greenToAwaiting: seen.awaiting! - seen.green!,
      webhookToAwaiting: seen.awaiting! - sentAt,
      toPr,
      ciToAwaiting,
      approvalToMerged: githubSince(beforeApproval),
      total: githubSince(githubBefore),
      sameRead: seen.awaiting === seen.green,
      asked: github.requests.slice(githubBefore).map((request) => `${request.method} ${request.path.replace(/\/[0-9a-f]{40}\b/g, "/{sha}").replace(/\/\d+\b/g, "/{n}")}${request.notModified ? " (304)" : ""}`),
    };
  };

  await oneRun("warm-up"); // creates the pod and the repository's clone
  const timings: RunTiming[] = [];
  for (let i = 1; i <= runs; i++) timings.push(await oneRun(`${i} of ${runs}`));

  // Memory: the server at rest, then with HELD_RUNS runs whose agents wait on their model's answer.
  await Bun.sleep(3000);
  const rss = async () => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++, await Bun.sleep(200)) samples.push(pier.memory().rss);
    return median(samples);
  };
  const rss0 = await rss();
  const held = Promise.withResolvers<void>();
  const heldRuns: string[] = [];
  for (let i = 1; i <= HELD_RUNS; i++) {
    const title = `Held run ${i} of ${HELD_RUNS}.`;
    anthropic.scriptWhen(agentOf(title), { text: "Nothing to change.", heldUntil: held.promise });
    const { id: taskId } = await api("/api/tasks", { body: { title, repoId } });
    heldRuns.push((await api(`/api/tasks/${taskId}/runs`, { body: {} }))[0].id);
  }
  await until("every held run's agent asking", () => anthropic.requests.filter((request) => request.body.system !== undefined && JSON.stringify(request.body.messages).includes("Held run")).length, (n) => n === HELD_RUNS);
  const states = await Promise.all(heldRuns.map((id) => api(`/api/runs/${id}`).then((run) => run.state as string)));
  if (states.some((state) => state !== "working")) throw new Error(`the held runs are ${states.join(", ")}, not all working`);
  await Bun.sleep(1000);
  const rss4 = await rss();
  held.resolve();
  await until("the held runs over", () => Promise.all(heldRuns.map((id) => api(`/api/runs/${id}`))), (all) => all.every((run) => run.state === "failed"));

  const activeAt = sessionActiveTimes(traceFile);
  const docker = new Docker();
  const pick = (f: (t: RunTiming) => number) => timings.map(f);
  const row = (measure: string, xs: number[], unit: string, digits = 0) =>
    console.log(`| ${measure} | ${xs.length} | ${median(xs).toFixed(digits)} ${unit} | ${Math.min(...xs).toFixed(digits)} ${unit} | ${Math.max(...xs).toFixed(digits)} ${unit} |`);
  console.log(
    `Unattended runs, ${runs} runs — ${cpus()[0]?.model} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Bun ${Bun.version}, Docker ${(await docker.version()).Version}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC\n`,
  );
  console.log("| measure | runs | median | min | max |");
  console.log("|---|---|---|---|---|");
  row("POST …/runs answered (run queued, its session started)", pick((t) => t.created), "ms");
  const traced = timings.filter((t) => activeAt.has(t.sessionId)).map((t) => activeAt.get(t.sessionId)!);
  if (traced.length > 0) row("of it, the run's session start to active (traced, warm pod)", traced, "ms");
  row("POST …/runs → agent's first model request (warm pod)", pick((t) => t.firstRequest), "ms");
  row("CI seen green (pr event) → awaiting_approval (run event)", pick((t) => t.greenToAwaiting), "ms", 1);
  console.log(`| of the runs, both events in one read of the stream | ${timings.filter((t) => t.sameRead).length} of ${runs} | | | |`);
  row("check_run webhook sent → awaiting_approval (run event)", pick((t) => t.webhookToAwaiting), "ms", 1);
  for (const [phase, key] of [["Run → PR open, waiting on CI", "toPr"], ["CI webhook → awaiting approval", "ciToAwaiting"], ["approval → merged, session ended", "approvalToMerged"], ["whole run", "total"]] as const) {
    row(`GitHub REST requests, ${phase}`, pick((t) => t[key].rest), "", 0);
    row(`GitHub git requests, ${phase}`, pick((t) => t[key].git), "", 0);
  }
  const last = timings.at(-1)!.asked;
  const byRequest = new Map<string, number>();
  for (const request of last) byRequest.set(request, (byRequest.get(request) ?? 0) + 1);
  console.log(`\nWhat GitHub was asked in the last run, in order of first asking:\n`);
  for (const [request, count] of byRequest) console.log(`- ${count} × \`${request}\``);
  console.log(
    `\nServer memory (RSS, median of 5 samples): ${rss0.toFixed(1)} MiB with no run working, ${rss4.toFixed(1)} MiB with ${HELD_RUNS} runs working at once (agents waiting on the model): ${((rss4 - rss0) / HELD_RUNS).toFixed(2)} MiB per running run. Peak (VmHWM) over the bench: ${pier.memory().peak.toFixed(1)} MiB.`,
  );
} finally {
  // Pods outlive Pier by design; a bench's go with it, whether it finished or not. Pier stops
  // first: the held runs' sessions are still active, and it would open a removed pod again.
  await pier.stop();
  if (repoId) await removeRepoPods(repoId);
  await github.stop();
  await anthropic.stop();
  rmSync(traceFile, { force: true });
}

/** When each traced session start reached `active`, counted from the start reaching the server. */
function sessionActiveTimes(file: string): Map<string, number> {
  const times = new Map<string, number>();
  if (!existsSync(file)) return times;
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const step = JSON.parse(line) as { session: string; step: string; at: number };
    if (step.step === "active") times.set(step.session, step.at);
  }
  return times;
}
