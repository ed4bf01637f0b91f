import { AppError } from "../infra/errors.ts";
import { type PodShell, forPerson } from "../workspaces/pod-script.ts";
import type { LifecycleCommand, LifecycleName, LifecycleStep } from "./environment.ts";

/** How long one lifecycle command may run (an install of a big toolchain takes minutes, not hours). */
const COMMAND_TIMEOUT_S = 30 * 60;
/** What is kept of a command's output: the tail, for the failure's sentence and the step. */
const TAIL_BYTES = 64 * 1024;
/** Lines of a failed command's output its sentence quotes. */
const FAILURE_LINES = 8;

/**
 * Runs the command in the pod with its output (stdout and stderr together) as it comes, then its
 * exit status alone on stderr, so a long install shows progress and still says how it ended.
 * stdin is closed: a lifecycle command has nobody to ask. `timeout` stops a command that hangs.
 */
const WRAP = `t=$1; shift; timeout -k 5 "$t" "$@" </dev/null 2>&1; echo "$?" >&2`;

/** A lifecycle command failed: said with its last lines, so the person sees why without a log. */
export class LifecycleFailure extends AppError {
  constructor(
    readonly step: LifecycleName,
    message: string,
  ) {
    super(500, "lifecycle_failed", message);
  }

  static of(step: LifecycleName, label: string | null, exitCode: number, tail: string): LifecycleFailure {
    const which = label ? `${step} "${label}"` : step;
    const how = exitCode === 124 || exitCode === 137 ? `took longer than ${COMMAND_TIMEOUT_S / 60} minutes` : `failed (exit ${exitCode})`;
    const lines = tail.trimEnd().split("\n").map(forPerson).filter(Boolean).slice(-FAILURE_LINES).join("\n");
    return new LifecycleFailure(step, `The environment's ${which} ${how}${lines ? `:\n${lines}` : "."}`);
  }
}

export interface LifecycleRun {
  /** Where it runs: the person's clone for the pod's own steps, the session's worktree for postAttachCommand. */
  cwd: string;
  /** The environment's remoteEnv, and Pier's own variables. */
  env: Record<string, string>;
  /** Each line of output as it comes. */
  say: (line: string) => void;
}

/**
 * Runs one lifecycle step as the spec says: its commands at once (an object's entries run in
 * parallel), as the pod user, in the pod. Throws LifecycleFailure for the first that fails,
 * once all have ended.
 */
export async function runLifecycleStep(shell: PodShell, name: LifecycleName, step: LifecycleStep, run: LifecycleRun): Promise<void> {
  const results = await Promise.all(step.commands.map((entry) => runCommand(shell, entry.command, run, entry.name)));
  const failed = results.findIndex((result) => result.exitCode !== 0);
  if (failed >= 0) throw LifecycleFailure.of(name, step.commands[failed]!.name, results[failed]!.exitCode, results[failed]!.tail);
}

async function runCommand(shell: PodShell, command: LifecycleCommand, run: LifecycleRun, label: string | null): Promise<{ exitCode: number; tail: string }> {
  const argv = "shell" in command ? ["/bin/sh", "-c", command.shell] : command.argv;
  const child = await shell.runtime.spawn(shell.pod, ["sh", "-c", WRAP, "lifecycle", String(COMMAND_TIMEOUT_S), ...argv], { cwd: run.cwd, env: run.env });
  const decoder = new TextDecoder();
  let tail = "";
  let partial = "";
  let status = "";
  child.onOutput((chunk) => {
    const text = decoder.decode(chunk, { stream: true });
    tail = (tail + text).slice(-TAIL_BYTES);
    const lines = (partial + text).split(/\r?\n/);
    partial = lines.pop() ?? "";
    for (const line of lines) run.say(label ? `${label}: ${line}` : line);
  });
  child.onErrorOutput((chunk) => {
    status += new TextDecoder().decode(chunk);
  });
  await child.exited;
  child.close();
  if (partial) run.say(label ? `${label}: ${partial}` : partial);
  const exitCode = Number.parseInt(status.trim().split("\n").at(-1) ?? "", 10);
  // No status at all: the connection to the pod went before the command ended.
  return { exitCode: Number.isNaN(exitCode) ? -1 : exitCode, tail };
}
