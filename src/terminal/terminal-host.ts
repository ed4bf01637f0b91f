import type { Pod, Runtime } from "../runtime/runtime.ts";
import type { ControlMessage } from "./protocol.ts";
import type { HolderHub, HolderStream } from "./holder/holder-stream.ts";
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
  /** The holder (pier-pty): its path in the pod, the socket it reaches Pier on, and Pier's end of that socket. */
  holder?: { program: string; socket: string; hub: HolderHub } | null;
  /** A line the shell prints first, should this open start a new one (the one before was lost: see TerminalEnd). */
  newShellNotice?: string | null;
}

/**
 * How a terminal ended: its shell exited (or the session was killed), Pier closed it (shutdown,
 * the session ending), or the connection to the pod ended under a live shell, which is then lost
 * (its pod was removed, restarted or stopped behind Pier's back, or tmux died).
 */
export type TerminalEnd = "exited" | "closed" | "lost";

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
/** How long a new session's holder (or, after a restart, a running one) gets to connect before control mode carries the output. */
const HOLDER_START_MS = 3_000;
/** How long keys typed after a resize wait for the shell's terminal to have the new size (tmux passes it on within about 250 ms). */
const RESIZE_LANDS_MS = 1_000;
/** How long a stopping server waits for the holder to hand over what it has already sent. */
const DRAIN_MS = 1_500;
/** How long the end of a shell's output gets to come through the holder after tmux says the shell has gone. */
const FINAL_OUTPUT_MS = 2_000;

/**
 * Runs the shell under the holder when the holder runs in this pod (a pod of another machine type
 * could not run it), else the shell itself. $1 the holder, $2 Pier's socket, $3 the session, the rest the shell.
 */
const UNDER_HOLDER = `h=$1 s=$2 id=$3; shift 3
if "$h" version >/dev/null 2>&1; then exec "$h" serve "$s" "$id" -- "$@"; fi
exec "$@"`;

/**
 * Finds the session's tmux session or starts it: $1-$3 the tmux command and its server, $4 the
 * session as a target; the rest starts it. Exits FOUND when it was there already.
 */
const FIND_OR_START = `"$1" "$2" "$3" has-session -t "$4" 2>/dev/null && exit 100
shift 4
exec "$@"`;
const FOUND = 100;

/** Prints $0 (a line for the person) before the shell starts. */
const PRINT_FIRST = `printf '%s\\n\\n' "$0"; exec "$@"`;

type WatcherState = "pending" | "live" | "behind";

/**
 * A session's terminal: a tmux session in the pod (so the shell outlives any connection and a
 * server restart), a control-mode client for commands, the shell's raw output from the holder in
 * the pane (pier-pty, see HolderStream), the recording, and the watchers it fans out to. Where the
 * holder cannot run (no compiler on the server, a pod of another machine type, or a session
 * started before it), control mode carries the output as well.
 *
 * Size: several watchers may watch and type at once; the terminal takes the size of whichever
 * watcher resized or typed last, like tmux's own `window-size latest`.
 */
export class TerminalHost {
  private watchers = new Map<Watcher, { state: WatcherState; size?: { cols: number; rows: number } }>();
  private size = { ...DEFAULT_SIZE };
  private sizeOwner: Watcher | null = null;
  private outputSeq = 0;
  private exitListeners: Array<(how: TerminalEnd) => void> = [];
  /** Pier closed it on purpose: its ending is not a lost shell. */
  private closing = false;
  private outputListeners: Array<(bytes: Uint8Array) => void> = [];
  private holder: HolderStream | null = null;
  private releaseHolder: () => void = () => {};
  private pane = "";
  /** The control client was attached with no pane output (the holder carries it). */
  private controlQuiet = false;
  /** The pane runs (or is about to run) the holder, so it is worth waiting for. */
  private holderExpected = false;
  /**
   * Where control mode's output goes: to the watchers ("on"), nowhere (the holder carries it), or
   * kept aside while Pier finds out whether the pane's holder answers.
   */
  private controlOutput: "on" | "off" | Uint8Array[] = [];
  /** Snapshots are taken one at a time. */
  private snapshots: Promise<void> = Promise.resolve();
  /** Keys reach the shell one after the other, in the order they came. */
  private typing: Promise<void> = Promise.resolve();
  /**
   * Settles once the shell's terminal has the size last asked for (tmux passes a pane's new size
   * on only after a timer of its own): keys typed after a resize wait for it, as they would at a
   * real terminal. A size that never lands holds nothing up for longer than RESIZE_LANDS_MS.
   */
  private sizeLanded: Promise<void> = Promise.resolve();

