import type { OutputSource, ScreenCapture } from "./output-source.ts";
import type { TmuxControl } from "./tmux-control.ts";

/** How long a size gets to show in tmux's layout-change notice (none comes if the window already had it). */
const LAYOUT_CHANGE_MS = 500;
/** How often a snapshot is tried again when output moved the screen while it was taken. */
const SNAPSHOT_ATTEMPTS = 4;

/**
 * tmux's control mode as the source of the output: `%output` lines of the control client. It
 * carries the output where no holder does; while Pier waits to hear whether one will, what it
 * brings is kept aside, and once a holder carries the output it is dropped. A control client
 * attached for a holder asks tmux for no pane output at all (`-f no-output`) and turns it on only
 * when it must carry it. (Turning one pane's output off with `refresh-client -A` instead made
 * tmux 3.3a crash when such a client was replaced, as on every server restart.)
 */
export class ControlSource implements OutputSource {
  /** Where its output goes: on to the terminal, nowhere (the holder carries it), or kept aside meanwhile. */
  private gate: "carrying" | "dropping" | Uint8Array[] = [];

  constructor(
    private control: TmuxControl,
    /** The client was attached with no pane output. */
    private quiet: boolean,
    private deliver: (bytes: Uint8Array) => void,
  ) {
    control.onOutput((bytes) => this.received(bytes));
  }

  /** Its output is kept aside while Pier finds out whether a holder answers. */
  get waiting(): boolean {
    return Array.isArray(this.gate);
  }

  /** Carries the output from here on, starting with what it kept aside. */
  async carry(): Promise<void> {
    const kept = Array.isArray(this.gate) ? this.gate : [];
    this.gate = "carrying";
    for (const bytes of kept) this.deliver(bytes);
    if (this.quiet) {
      this.quiet = false;
      await this.control.command("refresh-client -f !no-output").catch(() => undefined);
    }
  }

  /** A holder carries the output: what control mode brings is dropped. */
  drop(): void {
    this.gate = "dropping";
  }

  /** The holder went: what control mode brings is kept aside until it is known who carries it. */
  wait(): void {
    this.gate = [];
  }

  /**
   * tmux answers commands in order with the output, so everything written before the capture's
   * answer is in the capture, and everything after it reaches the watcher live. The cursor is
   * asked for first; if output arrived between that answer and the capture's, the cursor may
   * have moved, so the two are asked again.
   */
  async snapshot(capture: ScreenCapture): Promise<void> {
    for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
      const seqBefore = capture.outputCount();
      if (!(await capture.take(() => capture.outputCount() === seqBefore || attempt === SNAPSHOT_ATTEMPTS - 1))) return;
    }
  }

  /** tmux's layout-change notice says the window has the size (briefly: none comes if it already had). */
  expectSize(): (sent: Promise<unknown>) => Promise<unknown> {
    const laidOut = this.control.nextNotification("%layout-change", LAYOUT_CHANGE_MS);
    return (sent) => sent.then(() => laidOut);
  }

  async drain(): Promise<void> {}

  async finish(): Promise<void> {}

  private received(bytes: Uint8Array): void {
    if (this.gate === "carrying") this.deliver(bytes);
    else if (this.gate !== "dropping") this.gate.push(bytes.slice());
  }
}
