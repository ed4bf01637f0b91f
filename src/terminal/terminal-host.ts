import type { Pod, Runtime } from "../runtime/runtime.ts";
import type { ControlMessage } from "./protocol.ts";
import { Recording } from "./recording.ts";
import { TmuxControl, tmuxQuote } from "./tmux-control.ts";

/** One browser (or script) attached to a session's terminal. */
export interface Watcher {
  sendBytes(bytes: Uint8Array): void;
  sendControl(message: ControlMessage): void;
  /** Bytes handed to the socket but not yet sent; above a limit the watcher is left behind. */
  bufferedAmount(): number;
}

export interface TerminalSpec {
  sessionId: string;
  worktreePath: string;
  /** Run first in the shell (for example `claude`); a login shell remains when it exits. */
  startCommand: string | null;
  env: Record<string, string>;
  recordingPath: string;
  /** The recording stops (with a note saying so) at this size. */
  recordingLimitMiB: number;
  /** tmux's server socket name, apart from any tmux the user runs (see tmuxCommand). */
  socketName: string;
}

/** The tmux command line for this Pier's tmux server: its own socket, apart from any other tmux. */
export function tmuxCommand(socketName: string): string[] {
  return ["tmux", "-L", socketName];
}

/** How long tmux gets to attach a control client before the terminal is reported as failed. */
const ATTACH_TIMEOUT_MS = 10_000;
const DEFAULT_SIZE = { cols: 120, rows: 32 };
const HISTORY_LINES = 50_000;
/** Lines of history a new watcher gets before the screen. */
const SNAPSHOT_HISTORY = 3000;
/** A watcher this far behind stops getting output until its socket drains, then gets a fresh snapshot. */
const BEHIND_BYTES = 1024 * 1024;
/** tmux command lines stay short: input is sent in pieces of this many bytes. */
const INPUT_CHUNK = 1024;

type WatcherState = "pending" | "live" | "behind";

/**
 * A session's terminal: a tmux session in the pod (so the shell outlives any connection and a
 * server restart), one control-mode client reading every byte the shell writes, the recording,
 * and the watchers it fans out to.
 *
 * Size: several watchers may watch and type at once; the terminal takes the size of whichever
 * watcher resized or typed last, like tmux's own `window-size latest`.
 */
export class TerminalHost {
  private watchers = new Map<Watcher, { state: WatcherState; size?: { cols: number; rows: number } }>();
  private size = { ...DEFAULT_SIZE };
  private sizeOwner: Watcher | null = null;
  private outputSeq = 0;
  private exitListeners: Array<() => void> = [];
  private outputListeners: Array<(bytes: Uint8Array) => void> = [];

  private constructor(
    private spec: TerminalSpec,
    private control: TmuxControl,
    private target: string,
    private recording: Recording,
  ) {
    control.onOutput((bytes) => this.output(bytes));
    control.onExit(() => this.exited());
  }

  /** Attaches to the session's tmux session in the pod, creating it (and its shell) if needed. */
  static async open(runtime: Runtime, pod: Pod, spec: TerminalSpec): Promise<TerminalHost> {
    const name = `pier-${spec.sessionId}`;
    const TMUX = tmuxCommand(spec.socketName);
    const exists = await runtime.exec(pod, [...TMUX, "has-session", "-t", `=${name}`], { cwd: spec.worktreePath });
    if (exists.exitCode !== 0) {
      const shell = spec.startCommand ? ["bash", "-lc", `${spec.startCommand}; exec bash -l`] : ["bash", "-l"];
      const env = Object.entries({ ...spec.env, TERM: "xterm-256color", COLORTERM: "truecolor" }).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
      const created = await runtime.exec(
        pod,
        [
          ...TMUX, "-f", "/dev/null", "start-server", ";",
          "set-option", "-g", "history-limit", String(HISTORY_LINES), ";",
          "set-option", "-g", "default-terminal", "xterm-256color", ";",
          "set-option", "-g", "status", "off", ";",
          "new-session", "-d", "-s", name, "-x", String(DEFAULT_SIZE.cols), "-y", String(DEFAULT_SIZE.rows),
          "-c", spec.worktreePath, ...env, ...shell,
        ],
        { cwd: spec.worktreePath },
      );
      if (created.exitCode !== 0) throw new Error(`Could not start the terminal: ${created.stderr.trim() || created.stdout.trim()}`);
    }
    const client = await runtime.spawn(pod, [...TMUX, "-C", "attach-session", "-t", `=${name}`], { cwd: spec.worktreePath });
    const control = new TmuxControl(client);
    const attached = await Promise.race([control.ready.then(() => true), Bun.sleep(ATTACH_TIMEOUT_MS).then(() => false)]);
    if (!attached) {
      control.close();
      throw new Error("tmux did not attach the terminal in time.");
    }
    const recording = new Recording(spec.recordingPath, DEFAULT_SIZE, spec.recordingLimitMiB);
    const host = new TerminalHost(spec, control, `=${name}:`, recording);
    await control.command(`refresh-client -C ${DEFAULT_SIZE.cols}x${DEFAULT_SIZE.rows}`);
    return host;
  }

  get alive(): boolean {
    return this.control.alive;
  }


  /** Called once when the tmux session or the connection to it is gone. */
  /** Every byte the shell writes, as it comes (for readers such as the pull request link scanner). */
  onOutput(listener: (bytes: Uint8Array) => void): void {
    this.outputListeners.push(listener);
  }

  onExit(listener: () => void): void {
    if (!this.alive) listener();
    else this.exitListeners.push(listener);
  }

