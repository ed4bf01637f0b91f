import type { Pod, Runtime } from "../runtime/runtime.ts";
import { ControlSource } from "./control-source.ts";
import { HolderSource } from "./holder-source.ts";
import type { HolderHub, HolderStream } from "./holder/holder-stream.ts";
import type { OutputSource } from "./output-source.ts";
import { Recording } from "./recording.ts";
import { captureScreen } from "./screen-capture.ts";
import { SizeOwnership } from "./size-ownership.ts";
import { tmuxQuote } from "./tmux-control.ts";
import { type ShellSpec, type TmuxSession, attachTmuxSession } from "./tmux-session.ts";
import { type Watcher, Watchers } from "./watchers.ts";

export interface TerminalSpec extends ShellSpec {
  recordingPath: string;
  /** The recording stops (with a note saying so) at this size. */
  recordingLimitMiB: number;
  /** The holder (pier-pty): its path in the pod, the socket it reaches Pier on, and Pier's end of that socket. */
  holder?: { program: string; socket: string; hub: HolderHub } | null;
}

/** tmux command lines stay short: input is sent in pieces of this many bytes. */
const INPUT_CHUNK = 1024;
/** How long a new session's holder (or, after a restart, a running one) gets to connect before control mode carries the output. */
const HOLDER_START_MS = 3_000;

/**
 * A session's terminal: a tmux session in the pod (so the shell outlives any connection and a
 * server restart, see tmux-session.ts), a control-mode client for commands, the shell's output
 * from one of two sources (the holder in the pane, else control mode: see OutputSource), the
 * recording, the watchers it fans out to (watchers.ts) and who decides its size (size-ownership.ts).
 * This connects them, and switches the source: the holder carries the output whenever it is
 * connected, control mode where the holder cannot run (no compiler on the server, a pod of another
 * machine type, or a session started before it) or while it is away.
 */
export class SessionTerminal {
  private watchers = new Watchers();
  private sizes: SizeOwnership;
  private controlSource: ControlSource;
  /** The holder while it is connected: it carries the output. */
  private holder: HolderSource | null = null;
  private releaseHolder: () => void = () => {};
  private exitListeners: Array<(lost: boolean) => void> = [];
  private outputListeners: Array<(bytes: Uint8Array) => void> = [];
  /** Snapshots are taken one at a time. */
  private snapshots: Promise<void> = Promise.resolve();
  /** Keys reach the shell one after the other, in the order they came. */
  private typing: Promise<void> = Promise.resolve();
  /** Watchers being attached, until their snapshot is sent: keys they type meanwhile wait for it. */
  private attaching = new Map<Watcher, Promise<void>>();

  private constructor(
    private spec: TerminalSpec,
    private tmux: TmuxSession,
    private recording: Recording,
  ) {
    this.controlSource = new ControlSource(tmux.control, tmux.quiet, (bytes) => this.output(bytes));
    this.sizes = new SizeOwnership(tmux.size, {
      source: () => this.source,
      send: (size) => tmux.control.command(`refresh-client -C ${size.cols}x${size.rows}`),
      changed: (size) => recording.resize(size.cols, size.rows),
    });
    tmux.control.onExit(() => void this.exited());
  }

  /** Attaches to the session's tmux session in the pod, creating it (and its shell) if needed. */
  static async open(runtime: Runtime, pod: Pod, spec: TerminalSpec): Promise<SessionTerminal> {
    const tmux = await attachTmuxSession(runtime, pod, spec);
    const terminal = new SessionTerminal(spec, tmux, new Recording(spec.recordingPath, tmux.size, spec.recordingLimitMiB));
    await tmux.control.command(`refresh-client -C ${tmux.size.cols}x${tmux.size.rows}`);
    await terminal.awaitHolder();
    return terminal;
  }

  get alive(): boolean {
    return this.tmux.control.alive;
  }

  /** Tells everyone watching the terminal, as a line Pier writes (not the shell's output: the recording does not hold it). */
  notice(message: string): void {
    this.watchers.notice(message);
  }

  /** Every byte the shell writes, as it comes (for readers such as the pull request link scanner). */
  onOutput(listener: (bytes: Uint8Array) => void): void {
    this.outputListeners.push(listener);
  }

  /**
   * Called once when the tmux session or the connection to it is gone; `lost` when it was the
   * connection (the pod or its engine went), so the shell may live on or may have gone with the pod.
   */
  onExit(listener: (lost: boolean) => void): void {
    if (!this.alive) listener(this.tmux.control.lostConnection);
    else this.exitListeners.push(listener);
  }

  /**
   * Adds a watcher. It first gets a snapshot (scrollback and the current screen), then live
   * output; `size` (the watcher's own terminal size, when known) is applied before the snapshot
   * so the screen it gets is laid out for it.
   */
  async attach(watcher: Watcher, size?: { cols: number; rows: number }): Promise<void> {
    this.watchers.add(watcher);
    const shown = (async () => {
      if (size) await this.sizes.claim(watcher, size);
      await this.sendSnapshot(watcher);
    })();
    this.attaching.set(watcher, shown.catch(() => undefined));
    try {
      await shown;
    } finally {
      this.attaching.delete(watcher);
    }
  }

  detach(watcher: Watcher): void {
    this.watchers.remove(watcher);
    this.sizes.forget(watcher);
  }

