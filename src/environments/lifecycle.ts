import { AppError } from "../infra/errors.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { type StreamedResult, runStreamedCommand } from "../workspaces/streamed-command.ts";
import type { LifecycleName, LifecycleStep } from "./environment.ts";

/** How long one lifecycle command may run (an install of a big toolchain takes minutes, not hours). */
const COMMAND_TIMEOUT_S = 30 * 60;
/** Lines of a failed command's output its sentence quotes. */
const FAILURE_LINES = 8;

/** A lifecycle command failed: said with its last lines, so the person sees why without a log. */
export class LifecycleFailure extends AppError {
  constructor(
    readonly step: LifecycleName,
    message: string,
  ) {
    super(500, "lifecycle_failed", message);
  }

  static of(step: LifecycleName, label: string | null, result: StreamedResult): LifecycleFailure {
    const which = label ? `${step} "${label}"` : step;
    let how = `failed (exit ${result.exitCode})`;
    if (result.failedToStart) how = `could not run (${result.failedToStart})`;
    else if (result.timedOut) how = `took longer than ${COMMAND_TIMEOUT_S / 60} minutes`;
    else if (result.exitCode === null) how = "stopped without saying how it ended (its pod may have gone)";
    const lines = result.lines.slice(-FAILURE_LINES).join("\n");
    return new LifecycleFailure(step, `The environment's ${which} ${how}${lines ? `:\n${lines}` : "."}`);
  }
}

export interface LifecycleRun {
  /** The session's worktree, where it runs. */
  cwd: string;
  /** The environment's remoteEnv, and Pier's own variables. */
  env: Record<string, string>;
  /** The latest lines of output (made fit to show), as they come. */
  onLines: (lines: string[]) => void;
}

/**
 * Runs one lifecycle step as the spec says: its commands at once (an object's entries run in
 * parallel), as the pod user, in the pod. Throws LifecycleFailure for the first that fails,
 * once all have ended.
 */
export async function runLifecycleStep(shell: PodShell, name: LifecycleName, step: LifecycleStep, run: LifecycleRun): Promise<void> {
  const results = await Promise.all(
    step.commands.map(({ name: label, command }) =>
      runStreamedCommand(shell, {
        // A string runs in /bin/sh, as the spec says; an array as it is.
        command: "shell" in command ? ["/bin/sh", "-c", command.shell] : command.argv,
        dir: run.cwd,
        env: run.env,
        timeoutMs: COMMAND_TIMEOUT_S * 1000,
        onLines: (lines) => run.onLines(label ? lines.map((line) => `${label}: ${line}`) : lines),
      }),
    ),
  );
  const failed = results.findIndex((result) => result.exitCode !== 0);
  if (failed >= 0) throw LifecycleFailure.of(name, step.commands[failed]!.name, results[failed]!);
}
