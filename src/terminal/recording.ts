import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
import { isDiskFull } from "../infra/disk-full.ts";
import { join } from "node:path";
import { stripAnsi } from "./ansi.ts";

/**
 * A session's terminal output as an asciicast v2 file: a JSON header line, then one
 * `[seconds, "o", text]` line per burst of output (and `[seconds, "r", "COLSxROWS"]` on resize).
 * The file lives in the data dir's recordings/ (no pod can see it) and is only ever appended to:
 * after a restart, times continue from the header's timestamp. Output is written as it comes,
 * before any viewer is sent it, so a download (or a server killed a moment later) holds
 * everything a viewer has seen.
 *
 * A recording has a size limit (a setting), so a flood of output cannot fill the disk. It keeps the
 * start of the session: at the limit it writes a note, once, and records nothing more. The note is
 * an output event, so every player shows it where the recording stops, followed by a marker event
 * carrying the same sentence, which the replay page looks for.
 *
 * A write that fails (the disk is full) never reaches the terminal: the recording pauses, drops
 * what comes meanwhile, tries again at most once a second, and when a write works again it first
 * writes a note saying what is missing, and goes on. A line cut short by the failure is taken
 * back, so the file stays one JSON event per line.
 */
export function recordingPath(dataDir: string, sessionId: string): string {
  return join(dataDir, "recordings", `${sessionId}.cast`);
}

const MiB = 1024 * 1024;
const NOTE_START = "Recording stopped";
/** How often a paused recording tries writing again. */
const RETRY_MS = 1000;

/** The sentence a recording ends with when it reached its limit. */
function limitNote(limitMiB: number): string {
  return `${NOTE_START}: this session's terminal output passed the recording limit of ${limitMiB} MiB, so what followed is not in the recording.`;
}

export class Recording {
  private fd: number;
  private startedAt: number;
  private decoder = new TextDecoder("utf-8", { fatal: false });
  private closed = false;
  /** Bytes in the file so far. */
  private bytesWritten: number;
  /** The limit was reached: nothing more is written, not even after a restart. */
  private full: boolean;
  /** Since when writes fail (and why), while they do; the next write that works says so first. */
  private paused: { since: number; why: string; triedAt: number; header: string } | null = null;

  constructor(
    path: string,
    size: { cols: number; rows: number },
    private limitMiB: number,
  ) {
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    const existing = existsSync(path) ? readHeaderTimestamp(path) : null;
    this.fd = openSync(path, "a", 0o600);
    this.bytesWritten = fstatSync(this.fd).size;
    if (existing === null) {
      // Whole seconds, as the header stores them, so times after a restart line up exactly.
      this.startedAt = Math.floor(Date.now() / 1000) * 1000;
      const header = {
        version: 2,
        width: size.cols,
        height: size.rows,
        timestamp: Math.floor(this.startedAt / 1000),
        env: { TERM: "xterm-256color", SHELL: "/bin/bash" },
      };
      // A file a full disk left empty (or cut inside its header) starts again.
      ftruncateSync(this.fd, 0);
      this.bytesWritten = 0;
      const headerLine = JSON.stringify(header) + "\n";
      this.pauseOn(this.append(Buffer.from(headerLine)), Date.now(), headerLine);
    } else {
      this.startedAt = existing * 1000;
    }
    this.full = existing !== null && readLimitNote(path) !== null;
  }

  output(bytes: Uint8Array): void {
    if (this.closed || this.full) return;
    // A character cut between two chunks waits for its end (a few bytes at most).
    const text = this.decoder.decode(bytes, { stream: true });
    if (text) this.write([this.elapsed(Date.now()), "o", text]);
  }

  resize(cols: number, rows: number): void {
    if (this.closed || this.full) return;
    this.write([this.elapsed(Date.now()), "r", `${cols}x${rows}`]);
  }

  close(): void {
    if (this.closed) return;
    const rest = this.decoder.decode();
    if (rest && !this.full) this.write([this.elapsed(Date.now()), "o", rest]);
    this.closed = true;
    closeSync(this.fd);
  }

  private elapsed(at: number): number {
    return Math.max(0, Math.round((at - this.startedAt) / 1000 * 1e6) / 1e6);
  }

