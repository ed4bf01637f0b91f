/**
 * A request body read whole, as long as it stays within `limit` bytes: null as soon as it passes
 * it (the rest is cancelled, never read). Bodies without a declared length (chunked) can only be
 * bounded this way; a declared length is checked by each caller before it reads anything.
 */
export async function readAtMost(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return new Uint8Array(Bun.concatArrayBuffers(chunks));
}

/**
 * A request's body, as long as it stays within `limit` bytes: null when it declares itself longer
 * (refused before any of it is read) or turns out longer. A request without a body gives none.
 */
export async function readBodyAtMost(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  if (Number(request.headers.get("content-length") ?? 0) > limit) return null;
  return request.body ? readAtMost(request.body, limit) : new Uint8Array(0);
}