  /**
   * Adds a watcher. It first gets a snapshot (scrollback and the current screen), then live
   * output; `size` (the watcher's own terminal size, when known) is applied before the snapshot
   * so the screen it gets is laid out for it.
   */
  async attach(watcher: Watcher, size?: { cols: number; rows: number }): Promise<void> {
    this.watchers.set(watcher, { state: "pending", size });
    if (size) await this.applySize(watcher, size);
    await this.sendSnapshot(watcher);
  }

  detach(watcher: Watcher): void {
    this.watchers.delete(watcher);
    if (this.sizeOwner === watcher) this.sizeOwner = null;
  }

  /** Keystrokes or pasted text from a watcher; that watcher's size becomes the terminal's. */
  async input(watcher: Watcher, data: string): Promise<void> {
    const size = this.watchers.get(watcher)?.size;
    if (size && this.sizeOwner !== watcher) await this.applySize(watcher, size);
    const bytes = new TextEncoder().encode(data);
    for (let i = 0; i < bytes.length; i += INPUT_CHUNK) {
      const hex = Array.from(bytes.subarray(i, i + INPUT_CHUNK), (b) => b.toString(16).padStart(2, "0")).join(" ");
      await this.control.command(`send-keys -t ${tmuxQuote(this.target)} -H ${hex}`);
    }
  }

  async resize(watcher: Watcher, cols: number, rows: number): Promise<void> {
    const entry = this.watchers.get(watcher);
    if (!entry) return;
    entry.size = { cols, rows };
    await this.applySize(watcher, entry.size);
  }

  /** The watcher's socket has room again: if it was left behind, it gets a fresh snapshot. */
  async drained(watcher: Watcher): Promise<void> {
    const entry = this.watchers.get(watcher);
    if (entry?.state !== "behind" || watcher.bufferedAmount() > 0) return;
    entry.state = "pending";
    await this.sendSnapshot(watcher);
  }

  /** Stops watching (server shutdown): the tmux session and its shell keep running in the pod. */
  detachAll(): void {
    this.recording.close();
    this.control.close();
  }

  /** Ends the tmux session and its shell (the session itself is ending). */
  async terminate(): Promise<void> {
    try {
      await this.control.command(`kill-session -t ${tmuxQuote(this.target.slice(0, -1))}`);
    } catch {
      // Already gone.
    }
    this.detachAll();
  }

  private async applySize(watcher: Watcher, size: { cols: number; rows: number }): Promise<void> {
    this.sizeOwner = watcher;
    if (size.cols === this.size.cols && size.rows === this.size.rows) return;
    this.size = { ...size };
    this.recording.resize(size.cols, size.rows);
    // tmux resizes the window a moment after the command; the snapshot and the next command
    // must see the new size, so wait for its layout-change notice (briefly: none comes if the
    // window already had that size).
    const resized = this.control.nextNotification("%layout-change", 500);
    await this.control.command(`refresh-client -C ${size.cols}x${size.rows}`);
    await resized;
  }

  /**
   * Sends the watcher its snapshot and makes it live. tmux answers commands in order with the
   * output, so everything written before the capture's answer is in the capture, and everything
   * after it reaches the watcher live. The cursor is asked for first; if output arrived between
   * that answer and the capture's, the cursor may have moved, so the two are asked again.
   */
  private async sendSnapshot(watcher: Watcher): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const [stateLine] = await this.control.command(
        `display-message -p -t ${tmuxQuote(this.target)} '#{alternate_on} #{cursor_x} #{cursor_y} #{keypad_cursor_flag}'`,
      );
      const seqBefore = this.outputSeq;
      const lines = await this.control.command(
        `capture-pane -p -e -t ${tmuxQuote(this.target)}${stateLine?.startsWith("1") ? "" : ` -S -${SNAPSHOT_HISTORY}`}`,
      );
      const entry = this.watchers.get(watcher);
      if (!entry) return;
      if (this.outputSeq !== seqBefore && attempt < 3) continue;
      watcher.sendBytes(snapshotBytes(lines, stateLine ?? ""));
      entry.state = "live";
      return;
    }
  }

  private output(bytes: Uint8Array): void {
    this.outputSeq++;
    this.recording.output(bytes);
    for (const [watcher, entry] of this.watchers) {
      if (entry.state !== "live") continue;
      if (watcher.bufferedAmount() > BEHIND_BYTES) {
        entry.state = "behind";
        continue;
      }
      watcher.sendBytes(bytes);
    }
    // After the watchers: readers never delay what a person sees.
    for (const listener of this.outputListeners) listener(bytes);
  }

  private exited(): void {
    this.recording.close();
    for (const watcher of this.watchers.keys()) watcher.sendControl({ type: "exited" });
    this.watchers.clear();
    for (const listener of this.exitListeners.splice(0)) listener();
  }
}

/**
 * Bytes that make a fresh terminal show what tmux has: a full reset, the captured lines (the
 * history scrolls off the top into the watcher's scrollback), then the cursor and the modes.
 */
export function snapshotBytes(lines: string[], state: string): Uint8Array {
  const [alternate, x, y, appCursor] = state.split(" ").map(Number);
  let out = "\x1bc";
  if (alternate === 1) out += "\x1b[?1049h\x1b[H";
  out += lines.map((line) => line + "\x1b[0m").join("\r\n");
  // The watcher has the pane's size by now, so the screen is its viewport: put the cursor there.
  out += `\x1b[${(y ?? 0) + 1};${(x ?? 0) + 1}H`;
  if (appCursor === 1) out += "\x1b[?1h";
  return new TextEncoder().encode(out);
}