  private write(event: [number, string, string]): void {
    if (this.full) return;
    // Encoded once, to be measured and written.
    const line = Buffer.from(JSON.stringify(event) + "\n");
    if (this.bytesWritten + line.length > this.limitMiB * MiB) {
      this.stopAtLimit(event[0]);
      return;
    }
    const now = Date.now();
    if (this.paused) {
      if (now - this.paused.triedAt < RETRY_MS) return;
      this.paused.triedAt = now;
      const note = this.paused.header + pauseNoteLines(event[0], this.paused.since, now, this.paused.why);
      if (this.append(Buffer.from(note)) !== null) return;
      this.paused = null;
    }
    this.pauseOn(this.append(line), now);
  }

  /** A write failed: the recording pauses (`header`: the file still needs its header first). */
  private pauseOn(error: unknown, now: number, header = ""): void {
    if (error !== null) this.paused = { since: now, why: failureReason(error), triedAt: now, header };
  }

  /** Writes whole lines or nothing: whatever part of them got in before a failure is taken back. Returns the failure, or null. */
  private append(bytes: Buffer): unknown {
    try {
      // A write cut short is the disk filling up part-way (the next one would say ENOSPC).
      if (writeSync(this.fd, bytes) < bytes.length) throw Object.assign(new Error("The disk filled up during the write."), { code: "ENOSPC" });
      this.bytesWritten += bytes.length;
      return null;
    } catch (error) {
      try {
        ftruncateSync(this.fd, this.bytesWritten);
      } catch {
        // Truncating frees space, so it works whenever the file is still there to truncate.
      }
      return error;
    }
  }

  /** The event that would pass the limit is dropped; the note takes its place, and nothing follows. */
  private stopAtLimit(time: number): void {
    this.full = true;
    const note = limitNote(this.limitMiB);
    const shown = `\r\n\x1b[0;7m ${note} \x1b[0m\r\n`;
    this.append(Buffer.from(JSON.stringify([time, "o", shown]) + "\n" + JSON.stringify([time, "m", note]) + "\n"));
  }
}

/** Why writes failed, for the note: the disk being full is the usual reason. */
function failureReason(error: unknown): string {
  if (isDiskFull(error)) return "the disk was full";
  const code = (error as { code?: unknown } | null)?.code;
  return `it could not be written (${typeof code === "string" ? code : "an error"})`;
}

/** The note a paused recording writes when it can write again: an output line every player shows, and a marker. */
function pauseNoteLines(time: number, since: number, until: number, why: string): string {
  const clock = (at: number) => new Date(at).toISOString().slice(11, 19);
  const note = `Recording paused: ${why}, so this session's terminal output from ${clock(since)} to ${clock(until)} UTC is not in the recording.`;
  return JSON.stringify([time, "o", `\r\n\x1b[0;7m ${note} \x1b[0m\r\n`]) + "\n" + JSON.stringify([time, "m", note]) + "\n";
}

/**
 * The note a recording ends with when it reached its limit, or null when it did not: the last
 * line is a marker event carrying it (terminal output cannot make marker events).
 */
export function readLimitNote(path: string): string | null {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const lastLine = tail.toString("utf8").trimEnd().split("\n").at(-1) ?? "";
    const event: unknown = JSON.parse(lastLine);
    const isNote = Array.isArray(event) && event[1] === "m" && typeof event[2] === "string" && event[2].startsWith(NOTE_START);
    return isNote ? (event[2] as string) : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The header's start time (seconds), so times after a restart continue from it. */
function readHeaderTimestamp(path: string): number | null {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(4096);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    const firstLine = buffer.subarray(0, n).toString("utf8").split("\n")[0];
    if (!firstLine) return null;
    const header = JSON.parse(firstLine) as { timestamp?: number };
    return typeof header.timestamp === "number" ? header.timestamp : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * The last `maxChars` characters of what the terminal printed, as plain text: read from the end
 * of the recording (a file of the server's own), escape sequences left out.
 */
export function recordingTail(path: string, maxChars: number): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const size = fstatSync(fd).size;
    // JSON escaping and escape sequences take room: read generously, then cut to size.
    const buffer = Buffer.alloc(Math.min(size, maxChars * 8));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    const lines = buffer.toString("utf8").split("\n");
    if (buffer.length < size) lines.shift(); // Cut mid-line.
    let text = "";
    for (const line of lines) {
      try {
        const event: unknown = JSON.parse(line);
        if (Array.isArray(event) && event[1] === "o" && typeof event[2] === "string") text += event[2];
      } catch {
        // The header, or a line cut short.
      }
    }
    return stripAnsi(text).replaceAll("\r", "").slice(-maxChars);
  } finally {
    closeSync(fd);
  }
}
