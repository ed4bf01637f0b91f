import { readFileSync } from "node:fs";

/**
 * POSTs a large body over a raw socket, written piece by piece from one reused buffer (so the
 * test process's memory does not grow with the body), until it is all sent or the server answers.
 * `declareLength` sends Content-Length; otherwise the body goes chunked, with no length given.
 * Returns the answer and how many bytes of the request went out before it came.
 */
export async function postLargeBody(
  base: string,
  path: string,
  options: { bytes: number; declareLength: boolean; contentType?: string },
): Promise<{ status: number; headers: string; body: string; sentBytes: number }> {
  const url = new URL(base);
  const piece = Buffer.alloc(64 * 1024, "a");
  const unit = options.declareLength
    ? piece
    : Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${url.host}`,
    `Content-Type: ${options.contentType ?? "application/json"}`,
    options.declareLength ? `Content-Length: ${options.bytes}` : "Transfer-Encoding: chunked",
    "",
    "",
  ].join("\r\n");
  const tail = options.declareLength ? "" : "0\r\n\r\n";

  return new Promise((resolve, reject) => {
    let unitsLeft = Math.ceil(options.bytes / piece.length);
    let offset = 0;
    let sentBytes = 0;
    let received = "";
    let done = false;

    const answer = (): { status: number; headers: string; body: string } | null => {
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return null;
      const headers = received.slice(0, end);
      const body = received.slice(end + 4);
      const length = Number(headers.match(/content-length: (\d+)/i)?.[1] ?? 0);
      if (Buffer.byteLength(body) < length) return null;
      return { status: Number(headers.match(/^HTTP\/1\.1 (\d{3})/)?.[1]), headers, body };
    };
    const finish = (socket: { end(): void }) => {
      const got = answer();
      if (done || !got) return;
      done = true;
      socket.end();
      resolve({ ...got, sentBytes });
    };
    const pump = (socket: { write(data: Buffer | string, offset?: number, length?: number): number }) => {
      while (!done && unitsLeft > 0) {
        const wrote = socket.write(unit, offset, unit.length - offset);
        if (wrote <= 0) return;
        offset += wrote;
        sentBytes += wrote;
        if (offset === unit.length) {
          offset = 0;
          unitsLeft--;
        }
      }
      if (!done && unitsLeft === 0 && tail) socket.write(tail);
    };

    void Bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      socket: {
        open(socket) {
          socket.write(head);
          pump(socket);
        },
        drain: pump,
        data(socket, data) {
          received += data.toString();
          finish(socket);
        },
        close(socket) {
          finish(socket);
          if (!done) reject(new Error(`the server closed the connection without a full answer: ${JSON.stringify(received.slice(0, 200))}`));
        },
        error(_socket, error) {
          if (!done) reject(error);
        },
      },
    }).catch(reject);
  });
}

/** This process's resident memory in MiB (the test Pier runs in the test's own process). */
export function residentMiB(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
}
