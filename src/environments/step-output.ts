import type { Progress, ProgressEvent } from "../runtime/runtime.ts";
import { forPerson } from "../workspaces/pod-script.ts";
import type { LifecycleName } from "./environment.ts";

/** The lines the session page shows under the step while a command runs. */
const LIVE_LINES = 12;
/** How often the page hears them while a command prints. */
const EVERY_MS = 250;

/**
 * A long command's progress as the session page shows it (the environment's image build, its
 * lifecycle commands): what runs, and its latest lines, made fit to show (what a repository's
 * build or a pod prints is its own: escapes and token-shaped text go), at most a few times a
 * second however fast the command prints.
 */
export class StepOutput {
  private lines: string[] = [];
  private last = 0;

  constructor(
    private progress: Progress,
    private step: ProgressEvent["step"] = "environment",
    private heading = "Running the environment's commands…",
  ) {}

  /** A lifecycle step begins: its lines start afresh. */
  begin(name: LifecycleName): void {
    this.heading = `Running ${name}…`;
    this.lines = [];
    this.report();
  }

  /** The running command's latest lines, already made fit to show (a lifecycle command's). */
  show(lines: string[]): void {
    this.lines = lines.slice(-LIVE_LINES);
    this.report();
  }

  /** One more line of output as it came (the image build's log). */
  line(text: string): void {
    const shown = forPerson(text);
    if (!shown) return;
    this.lines.push(shown);
    if (this.lines.length > LIVE_LINES) this.lines.shift();
    if (Date.now() - this.last >= EVERY_MS) this.report();
  }

  done(message = "The environment's commands are done."): void {
    this.progress({ step: this.step, message, fraction: 1, lines: this.lines });
  }

  private report(): void {
    this.last = Date.now();
    this.progress({ step: this.step, message: this.heading, lines: [...this.lines] });
  }
}
