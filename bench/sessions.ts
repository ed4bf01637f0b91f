/**
 * Time from POST /api/sessions to `active`, and on to the terminal's first screen (a viewer that
 * connects the moment the session is active, and sends its size as a page does, gets its first
 * snapshot) and its prompt: on a warm pod
 * (already running) and on a cold pod (no container yet, image present), median of N runs each,
 * plus the server's peak memory. Then where the time goes: Pier runs with PIER_TRACE, and the
 * steps it traced for each start (see src/observability/start-trace.ts) are summed up per step,
 * median over the runs of when the step began (counted from the POST reaching the server) and how
 * long it took. A Pier without the trace (an older commit) gives the first table alone.
 * Uses the Docker runtime with the suite's test workspace image and a local bare repository.
 * Run: bun bench/sessions.ts [runs]   (needs a Docker engine)
 */
import Docker from "dockerode";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { makeRemoteRepo } from "../tests/support/git-fixtures.ts";
import { benchApi, benchToken, removeRepoPods, sessionUntilActive, startBenchPier } from "./pier-process.ts";

const runs = Number(process.argv[2] ?? 10);
const traceFile = join(tmpdir(), `pier-bench-sessions-${process.pid}.jsonl`);
const pier = await startBenchPier("sessions", { PIER_TRACE: traceFile });
const base = pier.base;

const api = benchApi(base);

const docker = new Docker();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** The prompt of a login shell in the test image ends "$ " (a snapshot drops the space); escapes (colours, bracketed paste, the cursor) do not count. */
const PROMPT = /\$( |\r|$)/;
const ESCAPES = /\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[@-_])/g;

interface Timing {
  id: string;
  active: number;
  firstScreen: number;
  prompt: number;
}

/**
 * The terminal as a person's page meets it: a viewer connects once the session is active; when its
 * first snapshot arrives, and when the shell's prompt is on its screen.
 */
function watchTerminal(sessionId: string, token: string, started: number): Promise<{ firstScreen: number; prompt: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace("http", "ws")}/api/sessions/${sessionId}/terminal`, {
      headers: { authorization: `Bearer ${token}` },
    } as unknown as string[]);
    socket.binaryType = "arraybuffer";
    let firstScreen = 0;
    let text = "";
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no prompt within 20 s; the terminal showed ${JSON.stringify(text.slice(-200))}`));
    }, 20_000);
    // As xterm.js does on opening: the snapshot is laid out for the viewer's size.
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "resize", cols: 200, rows: 50 })));
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") return;
      firstScreen ||= performance.now() - started;
      text += Buffer.from(event.data as ArrayBuffer).toString("latin1");
      if (PROMPT.test(text.replace(ESCAPES, ""))) {
        clearTimeout(timer);
        socket.close();
        resolve({ firstScreen, prompt: performance.now() - started });
      }
    });
    socket.addEventListener("error", () => reject(new Error("the terminal socket failed")));
  });
}

let repoId: string | null = null;
try {
  const token = await benchToken(base);
  const repo = await api("/api/repos", { method: "POST", token, body: JSON.stringify({ url: `file://${makeRemoteRepo("bench").path}` }) });
  repoId = repo.id;

  const oneSession = async (): Promise<Timing> => {
    const { id, started, active } = await sessionUntilActive(api, token, repo.id);
    const terminal = await watchTerminal(id, token, started);
    await api(`/api/sessions/${id}/end`, { method: "POST", token });
    return { id, active, ...terminal };
  };
  const removePod = () => removeRepoPods(repo.id);

  await oneSession(); // creates the pod and the clone
  const warm: Timing[] = [];
  for (let i = 0; i < runs; i++) warm.push(await oneSession());
  const cold: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    await removePod();
    cold.push(await oneSession());
  }

  console.log(`POST /api/sessions → active → first screen, ${runs} runs each — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, Docker ${(await docker.version()).Version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| case | to | median | min | max |");
  console.log("|---|---|---|---|---|");
  for (const [name, timings] of [["warm pod (running)", warm], ["cold pod (container created, image present)", cold]] as const) {
    for (const [to, key] of [["active", "active"], ["first screen", "firstScreen"], ["prompt", "prompt"]] as const) {
      const xs = timings.map((t) => t[key]);
      console.log(`| ${name} | ${to} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`);
    }
  }
  console.log(`\nPeak server memory (VmHWM) over the whole run: ${pier.memory().peak.toFixed(1)} MiB`);
  if (existsSync(traceFile)) {
    const steps = readSteps(traceFile);
    for (const [name, timings] of [["warm", warm], ["cold", cold]] as const) {
      console.log(`\nWhere the time goes, ${name} (median over the runs; "at" counts from the POST reaching the server, a step seen twice in one start is #2):\n`);
      console.log("| step | at | takes |");
      console.log("|---|---|---|");
      for (const row of stepTable(timings.map((t) => steps.get(t.id) ?? []))) console.log(`| ${row.step} | ${row.at.toFixed(1)} ms | ${row.ms.toFixed(1)} ms |`);
    }
  }
} finally {
  // Pods outlive Pier by design; a bench's go with it, whether it finished or not.
  if (repoId) await removeRepoPods(repoId);
  await pier.stop();
  rmSync(traceFile, { force: true });
}

interface Step {
  session: string;
  step: string;
  at: number;
  ms: number;
}

function readSteps(file: string): Map<string, Step[]> {
  const bySession = new Map<string, Step[]>();
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const step = JSON.parse(line) as Step;
    bySession.set(step.session, [...(bySession.get(step.session) ?? []), step]);
  }
  return bySession;
}

/** Per step (the n-th time a start took it counts as its own step), the medians over the starts that took it, in the order they began. */
function stepTable(starts: Step[][]): Array<{ step: string; at: number; ms: number }> {
  const seen = new Map<string, { at: number[]; ms: number[] }>();
  for (const steps of starts) {
    const count = new Map<string, number>();
    for (const { step, at, ms } of [...steps].sort((a, b) => a.at - b.at)) {
      const n = (count.get(step) ?? 0) + 1;
      count.set(step, n);
      const name = n === 1 ? step : `${step} #${n}`;
      const entry = seen.get(name) ?? { at: [], ms: [] };
      entry.at.push(at);
      entry.ms.push(ms);
      seen.set(name, entry);
    }
  }
  return [...seen]
    .map(([step, { at, ms }]) => ({ step: at.length < starts.length ? `${step} (${at.length} of ${starts.length})` : step, at: median(at), ms: median(ms) }))
    .sort((a, b) => a.at - b.at);
}
