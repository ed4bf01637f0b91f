/** Lines of a build's log kept for its failure's message: enough to hold the failing step's output. */
const TAIL_LINES = 20;
/** A longer line is cut here, so one runaway line cannot make the failure's message as long as it likes. */
const MAX_LINE_CHARS = 500;

/**
 * The log of one environment build, as lines: from the engine's build stream and the devcontainer
 * CLI's output, which arrive in chunks cut anywhere. Every line goes to each listener as it
 * comes (a second session asking for the same image joins the build under way and hears the
 * rest), and the last ones are kept for the failure's message.
 */
export class BuildLog {
  private listeners = new Set<(line: string) => void>();
  private kept: string[] = [];

  listen(listener: (line: string) => void): void {
    this.listeners.add(listener);
  }

  /**
   * A writer for one stream of output (each stream its own, so two at once never splice their
   * lines): a chunk's whole lines are said now, the rest when its line ends or the stream does.
   * `clean` is applied to each line first.
   */
  stream(clean: (line: string) => string = (line) => line): { write(chunk: string): void; end(): void } {
    let partial = "";
    return {
      write: (chunk) => {
        const lines = (partial + chunk).split(/\r?\n|\r/);
        partial = lines.pop() ?? "";
        for (const line of lines) this.line(clean(line));
      },
      end: () => {
        if (partial) this.line(clean(partial));
        partial = "";
      },
    };
  }

  line(text: string): void {
    const line = text.trimEnd().slice(0, MAX_LINE_CHARS);
    if (!line) return;
    this.kept.push(line);
    if (this.kept.length > TAIL_LINES) this.kept.shift();
    for (const listener of this.listeners) listener(line);
  }

  tail(): string {
    return this.kept.join("\n");
  }
}
