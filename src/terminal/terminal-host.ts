import type { Pod, Runtime } from "../runtime/runtime.ts";
import type { ControlMessage } from "./protocol.ts";
import { PanePipe } from "./pane-pipe.ts";
import { Recording } from "./recording.ts";
import { MarkerScanner, WRITE_MARKER, newMarker } from "./sync-marker.ts";
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

/** How long a snapshot waits for its marker to come through both streams before it gives up on lining them up. */
const MARKER_TIMEOUT_MS = 5_000;

type WatcherState = "pending" | "live" | "behind";

/**
 * A new watcher being brought up to date while output flows on the pipe: tmux's capture is the
 * screen at one instant; control mode, turned on for the pane in that same instant, carries what
 * follows it up to a marker; the pipe carries the marker too, and after it the watcher is live.
 */
interface Catchup {
  watcher: Watcher;
  marker: { id: string; bytes: Uint8Array };
  snapshot: Uint8Array | null;
  /** Control mode's output after the capture, up to the marker. */
  bridge: Uint8Array[];
  controlScan: MarkerScanner;
  collecting: boolean;
  /** The pipe's output after the marker, which the others already got. */
  queued: Uint8Array[];
  pipeScan: MarkerScanner;
  finished: () => void;
}

/**
 * A session's terminal: a tmux session in the pod (so the shell outlives any connection and a
 * server restart), a control-mode client for commands, the pane's raw output through a pipe
 * (tmux's pipe-pane, see PanePipe), the recording, and the watchers it fans out to. Should the
 * pipe not start (or end), control mode carries the output as well, as it did before the pipe.
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
  private pipe: PanePipe | null = null;
  private pane = { id: "", tty: "" };
  /** Control mode's output is off for the pane: the pipe carries it. */
  private controlOff = false;
  private catchup: Catchup | null = null;
  /** Snapshots are taken one at a time. */
  private snapshots: Promise<void> = Promise.resolve();

  private constructor(
    private spec: TerminalSpec,
    private control: TmuxControl,
    private target: string,
    private recording: Recording,
    private runtime: Runtime,
    private pod: Pod,
  ) {
    control.onOutput((bytes) => this.fromControl(bytes));
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
    const host = new TerminalHost(spec, control, `=${name}:`, recording, runtime, pod);
    await control.command(`refresh-client -C ${DEFAULT_SIZE.cols}x${DEFAULT_SIZE.rows}`);
    await host.startPipe().catch((error: Error) => console.error(`pier: session ${spec.sessionId}'s terminal output stays on tmux control mode: ${error.message}`));
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
    this.pipe?.close();
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
   * Starts the pipe and, in the same instant (one command line), turns the pane's output off in
   * control mode: what came before is control mode's, what follows the pipe's.
   */
  private async startPipe(): Promise<void> {
    const [info] = await this.control.command(`display-message -p -t ${tmuxQuote(this.target)} '#{pane_id} #{pane_tty}'`);
    const [id, tty] = (info ?? "").split(" ");
    if (!id?.startsWith("%") || !tty?.startsWith("/dev/")) throw new Error(`tmux did not say which pane: ${info}`);
    this.pane = { id, tty };
    const pipe = await PanePipe.open(this.runtime, this.pod, this.spec.worktreePath);
    pipe.onOutput((bytes) => this.fromPipe(bytes));
    try {
      await this.control.commands([`pipe-pane -O -t ${tmuxQuote(this.target)} ${tmuxQuote(pipe.writer)}`, `refresh-client -A '${id}:off'`], () => {
        this.controlOff = true;
      });
    } catch (error) {
      pipe.close();
      throw error;
    }
    this.pipe = pipe;
    void pipe.exited.then(() => this.pipeEnded(pipe));
  }

  /** The pipe ended under a live terminal (replaced, or its reader gone): control mode carries the output again. */
  private pipeEnded(pipe: PanePipe): void {
    if (this.pipe !== pipe || !this.control.alive) return;
    this.pipe = null;
    if (this.catchup) this.finishCatchup(this.catchup, true);
    this.controlOff = false;
    this.control.command(`refresh-client -A '${this.pane.id}:on'`).catch(() => undefined);
  }

  private sendSnapshot(watcher: Watcher): Promise<void> {
    const next = this.snapshots.then(() => (this.controlOff ? this.sendPipeSnapshot(watcher) : this.sendControlSnapshot(watcher)));
    this.snapshots = next.catch(() => undefined);
    return next;
  }

  /**
   * The snapshot while the pipe carries the output: the capture and turning control mode's output
   * on happen in one instant, so control mode carries exactly what follows the capture; a marker
   * written into the pane shows where that meets the pipe. See Catchup.
   */
  private async sendPipeSnapshot(watcher: Watcher): Promise<void> {
    if (!this.watchers.has(watcher)) return;
    const marker = newMarker();
    let finished = () => {};
    const done = new Promise<void>((resolve) => (finished = resolve));
    const catchup: Catchup = {
      watcher,
      marker,
      snapshot: null,
      bridge: [],
      controlScan: new MarkerScanner(marker.bytes),
      collecting: false,
      queued: [],
      pipeScan: new MarkerScanner(marker.bytes),
      finished,
    };
    this.catchup = catchup;
    try {
      const target = tmuxQuote(this.target);
      const [, state, lines] = await this.control.commands(
        [
          `refresh-client -A '${this.pane.id}:on'`,
          `display-message -p -t ${target} '#{alternate_on} #{cursor_x} #{cursor_y} #{keypad_cursor_flag}'`,
          `capture-pane -p -e -t ${target} -S -${SNAPSHOT_HISTORY}`,
        ],
        () => (catchup.collecting = true),
      );
      const stateLine = state?.[0] ?? "";
      // In the alternate screen there is no history to give.
      const screen = stateLine.startsWith("1") ? (lines ?? []).slice(-this.size.rows) : (lines ?? []);
      catchup.snapshot = snapshotBytes(screen, stateLine);
      const written = await this.runtime.exec(this.pod, ["sh", "-c", WRITE_MARKER, "sh", marker.id, this.pane.tty], {
        cwd: this.spec.worktreePath,
        timeoutMs: MARKER_TIMEOUT_MS,
      });
      if (written.exitCode !== 0) throw new Error(`the marker could not be written: ${written.stderr.trim()}`);
      this.tryFinishCatchup(catchup);
      await Promise.race([done, Bun.sleep(MARKER_TIMEOUT_MS)]);
    } finally {
      if (this.catchup === catchup) this.finishCatchup(catchup, true);
    }
  }

  private fromControl(bytes: Uint8Array): void {
    if (!this.controlOff) return this.output(bytes);
    const catchup = this.catchup;
    if (!catchup?.collecting || catchup.controlScan.found) return;
    const { before, after } = catchup.controlScan.push(bytes);
    if (before.length) catchup.bridge.push(before.slice());
    if (after) this.tryFinishCatchup(catchup);
  }

  private fromPipe(bytes: Uint8Array): void {
    const catchup = this.catchup;
    if (!catchup) return this.output(bytes);
    if (catchup.pipeScan.found) {
      this.output(bytes);
      catchup.queued.push(bytes);
      return;
    }
    const { before, after } = catchup.pipeScan.push(bytes);
    if (before.length) this.output(before.slice());
    if (!after) return;
    if (after.length) {
      const rest = after.slice();
      this.output(rest);
      catchup.queued.push(rest);
    }
    this.tryFinishCatchup(catchup);
  }

  private tryFinishCatchup(catchup: Catchup): void {
    if (catchup.snapshot && catchup.controlScan.found && catchup.pipeScan.found) this.finishCatchup(catchup, false);
  }

  /**
   * The watcher gets the snapshot, the bridge and what the pipe brought after the marker, and is
   * live. Given up (the marker never came through both): it gets what there is, and what the pipe
   * held back is passed on.
   */
  private finishCatchup(catchup: Catchup, givenUp: boolean): void {
    if (this.catchup !== catchup) return;
    this.catchup = null;
    if (givenUp && !catchup.pipeScan.found) {
      const rest = catchup.pipeScan.rest();
      if (rest.length) this.output(rest);
    }
    if (this.controlOff) this.control.command(`refresh-client -A '${this.pane.id}:off'`).catch(() => undefined);
    const entry = this.watchers.get(catchup.watcher);
    if (entry && catchup.snapshot) {
      catchup.watcher.sendBytes(concat([catchup.snapshot, ...catchup.bridge, ...catchup.queued]));
      entry.state = "live";
    }
    catchup.finished();
  }

  /**
   * Sends the watcher its snapshot and makes it live, when control mode carries the output.
   * tmux answers commands in order with the
   * output, so everything written before the capture's answer is in the capture, and everything
   * after it reaches the watcher live. The cursor is asked for first; if output arrived between
   * that answer and the capture's, the cursor may have moved, so the two are asked again.
   */
  private async sendControlSnapshot(watcher: Watcher): Promise<void> {
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
    this.pipe?.close();
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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
