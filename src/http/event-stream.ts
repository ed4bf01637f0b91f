import type { EventBus } from "../infra/events.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** Pier is stopping to restart: open pages are told, and their connections close. */
    "pier.restarting": Record<string, never>;
  }
}

/** What an event stream's last event says when Pier stops (an `event: restarting`, which EventSource's onmessage skips). */
const RESTARTING_EVENT = `event: restarting\ndata: ${JSON.stringify({ message: "Pier is restarting; this page reconnects by itself." })}\n\n`;

/**
 * A server-sent events response. `start` gets what sends one event (as JSON) and returns what
 * stops each of its subscriptions; they all stop when the client goes away or a send fails.
 * Bun sends the headers with the first bytes, and a browser's EventSource opens only then, so a
 * stream should start by saying how things stand. When Pier stops to restart, the stream says so
 * and ends; the browser's EventSource connects again by itself.
 */
export function eventStream<E>(bus: EventBus, abort: AbortSignal, start: (send: (event: E) => void) => Array<() => void>): Response {
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
      const close = () => {
        open = false;
        unsubscribe();
        try {
          controller.close();
        } catch {}
      };
      stops = start(send);
      if (!open) unsubscribe();
      else {
        stops.push(
          bus.subscribe("pier.restarting", null, () => {
            try {
              controller.enqueue(encoder.encode(RESTARTING_EVENT));
            } catch {}
            close();
          }),
        );
      }
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
