/**
 * Finds the terminal bell (BEL, 0x07) in a shell's output as a terminal would ring it: not the
 * BEL that ends an operating system command (`ESC ] … BEL`, which shells print in every prompt to
 * set the window title), nor one inside another control string (DCS, APC, PM, SOS), which end
 * with ST (`ESC \`). It keeps its place between chunks, so a sequence split across two reads is
 * still read as one.
 */
const ESC = 0x1b;
const BEL = 0x07;

type State = "text" | "escape" | "osc" | "oscEscape" | "string" | "stringEscape";

/** Past this many bytes a control string is taken as broken, as terminals do, so bells ring again. */
const MAX_STRING = 4096;

export class BellDetector {
  private state: State = "text";
  private inString = 0;

  /** Whether this chunk rings the bell at least once. */
  feed(bytes: Uint8Array): boolean {
    let rang = false;
    // Plain text is skipped to the next ESC or BEL (found natively, each search resumed only once
    // passed), since output can be megabytes a second; only escapes are read byte by byte.
    let nextEsc = -2;
    let nextBel = -2;
    for (let i = 0; i < bytes.length; ) {
      if (this.state === "text") {
        if (nextEsc !== -1 && nextEsc < i) nextEsc = bytes.indexOf(ESC, i);
        if (nextBel !== -1 && nextBel < i) nextBel = bytes.indexOf(BEL, i);
        const next = nextEsc === -1 ? nextBel : nextBel === -1 ? nextEsc : Math.min(nextEsc, nextBel);
        if (next === -1) break;
        i = next;
      }
      const byte = bytes[i++]!;
      if (this.state !== "text" && this.state !== "escape" && ++this.inString > MAX_STRING) this.state = "text";
      if (this.state === "text" || this.state === "escape") this.inString = 0;
      switch (this.state) {
        case "text":
          if (byte === BEL) rang = true;
          else if (byte === ESC) this.state = "escape";
          break;
        case "escape":
          // ESC ] starts an OSC; ESC P, X, ^ and _ start the strings that end only with ST.
          this.state = byte === 0x5d ? "osc" : byte === 0x50 || byte === 0x58 || byte === 0x5e || byte === 0x5f ? "string" : byte === ESC ? "escape" : "text";
          break;
        case "osc":
          if (byte === BEL) this.state = "text";
          else if (byte === ESC) this.state = "oscEscape";
          break;
        case "oscEscape":
          this.state = byte === 0x5c ? "text" : byte === ESC ? "oscEscape" : "osc";
          break;
        case "string":
          if (byte === ESC) this.state = "stringEscape";
          break;
        case "stringEscape":
          this.state = byte === 0x5c ? "text" : byte === ESC ? "stringEscape" : "string";
          break;
      }
    }
    return rang;
  }
}
