import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
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
 */
export function recordingPath(dataDir: string, sessionId: string): string {
  return join(dataDir, "recordings", `${sessionId}.cast`);
}

const MiB = 1024 * 1024;
const NOTE_START = "Recording stopped";

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

  constructor(
    path: string,
    size: { cols: number; rows: number },
    private limitMiB: number,
  ) {
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    const existing = existsSync(path) ? readHeaderTimestamp(path) : null;
    this.fd = openSync(path, "a", 0o600);
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
      writeSync(this.fd, JSON.stringify(header) + "\n");
    } else {
      this.startedAt = existing * 1000;
    }
    this.bytesWritten = fstatSync(this.fd).size;
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
    writeSync(this.fd, line);
    this.bytesWritten += line.length;
  }

  /** The event that would pass the limit is dropped; the note takes its place, and nothing follows. */
  private stopAtLimit(time: number): void {
    this.full = true;
    const note = limitNote(this.limitMiB);
    const shown = `\r\n\x1b[0;7m ${note} \x1b[0m\r\n`;
    writeSync(this.fd, JSON.stringify([time, "o", shown]) + "\n" + JSON.stringify([time, "m", note]) + "\n");
  }
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
