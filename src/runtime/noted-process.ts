import type { Pod, PodProcess, Runtime } from "./runtime.ts";

/** Where a long-lived process Pier starts in a pod runs: the runtime, the pod and its directory. */
export interface PodPlace {
  runtime: Runtime;
  pod: Pod;
  cwd: string;
}

/** How long a process gets to end by itself, once its stdin is closed, before it is signalled. */
const GRACE_MS = 2000;

/**
 * Stops a process started in a pod under a wrapper that noted its id in `pidFile` (the wrapper
 * runs `echo $$ > "$0"` before it execs the program, so the id is the program's): its stdin is
 * closed and it gets a moment to end; then it and its children are ended in the pod, TERM first,
 * KILL if need be, and the note removed. A process that ended by itself is not signalled.
 */
export async function stopNotedProcess(place: PodPlace, process: PodProcess, pidFile: string): Promise<void> {
  process.close();
  const ended = await Promise.race([process.exited.then(() => true), Bun.sleep(GRACE_MS).then(() => false)]);
  const script = ended
    ? 'rm -f "$0"'
    : [
        'p=$(cat "$0" 2>/dev/null) || exit 0',
        'pkill -TERM -P "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null',
        'for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done',
        'pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null',
        'rm -f "$0"',
      ].join("\n");
  await place.runtime.exec(place.pod, ["bash", "-c", script, pidFile], { cwd: "/", timeoutMs: 15_000 }).catch(() => undefined);
}

/**
 * Ends every process still noted under `prefix` (its `<prefix>*.pid` files) together with all it
 * started, and removes the notes: what a server that was killed had started there, which would
 * otherwise run on unseen (a Claude Code turn carrying on beside the one resumed after the restart).
 * Only a noted id whose command line still has `marker` in it is ended, never whatever reused the number.
 */
export async function stopLeftoverProcesses(place: PodPlace, prefix: string, marker: string): Promise<void> {
  const script = [
    'tree() { echo "$1"; for c in $(pgrep -P "$1"); do tree "$c"; done; }',
    'for f in "$0"*.pid; do',
    '  [ -f "$f" ] || continue',
    '  p=$(cat "$f" 2>/dev/null)',
    '  case "$p" in ""|*[!0-9]*) ;; *) if tr "\\0" " " < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1"; then kill -KILL $(tree "$p") 2>/dev/null; fi ;; esac',
    '  rm -f "$f"',
    "done",
  ].join("\n");
  await place.runtime.exec(place.pod, ["bash", "-c", script, prefix, marker], { cwd: "/", timeoutMs: 15_000 }).catch(() => undefined);
}

/** What is kept of a noted process's stderr, to say why it stopped. */
const STDERR_TAIL_BYTES = 2048;

/**
 * The life of a long-lived process Pier started in a pod under the noting wrapper (a chat
 * engine's agent: Claude Code, an ACP agent): the tail of what it says on stderr, its stop
 * (stopNotedProcess, once), and why it went when it went by itself, to be told to the person once.
 */
export class NotedProcess {
  private stderr = "";
  private stopping = false;
  /** Why the process is gone, when it went by itself (for the person to read). */
  problem: string | null = null;
  /** The person was told why it went, so it is not said again. */
  told = false;

  protected constructor(
    protected readonly place: PodPlace,
    protected readonly process: PodProcess,
    private readonly pidFile: string,
  ) {
    process.onErrorOutput((chunk) => {
      this.stderr = (this.stderr + new TextDecoder().decode(chunk)).slice(-STDERR_TAIL_BYTES);
    });
  }

  /** Whether it stopped (by itself, or was stopped). */
  get ended(): boolean {
    return this.stopping || this.problem !== null;
  }

  /** What it last said on stderr, for an error that says why it stopped. */
  stderrTail(): string {
    return this.stderr.trim().split("\n").slice(-5).join("\n");
  }

  /** Closes its stdin, and ends it (and what it started) in the pod if it does not end by itself. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await stopNotedProcess(this.place, this.process, this.pidFile);
  }

  /** It went away by itself: noted once, with what it said. */
  markGone(fallback: string): void {
    if (this.stopping || this.problem) return;
    const said = this.stderrTail();
    this.problem = said ? `${fallback} (it said: ${said.slice(0, 500)})` : fallback;
  }
}
