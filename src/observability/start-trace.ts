import { AsyncLocalStorage } from "node:async_hooks";
import { appendFileSync } from "node:fs";

/**
 * How long each step of a session's start takes, for bench/sessions.ts: with PIER_TRACE naming a
 * file, every step taken for a session (and every Docker call made meanwhile on its behalf) is
 * appended to it as a JSON line `{session, step, at, ms}`, `at` counted from the session's start.
 * The session a step belongs to travels with the async calls that make it (AsyncLocalStorage),
 * so the code between does not pass it along. Off, which is the default, a step is one check.
 */
interface TracedStart {
  sessionId: string;
  startedAt: number;
}

const current = new AsyncLocalStorage<TracedStart>();
let file: string | null = null;

/** Where steps are written (from PIER_TRACE at start), or null for nowhere. */
export function traceStartsTo(path: string | null): void {
  file = path;
}

/** Runs `work` as part of the session's start (begun at `startedAt`, a performance.now() time). */
export function traceStart<T>(sessionId: string, startedAt: number, work: () => T): T {
  return file ? current.run({ sessionId, startedAt }, work) : work();
}

/** Times one step of a traced start; outside one, it only runs it. */
export async function traceStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  const start = file ? current.getStore() : undefined;
  if (!start) return work();
  const began = performance.now();
  try {
    return await work();
  } finally {
    write(start, step, began, performance.now() - began);
  }
}

/** A step of a traced start timed elsewhere (in a pod, say): it began at `began` (a performance.now() time) and took `ms`. */
export function traceTimed(step: string, began: number, ms: number): void {
  const start = file ? current.getStore() : undefined;
  if (start) write(start, step, began, ms);
}

/** Whether steps are being traced now (so a pod script is worth asking for its own times). */
export function tracing(): boolean {
  return file !== null && current.getStore() !== undefined;
}

/**
 * The steps a pod script timed itself: its `mark=<step> <time>` lines (bash's $EPOCHREALTIME, read
 * without starting a process; the pod shares the server's clock) each end a step begun at the mark before.
 */
export function tracePodMarks(prefix: string, output: string): void {
  // The clock performance.now() counts on drifts from the wall clock over a long run: take the difference now.
  const wallToMonotonic = performance.now() - Date.now();
  let previous: number | null = null;
  for (const line of output.split("\n")) {
    const match = /^mark=(\S+) (\d+)[.,](\d+)$/.exec(line);
    if (!match) continue;
    const at = Number(match[2]) * 1000 + Number(`0.${match[3]}`) * 1000 + wallToMonotonic;
    if (previous !== null) traceTimed(`${prefix}: ${match[1]}`, previous, at - previous);
    previous = at;
  }
}

function write(start: TracedStart, step: string, began: number, ms: number): void {
  const line = { session: start.sessionId, step, at: round(began - start.startedAt), ms: round(ms) };
  appendFileSync(file!, JSON.stringify(line) + "\n");
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
