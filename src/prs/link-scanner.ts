import { stripAnsi } from "../terminal/ansi.ts";

/** How much of what came before a chunk is kept, for a link cut in two by the chunk boundary. */
const TAIL = 512;

/**
 * Finds the pull request links of one repo in a stream of text that arrives in pieces (terminal
 * output, chat messages): across piece boundaries, around and inside ANSI sequences (a link
 * printed as an OSC 8 hyperlink too), each number reported once (a number whose report is
 * refused, `found` returning false, is reported again when it comes again).
 */
export class LinkScanner {
  private tail = "";
  private seen = new Set<number>();

  constructor(
    private pattern: RegExp,
    private found: (number: number) => boolean,
  ) {}

  feed(text: string): void {
    const joined = this.tail + text;
    for (const candidate of [joined, stripAnsi(joined)]) {
      for (const match of candidate.matchAll(this.pattern)) {
        const number = Number(match[1]);
        if (this.seen.has(number)) continue;
        if (this.found(number)) this.seen.add(number);
      }
    }
    this.tail = joined.slice(-TAIL);
  }
}