  private constructor(
    private spec: TerminalSpec,
    private control: TmuxControl,
    private target: string,
    private recording: Recording,
  ) {
    control.onOutput((bytes) => this.fromControl(bytes));
    control.onExit(() => void this.exited());
  }

  /** Attaches to the session's tmux session in the pod, creating it (and its shell) if needed. */
  static async open(runtime: Runtime, pod: Pod, spec: TerminalSpec): Promise<TerminalHost> {
    const host = await TerminalHost.start(runtime, pod, spec);
    await host.awaitHolder();
    return host;
  }

  /**
   * Creates or finds the tmux session (on the session's own tmux server: tmux 3.3a crashed, taking
   * every session with it, when clients of several sessions on one server attached and resized at
   * once) and attaches a control client with its size set.
   */
  private static async start(runtime: Runtime, pod: Pod, spec: TerminalSpec): Promise<TerminalHost> {
    const name = `pier-${spec.sessionId}`;
    const TMUX = tmuxCommand(spec.socketName);
    let shell = spec.startCommand ? ["bash", "-lc", `${spec.startCommand}; exec bash -l`] : ["bash", "-l"];
    if (spec.newShellNotice) shell = ["sh", "-c", PRINT_FIRST, spec.newShellNotice, ...shell];
    if (spec.holder) shell = ["sh", "-c", UNDER_HOLDER, "sh", spec.holder.program, spec.holder.socket, spec.sessionId, ...shell];
    const env = Object.entries({ ...spec.env, TERM: "xterm-256color", COLORTERM: "truecolor" }).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    // Found, or made, in one exec into the pod (each costs tens of milliseconds).
    const started = await runtime.exec(
      pod,
      [
        "sh", "-c", FIND_OR_START, "sh", ...TMUX, `=${name}`,
        ...TMUX, "-f", "/dev/null", "start-server", ";",
        "set-option", "-g", "history-limit", String(HISTORY_LINES), ";",
        "set-option", "-g", "default-terminal", "xterm-256color", ";",
        "set-option", "-g", "status", "off", ";",
        "new-session", "-d", "-s", name, "-x", String(DEFAULT_SIZE.cols), "-y", String(DEFAULT_SIZE.rows),
        "-c", spec.worktreePath, ...env, ...shell,
      ],
      { cwd: spec.worktreePath },
    );
    const found = started.exitCode === FOUND;
    if (!found && started.exitCode !== 0) throw new Error(`Could not start the terminal: ${started.stderr.trim() || started.stdout.trim()}`);
    // With a holder to carry the output, the control client asks tmux for none (until it must carry it after all).
    const quiet = spec.holder ? ["-f", "no-output"] : [];
    const client = await runtime.spawn(pod, [...TMUX, "-C", "attach-session", ...quiet, "-t", `=${name}`], { cwd: spec.worktreePath });
    const control = new TmuxControl(client);
    const attached = await Promise.race([control.ready.then(() => true), Bun.sleep(ATTACH_TIMEOUT_MS).then(() => false)]);
    if (!attached) {
      control.close();
      throw new Error("tmux did not attach the terminal in time.");
    }
    const target = `=${name}:`;
    const [info] = await control.command(`display-message -p -t ${tmuxQuote(target)} '#{window_width} #{window_height} #{pane_id} #{pane_current_command}'`);
    const [width, height, paneId, ...command] = (info ?? "").split(" ");
    const running = command.join(" ");
    // A terminal found after a restart keeps its size: a change would make the shell redraw its prompt.
    const size = found && Number(width) > 0 && Number(height) > 0 ? { cols: Number(width), rows: Number(height) } : DEFAULT_SIZE;
    const recording = new Recording(spec.recordingPath, size, spec.recordingLimitMiB);
    const host = new TerminalHost(spec, control, target, recording);
    host.size = { ...size };
    host.controlQuiet = quiet.length > 0;
    await control.command(`refresh-client -C ${size.cols}x${size.rows}`);
    host.pane = paneId?.startsWith("%") ? paneId : "";
    // The pane runs the holder, or is still starting it (sh, just before it becomes the holder or the shell).
    host.holderExpected = running === "pier-pty" || (!found && running === "sh");
    return host;
  }

  get alive(): boolean {
    return this.control.alive;
  }

  /** Every byte the shell writes, as it comes (for readers such as the pull request link scanner). */
  onOutput(listener: (bytes: Uint8Array) => void): void {
    this.outputListeners.push(listener);
  }

