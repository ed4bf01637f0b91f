/**
 * Splits a Docker exec stream without a TTY into its stdout and stderr: each frame is an 8-byte
 * header (stream 1 or 2, three zero bytes, the payload's length as a big-endian uint32), then the
 * payload. Payloads are handed on as views into the chunks that carried them (copied only when a
 * payload spans chunks), synchronously: a terminal's output is megabytes a second through here,
 * and dockerode's demuxStream copies every frame and passes it through a stream first.
 */
export class ExecFrames {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private out: (stream: 1 | 2, payload: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    let data = chunk;
    if (this.pendingBytes) {
      // A frame arriving in many pieces is joined once, when it is whole.
      const head = this.pending[0]!;
      if (head.length >= 8 && this.pendingBytes + chunk.length < 8 + frameSize(head, 0)) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        return;
      }
      data = new Uint8Array(Bun.concatArrayBuffers([...this.pending, chunk]));
      this.pending = [];
      this.pendingBytes = 0;
    }
    let at = 0;
    while (data.length - at >= 8) {
      const size = frameSize(data, at);
      if (data.length - at - 8 < size) break;
      const stream = data[at] === 2 ? 2 : 1;
      if (size) this.out(stream, data.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    if (at < data.length) {
      const rest = data.subarray(at);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }
}

function frameSize(data: Uint8Array, at: number): number {
  return ((data[at + 4]! << 24) >>> 0) + (data[at + 5]! << 16) + (data[at + 6]! << 8) + data[at + 7]!;
}
