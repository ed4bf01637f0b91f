import { randomBytes } from "node:crypto";
import type { PodProcess } from "../runtime/runtime.ts";
import { type PodShell, forPerson, podScript } from "./pod-script.ts";

const STREAMED_COMMAND = podScript("streamed-command.sh");

/** What Pier keeps of a command's output: its last bytes. */
const TAIL_BYTES = 64 * 1024;
/** How often a listener hears the latest lines while the command prints. */
const LINES_EVERY_MS = 250;
/** How long past its own time limit a command's connection is given before Pier stops waiting for it. */
const GRACE_MS = 15_000;

export interface StreamedCommand {
  /** The command and its arguments, run as they are (a shell's `-c` for a script). */
  command: string[];
  /** Where it runs, in the pod. */
  dir: string;
  /** Its environment beyond the pod's (never a secret: it would show in the pod's process list). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Hears the latest lines (made fit to show) as they come, at most every LINES_EVERY_MS. */
  onLines?(lines: string[]): void;
}

export interface StreamedResult {
  /** Its exit code (124 or 137 when its time limit stopped it); null when it never said (its pod went). */
  exitCode: number | null;
  /** Its time limit stopped it, or Pier stopped waiting for it. */
  timedOut: boolean;
  /** Its last lines of output as a terminal would leave them (a line rewritten with \r shows its last form), made fit to show, oldest first. */
  lines: string[];
  /** Earlier output was let go of (only the last TAIL_BYTES are kept). */
  cut: boolean;
  elapsedMs: number;
  /** It could not be started at all: why, in a sentence. */
  failedToStart: string | null;
}

/**
 * Runs a command of the repository's in the person's pod, as the pod user, with its output as it
 * comes (see scripts/streamed-command.sh): a repo's setup and cleanup scripts, a devcontainer's
 * lifecycle commands. Its end is its last line, not its output closing, so a process it leaves
 * running in the background never keeps Pier waiting; a time limit stops it in the pod, and Pier
 * keeps only the tail of what it prints.
 */
export async function runStreamedCommand(shell: PodShell, run: StreamedCommand): Promise<StreamedResult> {
  const began = performance.now();
  const seconds = Math.max(1, Math.ceil(run.timeoutMs / 1000));
  const mark = `pier-command-end-${randomBytes(8).toString("hex")}`;
  let child: PodProcess;
  try {
    child = await shell.runtime.spawn(shell.pod, ["sh", "-c", STREAMED_COMMAND, "pier", run.dir, String(seconds), mark, ...run.command], { cwd: shell.cwd, env: run.env });
  } catch (error) {
    const why = forPerson(error instanceof Error ? error.message : String(error));
    return { exitCode: null, timedOut: false, lines: [], cut: false, elapsedMs: performance.now() - began, failedToStart: why };
  }
  const output = new CommandOutput(mark);
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
  let limit: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<boolean>((resolve) => (limit = setTimeout(() => resolve(true), seconds * 1000 + GRACE_MS)));
  const stoppedWaiting = await Promise.race([ended.then(() => false), child.exited.then(() => false), gaveUp]);
  clearTimeout(limit);
  if (tick) clearTimeout(tick);
  child.close();
  const exitCode = output.exitCode();
  const elapsedMs = performance.now() - began;
  // `timeout` says 124 when it stopped the command, 137 when it had to kill it; the command could say so itself, but not in time.
  const timedOut = stoppedWaiting || ((exitCode === 124 || exitCode === 137) && elapsedMs >= seconds * 1000 - 1000);
  return { exitCode, timedOut, lines: output.lines(), cut: output.cut, elapsedMs, failedToStart: null };
}

/** A command's output as it comes: its last TAIL_BYTES, and its end line once it has come. */
class CommandOutput {
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