  /** Called once when the tmux session or the connection to it is gone, with how it ended. */
  onExit(listener: (how: TerminalEnd) => void): void {
    if (!this.alive) listener(this.end());
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
  input(watcher: Watcher, data: string): Promise<void> {
    const typed = this.typing.then(async () => {
      const size = this.watchers.get(watcher)?.size;
      if (size && this.sizeOwner !== watcher) void this.applySize(watcher, size);
      await this.sizeLanded;
      const bytes = new TextEncoder().encode(data);
      for (let i = 0; i < bytes.length; i += INPUT_CHUNK) {
        const hex = Array.from(bytes.subarray(i, i + INPUT_CHUNK), (b) => b.toString(16).padStart(2, "0")).join(" ");
        await this.control.command(`send-keys -t ${tmuxQuote(this.target)} -H ${hex}`);
      }
    });
    this.typing = typed.catch(() => undefined);
    return typed;
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

  /** Stops watching (server shutdown): the tmux session and its shell keep running in the pod, and the holder keeps what the shell writes meanwhile. */
  async detachAll(): Promise<void> {
    // Keys already typed reach the shell (some may be waiting for a resize to land); a snapshot
    // under way finishes. Then what the holder has already sent is read and recorded: paused, it
    // sends nothing after its answer, and keeps the rest for the next Pier.
    await this.typing;
    await this.snapshots;
    await this.holder?.pause(DRAIN_MS);
    this.close();
  }

  private close(): void {
    this.closing = true;
    this.recording.close();
    this.releaseHolder();
    const holder = this.holder;
    // Gone on purpose: nothing is to be switched back to control mode for it.
    this.holder = null;
    holder?.close();
    this.control.close();
  }

  /** Ends the tmux session and its shell (the session itself is ending). */
  async terminate(): Promise<void> {
    try {
      await this.control.command(`kill-session -t ${tmuxQuote(this.target.slice(0, -1))}`);
    } catch {
      // Already gone.
    }
    this.close();
  }

  /** Makes `size` the terminal's; resolves once the shell's terminal has it (see sizeLanded). */
  private async applySize(watcher: Watcher, size: { cols: number; rows: number }): Promise<void> {
    this.sizeOwner = watcher;
    if (size.cols === this.size.cols && size.rows === this.size.rows) return this.sizeLanded;
    this.size = { ...size };
    this.recording.resize(size.cols, size.rows);
    // Only the holder can say when the shell's terminal has the new size; without one that tells,
    // tmux's layout-change notice says the window has it (briefly: none comes if it already had).
    const holder = this.holder?.tellsSize ? this.holder : null;
    const laidOut = holder ? null : this.control.nextNotification("%layout-change", 500);
    const sent = this.control.command(`refresh-client -C ${size.cols}x${size.rows}`);
    // The size wanted is the terminal's, whichever resize set it last: one that came meanwhile ends this wait too.
    this.sizeLanded = sent.then(async () => void (await (holder ? holder.shellHasSize(() => this.size, RESIZE_LANDS_MS) : laidOut))).catch(() => undefined);
    await sent;
    await this.sizeLanded;
  }

  /**
   * Takes the session's holder whenever it connects (after a server restart, or when its
   * connection broke, it connects again by itself). A holder just started, or one the pane is
   * running, is waited for a moment before control mode carries the output meanwhile.
   */
  private async awaitHolder(): Promise<void> {
    const expected = this.holderExpected;
    const hub = this.spec.holder?.hub;
    if (!hub || !this.pane) return this.useHolder(null);
    let arrived: () => void = () => {};
    const first = new Promise<void>((resolve) => (arrived = resolve));
    this.releaseHolder = hub.claim(this.spec.sessionId, (stream) => {
      arrived();
      void this.useHolder(stream);
    });
    await Promise.race([first, Bun.sleep(expected ? HOLDER_START_MS : 0)]);
    if (!this.holder && Array.isArray(this.controlOutput)) await this.useHolder(null);
  }

  /**
   * The holder carries the output from here on; without a holder, control mode carries it,
   * starting with what it brought while Pier waited. A control client attached for a holder asks
   * tmux for no pane output at all (`-f no-output`) and turns it on only when it must carry it.
   * (Turning one pane's output off with `refresh-client -A` instead made tmux 3.3a crash when such
   * a client was replaced, as on every server restart.)
   */
  private async useHolder(holder: HolderStream | null): Promise<void> {
    const kept = Array.isArray(this.controlOutput) ? this.controlOutput : [];
    if (!holder) {
      this.controlOutput = "on";
      for (const bytes of kept) this.output(bytes);
      if (this.controlQuiet) {
        this.controlQuiet = false;
        await this.control.command("refresh-client -f !no-output").catch(() => undefined);
      }
      return;
    }
    if (!this.control.alive) return holder.close();
    this.holder?.close();
    this.controlOutput = "off";
    this.holder = holder;
    holder.onOutput((bytes) => this.output(bytes));
    void holder.exited.then(() => this.holderEnded(holder));
  }

  /**
   * The holder's connection ended under a live terminal. It connects again by itself (every
   * quarter second) and then sends what Pier has not had; should it not come back in time,
   * control mode carries the output from then on (tmux's screen has what came meanwhile).
   */
  private holderEnded(holder: HolderStream): void {
    if (this.holder !== holder || !this.control.alive) return;
    this.holder = null;
    this.controlOutput = [];
    setTimeout(() => {
      if (!this.holder && Array.isArray(this.controlOutput) && this.control.alive) void this.useHolder(null);
    }, HOLDER_START_MS).unref();
  }

  private sendSnapshot(watcher: Watcher): Promise<void> {
    const next = this.snapshots.then(() => (this.holder ? this.sendHolderSnapshot(this.holder, watcher) : this.sendControlSnapshot(watcher)));
    this.snapshots = next.catch(() => undefined);
    return next;
  }

  /**
   * The snapshot while the holder carries the output: the holder pauses the shell's output once
   * tmux's screen has every byte already passed to the live watchers, so the capture is exactly
   * the screen at that point in the stream and the watcher goes live at it.
   */
  private async sendHolderSnapshot(holder: HolderStream, watcher: Watcher): Promise<void> {
    if (!this.watchers.has(watcher)) return;
    const synced = await holder.sync();
    try {
      if (!synced && holder.alive) console.error(`pier: session ${this.spec.sessionId}'s terminal holder did not pause for a snapshot in time`);
      await this.sendCapture(watcher);
    } finally {
      holder.resume();
    }
  }

  /**
   * Sends the watcher its snapshot and makes it live, when control mode carries the output.
   * tmux answers commands in order with the output, so everything written before the capture's
   * answer is in the capture, and everything after it reaches the watcher live. The cursor is
   * asked for first; if output arrived between that answer and the capture's, the cursor may
   * have moved, so the two are asked again.
   */
  private async sendControlSnapshot(watcher: Watcher): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const seqBefore = this.outputSeq;
      if (!(await this.sendCapture(watcher, () => this.outputSeq === seqBefore || attempt === 3))) return;
    }
  }

