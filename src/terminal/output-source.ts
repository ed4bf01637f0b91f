/** A terminal's size in cells. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What a source needs to give one new watcher its snapshot. */
export interface ScreenCapture {
  /** Captures the screen and, if `keep()` says it still holds, sends it and makes the watcher live. Returns whether to try again. */
  take(keep?: () => boolean): Promise<boolean>;
  /** How many pieces of output have gone to the watchers so far. */
  outputCount(): number;
}

/**
 * Where a terminal's output comes from: the holder in the pane (holder-source.ts) or tmux's control
 * mode (control-source.ts). Each delivers the shell's bytes in order to the function it was made
 * with; this is what differs between them besides.
 */
export interface OutputSource {
  /** Gives a new watcher the screen as it is at one point of the stream, and makes it live from there, nothing lost or repeated. */
  snapshot(capture: ScreenCapture): Promise<void>;
  /**
   * Called just before the terminal is asked for a new size; what it returns, handed the request,
   * resolves once the shell's terminal has the size `wanted()` says (or once it is no use waiting).
   */
  expectSize(wanted: () => TerminalSize): (sent: Promise<unknown>) => Promise<unknown>;
  /** Server shutdown: what the source has already sent is delivered; it sends nothing more. */
  drain(): Promise<void>;
  /** The shell has gone: what the source still has of its last output is delivered (for a while at most). */
  finish(): Promise<void>;
}
