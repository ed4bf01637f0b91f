/** Where one event's data goes as it arrives, in pieces (its `data:` lines joined by "\n", as SSE joins them). */
export interface SseData {
  write(piece: string): void;
}

/** Longest field name looked for at a line's start; a line whose name is longer is no field the gateway reads. */
const MAX_FIELD_NAME = 16;
/** Longest `event:` line kept; event names are short, and a longer line is skipped. */
const MAX_EVENT_LINE = 1024;

/**
 * A server-sent event stream read as its bytes pass through the gateway, cut anywhere (even inside
 * a UTF-8 character or between \r and \n): each event's data goes, piece by piece as it arrives,
 * to where `dataOf` sends it, or nowhere. Nothing of a data line is held, however long it is, so
 * an event is as cheap to skip as it is long; only a line's first few characters and an `event:`
 * line are kept while they come.
 */
export abstract class SseReader {
  private decoder = new TextDecoder();
  /** The last text ended with \r: a \n first in the next is the same line end. */
  private afterCr = false;
  /** The start of the line under way, until it is known what line it is. */
  private head = "";
  private line: "unknown" | "data" | "event" | "skip" = "unknown";
  /** A data line's value may start with one space, which is not part of it. */
  private spaceTaken = false;
  private event = "";
  private data: SseData | null | undefined = undefined;
  /** Whether this event has had a data line already (the next is joined to it by "\n"). */
  private hadData = false;

  /** Where an event's data goes: asked at its first data line (with its `event:` name, "" when it has none). */
  protected abstract dataOf(event: string): SseData | null;

  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended or was cut off: what is left undecoded is read. */
  protected flush(): void {
    this.feed(this.decoder.decode());
  }

  private feed(text: string): void {
    let start = this.afterCr && text.startsWith("\n") ? 1 : 0;
    if (text !== "") this.afterCr = text.endsWith("\r");
    for (;;) {
      const end = nextLineEnd(text, start);
      this.take(text.slice(start, end === -1 ? undefined : end));
      if (end === -1) return;
      this.endLine();
      // \r\n is one line end; a \r alone is one too (SSE allows all three).
      start = text[end] === "\r" && text[end + 1] === "\n" ? end + 2 : end + 1;
    }
  }

  /** A piece of the line under way. */
  private take(piece: string): void {
    if (piece === "") return;
    if (this.line === "unknown") {
      this.head += piece;
      const colon = this.head.indexOf(":");
      if (colon === -1) {
        if (this.head.length > MAX_FIELD_NAME) this.skipLine();
        return;
      }
      const name = this.head.slice(0, colon);
      const rest = this.head.slice(colon + 1);
      this.head = "";
      if (name === "data") {
        this.line = "data";
        this.startData();
        this.takeData(rest);
      } else if (name === "event") {
        this.line = "event";
        this.head = rest;
      } else this.skipLine();
      return;
    }
    if (this.line === "data") this.takeData(piece);
    else if (this.line === "event") {
      this.head += piece;
      if (this.head.length > MAX_EVENT_LINE) this.skipLine();
    }
  }

  private startData(): void {
    if (this.data === undefined) this.data = this.dataOf(this.event);
    else if (this.hadData) this.data?.write("\n");
    this.hadData = true;
    this.spaceTaken = false;
  }

  private takeData(piece: string): void {
    if (piece === "") return;
    if (!this.spaceTaken) {
      this.spaceTaken = true;
      if (piece.startsWith(" ")) piece = piece.slice(1);
    }
    if (piece !== "") this.data?.write(piece);
  }

  private skipLine(): void {
    this.line = "skip";
    this.head = "";
  }

  private endLine(): void {
    const blank = this.line === "unknown" && this.head === "";
    if (this.line === "event") this.event = this.head.trim();
    else if (this.line === "unknown" && this.head === "data") this.startData();
    this.line = "unknown";
    this.head = "";
    if (blank) this.dispatch();
  }

  /** A blank line: the event is over, and the next starts afresh. */
  private dispatch(): void {
    this.event = "";
    this.data = undefined;
    this.hadData = false;
  }
}

function nextLineEnd(text: string, from: number): number {
  const lf = text.indexOf("\n", from);
  const cr = text.indexOf("\r", from);
  if (cr === -1) return lf;
  if (lf === -1) return cr;
  return Math.min(cr, lf);
}
