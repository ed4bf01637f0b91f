import type { HolderStream } from "./holder/holder-stream.ts";
import type { OutputSource, ScreenCapture, TerminalSize } from "./output-source.ts";

/** How long keys typed after a resize wait for the shell's terminal to have the new size (tmux passes it on within about 250 ms). */
const RESIZE_LANDS_MS = 1_000;
/** How long a stopping server waits for the holder to hand over what it has already sent. */
const DRAIN_MS = 1_500;
/** How long the end of a shell's output gets to come through the holder after tmux says the shell has gone. */
const FINAL_OUTPUT_MS = 2_000;

/**
 * The holder in the pane (pier-pty, see HolderStream) as the source of the output: the shell's
 * raw bytes as it wrote them, and the size its terminal has.
 */
export class HolderSource implements OutputSource {
  constructor(
    readonly stream: HolderStream,
    private sessionId: string,
    /** Says when a size has landed for a holder that cannot tell. */
    private sizes: Pick<OutputSource, "expectSize">,
    deliver: (bytes: Uint8Array) => void,
  ) {
    stream.onOutput(deliver);
  }

  /**
   * The holder pauses the shell's output once tmux's screen has every byte already passed to the
   * live watchers, so the capture is exactly the screen at that point in the stream and the
   * watcher goes live at it.
   */
  async snapshot(capture: ScreenCapture): Promise<void> {
    const synced = await this.stream.sync();
    try {
      if (!synced && this.stream.alive) console.error(`pier: session ${this.sessionId}'s terminal holder did not pause for a snapshot in time`);
      await capture.take();
    } finally {
      this.stream.resume();
    }
  }

  /** Only the holder can say when the shell's terminal has the new size, if it is one that tells. */
  expectSize(wanted: () => TerminalSize): (sent: Promise<unknown>) => Promise<unknown> {
    if (!this.stream.tellsSize) return this.sizes.expectSize(wanted);
    return (sent) => sent.then(() => this.stream.shellHasSize(wanted, RESIZE_LANDS_MS));
  }

  /** Paused, the holder sends nothing after its answer, and keeps the rest for the next Pier. */
  async drain(): Promise<void> {
    await this.stream.pause(DRAIN_MS);
  }

  async finish(): Promise<void> {
    await Promise.race([this.stream.exited, Bun.sleep(FINAL_OUTPUT_MS)]);
  }

  close(): void {
    this.stream.close();
  }
}