  /** Captures the screen and, if `keep()` says it still holds, sends it and makes the watcher live. Returns whether to try again. */
  private async sendCapture(watcher: Watcher, keep: () => boolean = () => true): Promise<boolean> {
    const target = tmuxQuote(this.target);
    const [stateLine] = await this.control.command(`display-message -p -t ${target} '#{alternate_on} #{cursor_x} #{cursor_y} #{keypad_cursor_flag}'`);
    // In the alternate screen there is no history to give.
    const lines = await this.control.command(`capture-pane -p -e -t ${target}${stateLine?.startsWith("1") ? "" : ` -S -${SNAPSHOT_HISTORY}`}`);
    const entry = this.watchers.get(watcher);
    if (!entry) return false;
    if (!keep()) return true;
    watcher.sendBytes(snapshotBytes(lines, stateLine ?? ""));
    entry.state = "live";
    return false;
  }

  private fromControl(bytes: Uint8Array): void {
    if (this.controlOutput === "on") this.output(bytes);
    else if (this.controlOutput !== "off") this.controlOutput.push(bytes.slice());
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

  /** tmux says the shell has gone: what the holder still has of its last output comes first. */
  private async exited(): Promise<void> {
    const holder = this.holder;
    if (holder) await Promise.race([holder.exited, Bun.sleep(FINAL_OUTPUT_MS)]);
    this.releaseHolder();
    holder?.close();
    this.recording.close();
    const how = this.end();
    // A lost shell is not the person's doing: its watchers are taken to a new one (see TerminalEnd), not told it exited.
    if (how !== "lost") for (const watcher of this.watchers.keys()) watcher.sendControl({ type: "exited" });
    this.watchers.clear();
    for (const listener of this.exitListeners.splice(0)) listener(how);
  }

  private end(): TerminalEnd {
    return this.closing ? "closed" : this.control.lost ? "lost" : "exited";
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
