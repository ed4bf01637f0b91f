import type { Progress } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { runStreamedCommand } from "../workspaces/streamed-command.ts";
import type { Session } from "./session.ts";

/**
 * A repository's own scripts from Pier's settings: its setup script, run in each new worktree
 * before the session's terminal and chat start (npm ci, say), and its cleanup script, run in the
 * worktree before the session ends. They run in the person's pod as the pod user, through the
 * runtime like everything else that touches a worktree (never on the server), each with a time
 * limit, and Pier keeps only the tail of what they print. Neither can hold a session up: a setup
 * that fails leaves the session active with the failure said, a cleanup that fails is said and
 * the session ends all the same.
 */

export const SETUP_TIMEOUT_MS = 15 * 60_000;
export const CLEANUP_TIMEOUT_MS = 2 * 60_000;
/** The lines the session page shows under the step while the setup runs. */
const LIVE_LINES = 12;
/** The lines the new shell shows first (and so the recording holds), within NOTE_BYTES. */
const NOTE_LINES = 40;
/**
 * The new shell's first lines travel in tmux's command line, which tmux refuses past 16 KiB (with
 * the shell's environment and the rest of the command): the note stays well within that.
 */
const NOTE_BYTES = 4000;

export interface ScriptResult {
  ok: boolean;
  /** How it went, in one sentence: "Setup script finished in 3 s." or "Setup script failed (exit 1): <its last line>". */
  summary: string;
  /** Its last lines of output, made fit to show (see forPerson), oldest first. */
  lines: string[];
  /** It printed more than `lines` holds. */
  cut: boolean;
}

interface ScriptRun {
  name: "Setup script" | "Cleanup script";
  script: string;
  session: Session;
  repoName: string;
  timeoutMs: number;
  /** Hears the latest lines as they come, a few times a second at most. */
  onLines?(lines: string[]): void;
}

/**
 * Runs the repo's setup script in the session's new worktree, shown live as the `setup` step, and
 * returns what the session's new shell shows first: the tail of its output and how it ended. That
 * is shell output, so the session's recording holds it, before the shell's first prompt.
 */
export async function runSetupScript(shell: PodShell, session: Session, repo: { name: string; setupScript: string }, report: Progress): Promise<string> {
  const message = `Running the setup script (stopped after ${duration(SETUP_TIMEOUT_MS)})…`;
  report({ step: "setup", message });
  const result = await runRepoScript(shell, {
    name: "Setup script",
    script: repo.setupScript,
    session,
    repoName: repo.name,
    timeoutMs: SETUP_TIMEOUT_MS,
    onLines: (lines) => report({ step: "setup", message, lines: lines.slice(-LIVE_LINES) }),
  });
  report({ step: "setup", message: result.summary, fraction: 1, lines: result.lines.slice(-LIVE_LINES) });
  return setupNote(result);
}

/**
 * Runs the repo's cleanup script in the session's worktree before it ends; null when it went
 * well, else the sentence saying how it failed (also logged). It never stops the session ending.
 */
export async function runCleanupScript(shell: PodShell, session: Session, repo: { name: string; cleanupScript: string }): Promise<string | null> {
  const result = await runRepoScript(shell, { name: "Cleanup script", script: repo.cleanupScript, session, repoName: repo.name, timeoutMs: CLEANUP_TIMEOUT_MS });
  if (result.ok) return null;
  console.warn(`[pier] session ${session.id}: ${result.summary}`);
  return result.summary;
}

/** Runs one of the repo's scripts in the session's worktree, in a login shell as the terminal's (see runStreamedCommand). */
export async function runRepoScript(shell: PodShell, run: ScriptRun): Promise<ScriptResult> {
  const result = await runStreamedCommand(shell, {
    command: ["bash", "-lc", run.script],
    dir: run.session.worktreePath,
    // As the session's terminal has them.
    env: { PIER_SESSION_ID: run.session.id, PIER_REPO: run.repoName, PIER_WORKTREE: run.session.worktreePath },
    timeoutMs: run.timeoutMs,
    onLines: run.onLines,
  });
  const last = result.lines.at(-1);
  const why = last ? `: ${last}` : ".";
  const kept = { lines: result.lines.slice(-NOTE_LINES), cut: result.cut || result.lines.length > NOTE_LINES };
  if (result.failedToStart) return { ok: false, summary: `${run.name} could not run: ${result.failedToStart}`, lines: [], cut: false };
  if (result.exitCode === 0) return { ok: true, summary: `${run.name} finished in ${duration(result.elapsedMs)}.`, ...kept };
  if (result.timedOut) return { ok: false, summary: `${run.name} failed (stopped after ${duration(run.timeoutMs)})${why}`, ...kept };
  if (result.exitCode === null) return { ok: false, summary: `${run.name} failed: it stopped without saying how it ended (its pod may have gone)${why}`, ...kept };
  return { ok: false, summary: `${run.name} failed (exit ${result.exitCode})${why}`, ...kept };
}

/** What the new shell shows first after a setup: the tail of its output, then how it went, within NOTE_BYTES. */
export function setupNote(result: ScriptResult): string {
  const lines = [...result.lines];
  const note = () => {
    const heading = result.cut || lines.length < result.lines.length ? `Setup script output, its last ${lines.length} lines:` : "Setup script output:";
    return [...(lines.length > 0 ? [heading, ...lines] : []), result.summary].join("\n");
  };
  while (lines.length > 0 && Buffer.byteLength(note()) > NOTE_BYTES) lines.shift();
  return note().slice(0, NOTE_BYTES);
}

/** A time as the person reads it: "3 s", "2 min". */
function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
