import { closeSync, existsSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * A session's terminal output as an asciicast v2 file: a JSON header line, then one
 * `[seconds, "o", text]` line per burst of output (and `[seconds, "r", "COLSxROWS"]` on resize).
 * The file lives in the data dir's recordings/ (no pod can see it) and is only ever appended to:
 * after a restart, times continue from the header's timestamp.
 */
export function recordingPath(dataDir: string, sessionId: string): string {
  return join(dataDir, "recordings", `${sessionId}.cast`);
}

/** Output is gathered for this long before it is written as one event. */
const FLUSH_EVERY_MS = 40;
/** ...or until this much is waiting. */
const FLUSH_AT_BYTES = 64 * 1024;

export class Recording {
  private fd: number;
  private startedAt: number;
  private decoder = new TextDecoder("utf-8", { fatal: false });
  private buffered = "";
  private bufferedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(path: string, size: { cols: number; rows: number }) {
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
  }

  output(bytes: Uint8Array): void {
    if (this.closed) return;
    const text = this.decoder.decode(bytes, { stream: true });
    if (!text) return;
    if (!this.buffered) this.bufferedAt = Date.now();
    this.buffered += text;
    if (this.buffered.length >= FLUSH_AT_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  resize(cols: number, rows: number): void {
    if (this.closed) return;
    this.flush();
    this.write([this.elapsed(Date.now()), "r", `${cols}x${rows}`]);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.buffered) return;
    const text = this.buffered;
    this.buffered = "";
    this.write([this.elapsed(this.bufferedAt), "o", text]);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private elapsed(at: number): number {
    return Math.max(0, Math.round((at - this.startedAt) / 1000 * 1e6) / 1e6);
  }

  private write(event: [number, string, string]): void {
    writeSync(this.fd, JSON.stringify(event) + "\n");
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
