/**
 * What the fakes of model APIs (fake-openai.ts, fake-gemini.ts) share to stream an answer as
 * their service does: a text cut so its streaming shows, and a body written chunk by chunk.
 */

/** Cuts a text in at least three pieces, on code points, so streaming is observable. */
export function pieces(text: string): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / 3));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}

/**
 * A response body of `chunks`, written in order with `delayMs` between them; each is told to
 * `sent` as it goes. It stops when the client has gone. `heldUntil`: the stream stops after its
 * first chunk until then (a model still answering, for an interrupt).
 */
export function streamedBody(chunks: string[], options: { delayMs: number; sent: (text: string) => void; clientGone: AbortSignal; heldUntil?: Promise<unknown> }): ReadableStream<Uint8Array> {
  const { delayMs, sent, clientGone, heldUntil } = options;
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const [index, chunk] of chunks.entries()) {
        if (index === 1 && heldUntil) await Promise.race([heldUntil, new Promise((resolve) => clientGone.addEventListener("abort", resolve, { once: true }))]);
        if (clientGone.aborted) return;
        sent(chunk);
        controller.enqueue(encoder.encode(chunk));
        if (delayMs > 0) await Bun.sleep(delayMs);
      }
      controller.close();
    },
  });
}
