/**
 * A server-sent events response. `start` gets what sends one event (as JSON) and returns what
 * stops each of its subscriptions; they all stop when the client goes away or a send fails.
 * Bun sends the headers with the first bytes, and a browser's EventSource opens only then, so a
 * stream should start by saying how things stand.
 */
export function eventStream<E>(abort: AbortSignal, start: (send: (event: E) => void) => Array<() => void>): Response {
  const encoder = new TextEncoder();
  let stops: Array<() => void> = [];
  const unsubscribe = () => {
    for (const stop of stops) stop();
    stops = [];
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (event: E) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(event)}\n\n`));
        } catch {
          open = false;
          unsubscribe();
        }
      };
      stops = start(send);
      if (!open) unsubscribe();
      const close = () => {
        open = false;
        unsubscribe();
        try {
          controller.close();
        } catch {}
      };
      if (abort.aborted) close();
      else abort.addEventListener("abort", close);
    },
    cancel() {
      unsubscribe();
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}