  /** Keystrokes or pasted text from a watcher; that watcher's size becomes the terminal's. */
  input(watcher: Watcher, data: string): Promise<void> {
    const typed = this.typing.then(async () => {
      await this.sizes.typedBy(watcher);
      // Keys typed while their watcher was being attached go after its snapshot, so that it sees
      // what they do as live output, not only in a snapshot taken after they ran.
      await this.attaching.get(watcher);
      const bytes = new TextEncoder().encode(data);
      for (let i = 0; i < bytes.length; i += INPUT_CHUNK) {
        const hex = Array.from(bytes.subarray(i, i + INPUT_CHUNK), (b) => b.toString(16).padStart(2, "0")).join(" ");
        await this.tmux.control.command(`send-keys -t ${tmuxQuote(this.tmux.target)} -H ${hex}`);
      }
    });
    this.typing = typed.catch(() => undefined);
    return typed;
  }

  async resize(watcher: Watcher, cols: number, rows: number): Promise<void> {
    if (!this.watchers.has(watcher)) return;
    await this.sizes.claim(watcher, { cols, rows });
  }

  /** The watcher's socket has room again: if it was left behind, it gets a fresh snapshot. */
  async drained(watcher: Watcher): Promise<void> {
    if (!this.watchers.caughtUp(watcher)) return;
    await this.sendSnapshot(watcher);
  }

  /** Stops watching (server shutdown): the tmux session and its shell keep running in the pod, and the holder keeps what the shell writes meanwhile. */
  async detachAll(): Promise<void> {
    // Keys already typed reach the shell (some may be waiting for a resize to land); a snapshot
    // under way finishes. Then what the source has already sent is read and recorded.
    await this.typing;
    await this.snapshots;
    await this.source.drain();
    this.close();
  }

  private close(): void {
    this.recording.close();
    this.releaseHolder();
    const holder = this.holder;
    // Gone on purpose: nothing is to be switched back to control mode for it.
    this.holder = null;
    holder?.close();
    this.tmux.control.close();
  }

  /** Ends the tmux session and its shell (the session itself is ending). */
  async terminate(): Promise<void> {
    try {
      await this.tmux.control.command(`kill-session -t ${tmuxQuote(this.tmux.target.slice(0, -1))}`);
    } catch {
      // Already gone.
    }
    this.close();
  }

  /** The source carrying the output now. */
  private get source(): OutputSource {
    return this.holder ?? this.controlSource;
  }

  /**
   * Takes the session's holder whenever it connects (after a server restart, or when its
   * connection broke, it connects again by itself). A holder just started, or one the pane is
   * running, is waited for a moment before control mode carries the output meanwhile.
   */
  private async awaitHolder(): Promise<void> {
    const hub = this.spec.holder?.hub;
    if (!hub || !this.tmux.pane) return this.controlSource.carry();
    let arrived: () => void = () => {};
    const first = new Promise<void>((resolve) => (arrived = resolve));
    this.releaseHolder = hub.claim(this.spec.sessionId, (stream) => {
      arrived();
      this.useHolder(stream);
    });
    await Promise.race([first, Bun.sleep(this.tmux.holderExpected ? HOLDER_START_MS : 0)]);
    if (!this.holder && this.controlSource.waiting) await this.controlSource.carry();
  }

  /** The holder carries the output from here on (what control mode brings is dropped). */
  private useHolder(stream: HolderStream): void {
    if (!this.tmux.control.alive) return stream.close();
    this.holder?.close();
    this.controlSource.drop();
    const holder = new HolderSource(stream, this.spec.sessionId, this.controlSource, (bytes) => this.output(bytes));
    this.holder = holder;
    void stream.exited.then(() => this.holderEnded(holder));
  }

  /**
   * The holder's connection ended under a live terminal. It connects again by itself (every
   * quarter second) and then sends what Pier has not had; should it not come back in time,
   * control mode carries the output from then on (tmux's screen has what came meanwhile).
   */
  private holderEnded(holder: HolderSource): void {
    const control = this.tmux.control;
    if (this.holder !== holder || !control.alive) return;
    this.holder = null;
    this.controlSource.wait();
    setTimeout(() => {
      if (!this.holder && this.controlSource.waiting && control.alive) void this.controlSource.carry();
    }, HOLDER_START_MS).unref();
  }

  private sendSnapshot(watcher: Watcher): Promise<void> {
    const next = this.snapshots.then(() => this.snapshot(watcher));
    this.snapshots = next.catch(() => undefined);
    return next;
  }

  /** The watcher's snapshot, lined up with the stream by the source carrying it. */
  private async snapshot(watcher: Watcher): Promise<void> {
    if (!this.watchers.has(watcher)) return;
    await this.source.snapshot({
      outputCount: () => this.watchers.outputCount(),
      take: async (keep = () => true) => {
        const screen = await captureScreen(this.tmux.control, this.tmux.target);
        if (!this.watchers.has(watcher)) return false;
        if (!keep()) return true;
        this.watchers.goLive(watcher, screen);
        return false;
      },
    });
  }

  private output(bytes: Uint8Array): void {
    this.recording.output(bytes);
    this.watchers.send(bytes);
    // After the watchers: readers never delay what a person sees.
    for (const listener of this.outputListeners) listener(bytes);
  }

  /** tmux says the shell has gone: what the holder still has of its last output comes first. */
  private async exited(): Promise<void> {
    const holder = this.holder;
    if (holder) await holder.finish();
    this.releaseHolder();
    holder?.close();
    this.recording.close();
    const lost = this.tmux.control.lostConnection;
    this.watchers.endAll(lost);
    this.sizes.forgetAll();
    for (const listener of this.exitListeners.splice(0)) listener(lost);
  }
}
