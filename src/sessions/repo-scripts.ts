import { randomBytes } from "node:crypto";
import type { PodProcess, Progress } from "../runtime/runtime.ts";
import { type PodShell, forPerson, podScript } from "../workspaces/pod-script.ts";
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

const REPO_SCRIPT = podScript("repo-script.sh");

export const SETUP_TIMEOUT_MS = 15 * 60_000;
export const CLEANUP_TIMEOUT_MS = 2 * 60_000;
/** What Pier keeps of a script's output: its last bytes. */
const TAIL_BYTES = 64 * 1024;
/** The lines the session page shows under the step while the setup runs. */
const LIVE_LINES = 12;
/** The lines the new shell shows first (and so the recording holds), within NOTE_BYTES. */
const NOTE_LINES = 40;
/**
 * The new shell's first lines travel in tmux's command line, which tmux refuses past 16 KiB (with
 * the shell's environment and the rest of the command): the note stays well within that.
 */
const NOTE_BYTES = 4000;
/** How often the page hears the setup's latest lines while it prints. */
const LINES_EVERY_MS = 250;
/** How long past its own time limit a script's connection is given before Pier stops waiting for it. */
const GRACE_MS = 15_000;

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
  /** Hears the latest lines as they come, at most every LINES_EVERY_MS. */
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

/** Runs one of the repo's scripts in the session's worktree (see scripts/repo-script.sh). */
export async function runRepoScript(shell: PodShell, run: ScriptRun): Promise<ScriptResult> {
  const began = performance.now();
  const seconds = Math.max(1, Math.ceil(run.timeoutMs / 1000));
  const mark = `pier-script-end-${randomBytes(8).toString("hex")}`;
  let child: PodProcess;
  try {
    child = await shell.runtime.spawn(shell.pod, ["bash", "--norc", "-c", REPO_SCRIPT, "pier", run.session.worktreePath, String(seconds), mark, run.script], {
      cwd: shell.cwd,
      // As the session's terminal has them.
      env: { PIER_SESSION_ID: run.session.id, PIER_REPO: run.repoName, PIER_WORKTREE: run.session.worktreePath },
    });
  } catch (error) {
    return { ok: false, summary: `${run.name} could not run: ${forPerson(error instanceof Error ? error.message : String(error))}`, lines: [], cut: false };
  }
  const output = new ScriptOutput(mark);
  let tick: ReturnType<typeof setTimeout> | null = null;
  let markSeen: () => void = () => {};
  const ended = new Promise<void>((resolve) => (markSeen = resolve));
  child.onOutput((chunk) => {
    if (output.add(chunk)) markSeen();
    if (run.onLines && !tick) {
      tick = setTimeout(() => {
        tick = null;
        run.onLines?.(output.lines());
      }, LINES_EVERY_MS);
    }
  });
  // Its end is its last line: a process it left running in the background may hold its output open.
  let limit: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<boolean>((resolve) => (limit = setTimeout(() => resolve(true), seconds * 1000 + GRACE_MS)));
  const stoppedWaiting = await Promise.race([ended.then(() => false), child.exited.then(() => false), gaveUp]);
  clearTimeout(limit);
  if (tick) clearTimeout(tick);
  child.close();
  const exitCode = output.exitCode();
  const lines = output.lines();
  const last = lines.at(-1);
  const why = last ? `: ${last}` : ".";
  const elapsed = performance.now() - began;
  const result = { lines: lines.slice(-NOTE_LINES), cut: output.cut || lines.length > NOTE_LINES };
  if (exitCode === 0) return { ok: true, summary: `${run.name} finished in ${duration(elapsed)}.`, ...result };
  // `timeout` says 124 when it stopped the script, 137 when it had to kill it; the script could say so itself, but not in time.
  const timedOut = stoppedWaiting || ((exitCode === 124 || exitCode === 137) && elapsed >= seconds * 1000 - 1000);
  if (timedOut) return { ok: false, summary: `${run.name} failed (stopped after ${duration(run.timeoutMs)})${why}`, ...result };
  if (exitCode === null) return { ok: false, summary: `${run.name} failed: it stopped without saying how it ended (its pod may have gone)${why}`, ...result };
  return { ok: false, summary: `${run.name} failed (exit ${exitCode})${why}`, ...result };
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

/**
 * A script's output as it comes: its last TAIL_BYTES, and its end line (see repo-script.sh) once
 * it has come.
 */
class ScriptOutput {
  private chunks: Buffer[] = [];
  private size = 0;
  private end: Buffer;
  /** The last bytes before the latest chunk, where the end line may have begun. */
  private before = Buffer.alloc(0);
  /** Earlier output was let go of. */
  cut = false;

  constructor(private mark: string) {
    this.end = Buffer.from(`\n${mark} `);
  }

  /** Keeps the chunk; true once the end line is in. */
  add(chunk: Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= TAIL_BYTES) {
      this.size -= this.chunks.shift()!.length;
      this.cut = true;
    }
    // The end line may straddle chunks: it is looked for in this one with what came just before.
    const recent = Buffer.concat([this.before, chunk]);
    this.before = recent.subarray(-(this.end.length + 8));
    const at = recent.lastIndexOf(this.end);
    return at !== -1 && recent.indexOf(0x0a, at + this.end.length) !== -1;
  }

  private text(): string {
    const text = Buffer.concat(this.chunks).toString("utf8");
    // Output let go of may have cut the first line (and a character) in two.
    return this.cut ? text.slice(text.indexOf("\n") + 1) : text;
  }

  /** The exit code on the end line, or null when none came. */
  exitCode(): number | null {
    const found = this.text().match(new RegExp(`\\n${this.mark} (\\d+)\\n`));
    return found ? Number(found[1]) : null;
  }

  /** The output's lines as a terminal would leave them (a line rewritten with \r shows its last form), made fit to show. */
  lines(): string[] {
    const text = this.text();
    const endAt = text.lastIndexOf(`\n${this.mark} `);
    return (endAt === -1 ? text : text.slice(0, endAt))
      .split("\n")
      .map((line) => {
        const bare = line.replace(/\r+$/, "");
        return forPerson(bare.slice(bare.lastIndexOf("\r") + 1));
      })
      .filter(Boolean);
  }
}

/** A time as the person reads it: "3 s", "2 min". */
function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
