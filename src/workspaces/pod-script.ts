import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../infra/errors.ts";
import type { ExecResult, Pod, Runtime } from "../runtime/runtime.ts";

/** A script from src/workspaces/scripts (Pier's own source, read once at start). */
export function podScript(name: string): string {
  return readFileSync(join(import.meta.dir, "scripts", name), "utf8");
}

/** Where a script runs: a pod, and the directory and git config Pier's own commands use there. */
export interface PodShell {
  runtime: Runtime;
  pod: Pod;
  /** The working directory: the person's workspace of the repo, which always exists in their pod. */
  cwd: string;
  /** Pier's git config in the pod (see PodServices.gitConfig). */
  gitConfig: string;
}

export interface ScriptOptions {
  stdin?: string | Uint8Array | ReadableStream<Uint8Array>;
  /** More environment for the script (never a secret: it would show in the pod's process list). */
  env?: Record<string, string>;
  timeoutMs?: number;
  maxOutputBytes?: number;
}

/** The exit code a script uses for a failure whose stderr is one sentence for the person (`told` in the scripts). */
const TOLD = 3;

/**
 * A failure a script explained in a sentence for the person (exit code TOLD): what is in the pod
 * does not allow what was asked (a file changed meanwhile, a branch gone), so a 409 by default.
 */
export class PodScriptRefusal extends AppError {
  constructor(message: string, status = 409, code = "refused_in_pod") {
    super(status, code, message);
  }
}

/**
 * A command in the pod that failed, with the line of its output that says why. The pod stands
 * between Pier and the person's files as an upstream server would: a 502 when it could not do
 * the work, a 504 when it took too long; never a 500, which would say Pier itself is at fault.
 */
export class PodCommandFailure extends AppError {}

/**
 * How Pier's own git commands in a pod behave: Pier's global config instead of the person's,
 * never a prompt, plain English, and (as command-line config, which wins over the repo's own)
 * no hooks and no fsmonitor: saving work or making a worktree runs nothing the repo asks for.
 */
function gitEnv(shell: PodShell): Record<string, string> {
  return {
    GIT_CONFIG_GLOBAL: shell.gitConfig,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "core.hooksPath",
    GIT_CONFIG_VALUE_0: "/dev/null",
    GIT_CONFIG_KEY_1: "core.fsmonitor",
    GIT_CONFIG_VALUE_1: "false",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
  };
}

/**
 * Runs a bash script in the pod with its arguments passed as arguments (never pasted into the
 * script), so no path, branch or URL is ever read as shell syntax. It never reads a ~/.bashrc
 * (`bash -c` does when its stdin is a socket, taking itself for a command sent over ssh, and a
 * stream's stdin on the local runtime is one).
 */
export function runPodScript(shell: PodShell, script: string, args: string[], options: ScriptOptions = {}): Promise<ExecResult> {
  return shell.runtime.exec(shell.pod, ["bash", "--norc", "-c", script, "pier", ...args], {
    cwd: shell.cwd,
    env: { ...gitEnv(shell), ...options.env },
    timeoutMs: options.timeoutMs ?? 60_000,
    maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
    stdin: options.stdin,
  });
}

/** The script's output, or an error saying what went wrong (a refusal when the script told why). */
export function expectSuccess(result: ExecResult, what: string): string {
  if (result.exitCode === 0 && !result.timedOut) return result.stdout;
  if (result.exitCode === TOLD) throw new PodScriptRefusal(forPerson(result.stderr));
  if (result.timedOut) throw new PodCommandFailure(504, "pod_command_timed_out", `${what} took too long in the pod and was stopped.`);
  throw new PodCommandFailure(502, "pod_command_failed", `${what} failed in the pod: ${saysWhy(result.stderr) || `exit code ${result.exitCode}`}`);
}

/** The line of git's (or a command's) error output that says why: its `fatal:` line, else its last, made fit for a person. */
export function saysWhy(stderr: string): string {
  const lines = stderr.split("\n").map(forPerson).filter(Boolean);
  return lines.find((line) => line.startsWith("fatal:")) ?? lines.at(-1) ?? "";
}

/**
 * Text from a pod, made fit to show a person: what a pod prints is its own, so terminal escapes
 * and control characters go, a URL's user and password go, and so does anything that looks like a
 * GitHub token (git never prints one, but the pod could); at most 500 characters, on one line.
 */
export function forPerson(text: string): string {
  return text
    .replace(/\x1b\[[0-?]*[ -\/]*[@-~]/g, "")
    .replace(/[\x00-\x1f\x7f-\x9f]+/g, " ")
    .replace(/(\/\/)[^/\s@]+@/g, "$1")
    .replace(/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, "[token]")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 500);
}

/** Reads `key=value` lines (as the scripts print their results). */
export function readFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return fields;
}
