/**
 * A mark written into a pane's terminal (an OSC sequence no terminal acts on, with a fresh random
 * id), so that two streams carrying the pane's output (the raw pipe and control mode) can be lined
 * up at the same byte. Pier takes it out of both before anyone sees or records them.
 */
export function newMarker(): { id: string; bytes: Uint8Array } {
  const id = `pier-sync-${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("hex")}`;
  return { id, bytes: new TextEncoder().encode(`\x1b]7777;${id}\x07`) };
}

/** The shell command that writes the marker into the pane's terminal ($1 the id, $2 the pane's tty). */
export const WRITE_MARKER = `printf '\\033]7777;%s\\007' "$1" > "$2"`;

/**
 * Finds the marker in a stream that arrives in chunks. Until it is found, the last bytes of each
 * chunk that could be the start of it are held back, so no part of it is ever passed on.
 */
export class MarkerScanner {
  private carry = new Uint8Array(0);
  found = false;

  constructor(private marker: Uint8Array) {}

  /** The bytes before the marker (safe to pass on now), and, once it is found, those after it. */
  push(chunk: Uint8Array): { before: Uint8Array; after: Uint8Array | null } {
    if (this.found) return { before: new Uint8Array(0), after: chunk };
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const at = data.indexOf(this.marker);
    if (at !== -1) {
      this.found = true;
      this.carry = new Uint8Array(0);
      return { before: data.subarray(0, at), after: data.subarray(at + this.marker.length) };
    }
    const keep = Math.min(data.length, this.marker.length - 1);
    this.carry = data.slice(data.length - keep);
    return { before: data.subarray(0, data.length - keep), after: null };
  }

  /** What is held back (when giving up on the marker). */
  rest(): Uint8Array {
    const rest = this.carry;
    this.carry = new Uint8Array(0);
    return rest;
  }
}
