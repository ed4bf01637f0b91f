import { KeyedLock } from "../infra/keyed-lock.ts";
import type { PodKey } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { type DevcontainerConfig, LIFECYCLE_STEPS, type LifecycleName } from "./environment.ts";
import { runLifecycleStep } from "./lifecycle.ts";

/** What the pods keep of a pod's environment: the configuration it was made from and how far its commands have run. */
export interface LifecycleMarks {
  get(key: PodKey): { config: DevcontainerConfig | null; createdCommandsIn: string | null; startCommandsFor: string | null } | null;
  set(key: PodKey, marks: { createdCommandsIn?: string; startCommandsFor?: string }): void;
}

/** The steps that run once in each pod (each new container), in order. */
export const ONCE_PER_POD: LifecycleName[] = ["onCreateCommand", "updateContentCommand", "postCreateCommand"];

export interface OpeningSession {
  /**
   * The session's worktree, where every step runs: the person's clone is bare (each session has
   * its worktree), so a checkout of the repository is where a command such as `npm ci` finds what
   * it needs, as the spec's workspace folder is.
   */
  worktree: string;
  /** Whether a session is opening (postAttachCommand runs), or the pod was made again under live ones. */
  attach: boolean;
  /** remoteEnv and Pier's variables for the commands. */
  env: Record<string, string>;
  /** A step begins. */
  begin: (name: LifecycleName) => void;
  /** The running step's latest lines of output (made fit to show). */
  show: (lines: string[]) => void;
  /** A step after waitFor failed, once the session was open: told to the person (in the terminal). */
  late: (message: string) => void;
}

/**
 * The devcontainer's lifecycle commands, run as the spec says: onCreateCommand,
 * updateContentCommand and postCreateCommand once per pod (a pod made again runs them again),
 * postStartCommand at each start of the pod, postAttachCommand for each session; all in the
 * worktree of the session that opens (a pod warmed with no session yet waits for its first).
 * A session waits for the steps up to the configuration's waitFor (a failure there fails its
 * start, with the command's last lines, and a Retry runs the step again); later steps go on
 * after it opens. Which steps have run is kept with the pod, so a restart of Pier does not run
 * them twice; two sessions starting at once run them once. A once-per-pod step is written down
 * as begun before it runs: one a killed Pier left begun (it may still be running in the
 * container, half done) makes the container's making cut off, and the pod is made again.
 */
export class PodLifecycle {
  private lock = new KeyedLock();
  /** The containers a once-per-pod step runs in now, in this process. */
  private running = new Set<string>();

  constructor(private marks: LifecycleMarks) {}

  /** Whether a once-per-pod step was begun in the container and never ended, and is not running here: a Pier killed in the middle of it. */
  cutOff(key: PodKey, containerId: string): boolean {
    const mark = readMark(this.marks.get(key)?.createdCommandsIn ?? null);
    return mark.container === containerId && mark.begun && !this.running.has(containerId);
  }

  /** Runs what the pod's environment asks for when a session opens in it (or the pod was made again under it). */
  async opening(shell: PodShell, key: PodKey, session: OpeningSession, startedAt: string | null): Promise<void> {
    const config = this.marks.get(key)?.config;
    if (!config) return;
    const podId = shell.pod.id;
    const lockId = `${key.repoId}/${key.userId}`;
    const run = async (name: LifecycleName, cwd: string) => {
      const step = config.lifecycle[name];
      if (!step) return;
      session.begin(name);
      await runLifecycleStep(shell, name, step, { cwd, env: session.env, onLines: session.show });
    };
    const steps: Array<{ name: LifecycleName; run: () => Promise<void> }> = ONCE_PER_POD.map((name, index) => ({
      name,
      run: () =>
        this.lock.run(lockId, async () => {
          if (readMark(this.marks.get(key)?.createdCommandsIn ?? null).doneIn(podId) > index) return;
          this.running.add(podId);
          this.marks.set(key, { createdCommandsIn: `${podId}#${index}+` });
          try {
            await run(name, session.worktree);
            this.marks.set(key, { createdCommandsIn: `${podId}#${index + 1}` });
          } catch (error) {
            // Ended, if not well: a Retry runs it again in the same container.
            this.marks.set(key, { createdCommandsIn: `${podId}#${index}` });
            throw error;
          } finally {
            this.running.delete(podId);
          }
        }),
    }));
    steps.push({
      name: "postStartCommand",
      run: () =>
        this.lock.run(lockId, async () => {
          const start = `${podId}@${startedAt ?? ""}`;
          if (this.marks.get(key)?.startCommandsFor === start) return;
          await run("postStartCommand", session.worktree);
          this.marks.set(key, { startCommandsFor: start });
        }),
    });
    if (session.attach) steps.push({ name: "postAttachCommand", run: () => run("postAttachCommand", session.worktree) });

    const waitFor = LIFECYCLE_STEPS.indexOf(config.waitFor);
    let opened = false;
    let open: () => void = () => {};
    const waited = new Promise<void>((resolve) => {
      open = () => {
        opened = true;
        resolve();
      };
    });
    const all = (async () => {
      for (const step of steps) {
        if (!opened && LIFECYCLE_STEPS.indexOf(step.name) > waitFor) open();
        await step.run();
      }
      open();
    })();
    all.catch((error: unknown) => {
      if (opened) session.late(error instanceof Error ? error.message : String(error));
    });
    await Promise.race([waited, all]);
  }
}

/**
 * What a pod's mark of its once-per-pod steps says: "<container>#<count>", that many of them ran
 * to the end in that container; with "+" after it, the next one began there and has not ended.
 */
function readMark(mark: string | null): { container: string | null; begun: boolean; doneIn(podId: string): number } {
  const [container = null, count = ""] = mark?.split("#") ?? [];
  const done = Number.parseInt(count, 10) || 0;
  return { container, begun: count.endsWith("+"), doneIn: (podId) => (container === podId ? done : 0) };
}
