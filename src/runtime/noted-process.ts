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
