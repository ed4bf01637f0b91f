import type { OutputSource, TerminalSize } from "./output-source.ts";
import type { Watcher } from "./watchers.ts";

/** What changing the terminal's size touches. */
export interface SizeParts {
  /** The source carrying the output now: it knows when a new size has reached the shell. */
  source(): OutputSource;
  /** Asks tmux for the size. */
  send(size: TerminalSize): Promise<unknown>;
  /** The size is the terminal's from this point of its output on (the recording notes it). */
  changed(size: TerminalSize): void;
}

/**
 * Who decides the terminal's size: several watchers may watch and type at once; the terminal takes
 * the size of whichever watcher resized or typed last, like tmux's own `window-size latest`.
 */
export class SizeOwnership {
  /** Each watcher's own terminal size, once it has said it. */
  private wanted = new Map<Watcher, TerminalSize>();
  private owner: Watcher | null = null;
  private size: TerminalSize;
  /**
   * Settles once the shell's terminal has the size last asked for (tmux passes a pane's new size
   * on only after a timer of its own): keys typed after a resize wait for it, as they would at a
   * real terminal. A size that never lands holds nothing up for long (see OutputSource.expectSize).
   */
  private landed: Promise<void> = Promise.resolve();

  constructor(
    initial: TerminalSize,
    private parts: SizeParts,
  ) {
    this.size = { ...initial };
  }

  /** The watcher's own size: it becomes the terminal's; resolves once the shell's terminal has it. */
  async claim(watcher: Watcher, size: TerminalSize): Promise<void> {
    this.wanted.set(watcher, size);
    await this.apply(watcher, size);
  }

  /** The watcher typed: its size becomes the terminal's. Resolves once the keys may go (the shell has the size). */
  typedBy(watcher: Watcher): Promise<void> {
    const size = this.wanted.get(watcher);
    if (size && this.owner !== watcher) void this.apply(watcher, size);
    return this.landed;
  }

  forget(watcher: Watcher): void {
    this.wanted.delete(watcher);
    if (this.owner === watcher) this.owner = null;
  }

  /** The terminal is gone: no watcher's size is asked for again. */
  forgetAll(): void {
    this.wanted.clear();
  }

  /** Makes `size` the terminal's; resolves once the shell's terminal has it (see landed). */
  private async apply(watcher: Watcher, size: TerminalSize): Promise<void> {
    this.owner = watcher;
    if (size.cols === this.size.cols && size.rows === this.size.rows) return this.landed;
    this.size = { ...size };
    this.parts.changed(size);
    const lands = this.parts.source().expectSize(() => this.size);
    const sent = this.parts.send(size);
    // The size wanted is the terminal's, whichever resize set it last: one that came meanwhile ends this wait too.
    this.landed = lands(sent).then(() => undefined).catch(() => undefined);
    await sent;
    await this.landed;
  }
}
