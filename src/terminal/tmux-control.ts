import type { PodProcess } from "../runtime/runtime.ts";

/**
 * A tmux control-mode client (`tmux -C attach`). tmux reports every byte a pane writes as a
 * `%output %<pane> <data>` line (bytes below 0x20 and the backslash written as \ooo octal), and
 * answers each command line with a `%begin … %end` (or `%error`) block, in order. Because
 * output and answers share one ordered stream, "everything before this answer" is well defined,
 * which is what lets a new watcher get a snapshot without losing or repeating a byte.
 */
export class TmuxControl {
  private pending: Array<{ resolve: (lines: string[]) => void; reject: (error: Error) => void; answered?: () => void }> = [];
  private block: string[] | null = null;
  private partial: Uint8Array = new Uint8Array(0);
  private outputListeners: Array<(bytes: Uint8Array) => void> = [];
  private outputParts: Uint8Array[] = [];
  private exitListeners: Array<(reason: string) => void> = [];
  private exitReason: string | null = null;
  /** The connection to tmux ended without tmux saying the session was gone (see `lost`). */
  private connectionEnded = false;
  private notificationWaiters: Array<{ prefix: string; resolve: (line: string | null) => void }> = [];
  /** Resolves once tmux has attached the client (its first, empty answer block). */
  readonly ready: Promise<void>;

  constructor(private process: PodProcess) {
    this.ready = new Promise((resolve, reject) => this.pending.push({ resolve: () => resolve(), reject }));
    process.onOutput((chunk) => this.receive(chunk));
    process.exited.then(() => this.finish("the tmux client ended", true));
  }

  /** Raw bytes written by the pane. */
  onOutput(listener: (bytes: Uint8Array) => void): void {
    this.outputListeners.push(listener);
  }

  /** tmux said %exit (the session is gone) or the connection to it closed. */
  onExit(listener: (reason: string) => void): void {
    if (this.exitReason !== null) listener(this.exitReason);
    else this.exitListeners.push(listener);
  }

  get alive(): boolean {
    return this.exitReason === null;
  }

  /**
   * The connection ended before tmux said the session was gone (%exit): the pod went away under
   * it (removed, restarted, stopped) or tmux itself died, so the shell is lost rather than exited.
   */
  get lost(): boolean {
    return this.connectionEnded;
  }

  /** Runs one command line; resolves with the lines of its answer, rejects on %error. */
  command(line: string): Promise<string[]> {
    if (this.exitReason !== null) return Promise.reject(new Error(this.exitReason));
    if (/[\r\n]/.test(line)) return Promise.reject(new Error("A tmux command must be a single line."));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.process.write(line + "\n");
    });
  }

  /**
   * Runs several commands on one line: tmux runs them one after the other with no pane output
   * read in between, so what they see is one instant. Resolves with each one's answer lines;
   * `answered` is called as the last answer is read, before any output that follows it.
   */
  commands(lines: string[], answered?: () => void): Promise<string[][]> {
    if (this.exitReason !== null) return Promise.reject(new Error(this.exitReason));
    if (lines.some((line) => /[\r\n]/.test(line))) return Promise.reject(new Error("A tmux command must be a single line."));
    const answers = lines.map((_, i) => new Promise<string[]>((resolve, reject) => this.pending.push({ resolve, reject, answered: i === lines.length - 1 ? answered : undefined })));
    this.process.write(lines.join(" ; ") + "\n");
    return Promise.all(answers);
  }

  /**
   * The next notification line starting with `prefix` (such as "%layout-change", which tmux
   * sends once a resize has really happened), or null if none comes within the time.
   */
  nextNotification(prefix: string, timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const waiter = { prefix, resolve };
      this.notificationWaiters.push(waiter);
      setTimeout(() => {
        const index = this.notificationWaiters.indexOf(waiter);
        if (index !== -1) this.notificationWaiters.splice(index, 1);
        resolve(null);
      }, timeoutMs).unref();
    });
  }

  close(): void {
    this.process.close();
  }

  private receive(chunk: Uint8Array): void {
    let data = chunk;
    if (this.partial.length) {
      data = new Uint8Array(this.partial.length + chunk.length);
      data.set(this.partial);
      data.set(chunk, this.partial.length);
    }
    let start = 0;
    for (let i = data.indexOf(10, start); i !== -1; i = data.indexOf(10, start)) {
      this.line(data.subarray(start, i));
      start = i + 1;
    }
    this.partial = data.slice(start);
    this.flushOutput();
  }

  /** Output lines of one chunk go out together: one frame per chunk, not one per line. */
  private flushOutput(): void {
    if (this.outputParts.length === 0) return;
    const parts = this.outputParts;
    this.outputParts = [];
    const bytes = parts.length === 1 ? parts[0]! : concat(parts);
    for (const listener of this.outputListeners) listener(bytes);
  }

  private line(bytes: Uint8Array): void {
    if (this.block !== null) {
      const text = decoder.decode(bytes);
      if (text.startsWith("%end ") || text.startsWith("%error ")) {
        const lines = this.block;
        this.block = null;
        const waiter = this.pending.shift();
        waiter?.answered?.();
        if (text.startsWith("%end ")) waiter?.resolve(lines);
        else waiter?.reject(new Error(lines.join(" ") || "tmux refused the command"));
      } else {
        this.block.push(text);
      }
      return;
    }
    if (startsWith(bytes, OUTPUT)) {
      const space = bytes.indexOf(32, OUTPUT.length);
      if (space !== -1) this.outputParts.push(unescapeOctal(bytes.subarray(space + 1)));
      return;
    }
    // Any other line (an answer's %begin, a notification): the output before it goes out first.
    this.flushOutput();
    const text = decoder.decode(bytes);
    if (text.startsWith("%begin ")) this.block = [];
    else if (text.startsWith("%exit")) this.finish(text.slice(6).trim() || "the tmux session ended");
    else this.notify(text);
  }

  private notify(line: string): void {
    const matched = this.notificationWaiters.filter((w) => line.startsWith(w.prefix));
    this.notificationWaiters = this.notificationWaiters.filter((w) => !matched.includes(w));
    for (const waiter of matched) waiter.resolve(line);
  }

  private finish(reason: string, connectionEnded = false): void {
    if (this.exitReason !== null) return;
    this.exitReason = reason;
    this.connectionEnded = connectionEnded;
    for (const waiter of this.pending.splice(0)) waiter.reject(new Error(reason));
    for (const listener of this.exitListeners.splice(0)) listener(reason);
    this.process.close();
  }
}

const decoder = new TextDecoder();
const OUTPUT = new TextEncoder().encode("%output %");
const BACKSLASH = 92;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Undoes tmux's \ooo escaping; every other byte (UTF-8 included) is passed through as it is. */
export function unescapeOctal(bytes: Uint8Array): Uint8Array {
  if (bytes.indexOf(BACKSLASH) === -1) return bytes.slice();
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === BACKSLASH && i + 3 < bytes.length && isOctal(bytes[i + 1]) && isOctal(bytes[i + 2]) && isOctal(bytes[i + 3])) {
      out[n++] = ((bytes[i + 1]! - 48) << 6) | ((bytes[i + 2]! - 48) << 3) | (bytes[i + 3]! - 48);
      i += 3;
    } else {
      out[n++] = b;
    }
  }
  return out.slice(0, n);
}

function isOctal(b: number | undefined): boolean {
  return b !== undefined && b >= 48 && b <= 55;
}

/** Quotes a value for a tmux command line (single quotes; a single quote itself escaped). */
export function tmuxQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
