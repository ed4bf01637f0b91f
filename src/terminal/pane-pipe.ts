import type { Pod, PodProcess, Runtime } from "../runtime/runtime.ts";

/**
 * The reader in the pod: a FIFO in a fresh private directory, its path on the first line, then
 * every byte tmux's `pipe-pane` writes into it. Pier closing the connection (stdin) stops the
 * reader, which ends tmux's writer and so the pipe; tmux replacing the pipe (a new Pier attaching
 * after a restart) ends the reader, and so this. Only bash and coreutils, which any image with
 * tmux has.
 */
const READER = `set -e
d=$(mktemp -d "\${TMPDIR:-/tmp}/pier-pane.XXXXXX")
mkfifo -m 600 "$d/out"
echo "$d/out"
cat "$d/out" & reader=$!
# A background job's stdin is /dev/null unless it says otherwise: this one reads Pier's.
exec 3<&0
( cat <&3 > /dev/null; kill "$reader" 2>/dev/null ) > /dev/null 2>&1 &
wait "$reader" || true
rm -rf "$d"`;

/** How long the reader gets to say where its FIFO is. */
const START_TIMEOUT_MS = 10_000;

/**
 * A pane's output as raw bytes, out of band: tmux's `pipe-pane -O` copies every byte the pane
 * writes, unescaped, into a FIFO read by a process in the pod whose output comes back through the
 * runtime. Control mode then carries only commands, so output costs tmux and the server a copy
 * instead of octal escaping and line parsing.
 */
export class PanePipe {
  private listeners: Array<(bytes: Uint8Array) => void> = [];

  private constructor(
    private process: PodProcess,
    /** Where tmux's side of the pipe writes: `pipe-pane -O 'exec cat > <fifo>'`. */
    readonly fifo: string,
    early: Uint8Array,
  ) {
    if (early.length) queueMicrotask(() => this.deliver(early));
  }

  static async open(runtime: Runtime, pod: Pod, cwd: string): Promise<PanePipe> {
    const process = await runtime.spawn(pod, ["bash", "-c", READER], { cwd });
    let head = new Uint8Array(0);
    let pipe: PanePipe | null = null;
    const opened = new Promise<PanePipe>((resolve, reject) => {
      process.onOutput((chunk) => {
        if (pipe) return pipe.deliver(chunk);
        const joined = new Uint8Array(head.length + chunk.length);
        joined.set(head);
        joined.set(chunk, head.length);
        head = joined;
        const newline = head.indexOf(10);
        if (newline === -1) return;
        const fifo = new TextDecoder().decode(head.subarray(0, newline));
        // The path comes from the pod and goes into a tmux command line: only plain path characters.
        if (!/^\/[A-Za-z0-9_./-]+$/.test(fifo)) return reject(new Error("The terminal's output pipe did not start."));
        pipe = new PanePipe(process, fifo, head.slice(newline + 1));
        resolve(pipe);
      });
      process.exited.then(() => reject(new Error("The terminal's output pipe ended before it started.")));
      setTimeout(() => reject(new Error("The terminal's output pipe did not start in time.")), START_TIMEOUT_MS).unref();
    });
    return opened.catch((error) => {
      process.close();
      throw error;
    });
  }

  /** The pipe-pane command that writes into this pipe. */
  get writer(): string {
    return `exec cat > ${this.fifo}`;
  }

  get exited(): Promise<void> {
    return this.process.exited;
  }

  onOutput(listener: (bytes: Uint8Array) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.process.close();
  }

  private deliver(bytes: Uint8Array): void {
    for (const listener of this.listeners) listener(bytes);
  }
}
