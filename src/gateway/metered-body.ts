import type { UsageReader } from "./usage-reader.ts";

/**
 * How much more of an answer is read once its client has gone, and for how long. The final usage
 * (message_delta, response.completed) comes after the last content, so a client that leaves as
 * soon as it has its content would otherwise leave the answer paid for but recorded as nearly
 * free. Past these bounds the answer is let go and what was seen of it is recorded.
 */
export const DRAIN_MAX_BYTES = 1024 * 1024;
export const DRAIN_MAX_MS = 20_000;

/**
 * The bound for an answer to a request of `requestBytes`: an answer may repeat its request (the
 * Responses API's last event repeats the instructions, each character escaped in at most six
 * bytes), so a client that left before that event cannot push it past the bound by asking with
 * long instructions.
 */
export function drainBoundFor(requestBytes: number): number {
  return DRAIN_MAX_BYTES + 6 * requestBytes;
}

/**
 * An answer's body as it goes back to the client: each chunk goes on as it is read (nothing read
 * ahead of the client), `usage` sees every chunk (and `progress` is told after each), and `metered`
 * is called once with what it saw, at the answer's end or where it broke off. A client that goes away does not end the reading:
 * the rest is read within `drainMaxBytes` and DRAIN_MAX_MS, so its final counts are recorded too.
 */
export function meteredBody(
  upstream: ReadableStream<Uint8Array>,
  usage: UsageReader | null,
  metered: (usage: UsageReader) => void,
  progress: (usage: UsageReader) => void = () => {},
  drainMaxBytes = DRAIN_MAX_BYTES,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    if (usage) metered(usage);
  };
  // Set when the client has gone: from then on the drain owns the reading and the metering.
  let gone = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let read: Awaited<ReturnType<typeof reader.read>>;
        try {
          read = await reader.read();
        } catch (error) {
          if (gone) return;
          finish();
          controller.error(error);
          return;
        }
        // A read under way as the client left still counts; the drain's reads come after it.
        if (!read.done && usage) {
          usage.push(read.value);
          progress(usage);
        }
        if (gone) return;
        if (read.done) {
          finish();
          controller.close();
        } else controller.enqueue(read.value);
      },
      cancel(reason) {
        gone = true;
        // Not awaited: the client is gone, and nothing waits for the rest but the ledger.
        void (usage ? drain(reader, usage, progress, drainMaxBytes) : Promise.resolve()).finally(() => {
          finish();
          reader.cancel(reason).catch(() => {});
        });
      },
    },
    // Nothing is read ahead of the client: each chunk goes on as it is read.
    { highWaterMark: 0 },
  );
}

/** Reads what is left of the answer into `usage` alone, within the bounds; a failed read just ends it. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, usage: UsageReader, progress: (usage: UsageReader) => void, maxBytes: number): Promise<void> {
  const timer = setTimeout(() => void reader.cancel().catch(() => {}), DRAIN_MAX_MS);
  try {
    let bytes = 0;
    while (bytes <= maxBytes) {
      const read = await reader.read();
      if (read.done) return;
      usage.push(read.value);
      progress(usage);
      bytes += read.value.byteLength;
    }
  } catch {
    // Cut off (the time bound, or the API went away): what was seen is what is recorded.
  } finally {
    clearTimeout(timer);
  }
}
