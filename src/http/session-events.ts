import type { Pier } from "../pier.ts";
import type { SessionEvent } from "../sessions/host.ts";

/**
 * Server-sent events for one session: provisioning progress, then the state it settles in.
 * A session that is already settled gets its state at once.
 */
export function sessionEventStream(pier: Pier, sessionId: string, abort: AbortSignal): Response {
  const encoder = new TextEncoder();
  let unsubscribe = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: SessionEvent) => {
        try {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(event)}\n\n`));
        } catch {
          unsubscribe();
        }
      };
      // What the live session's host has seen so far; without a host, the session settled long
      // ago (or before a restart): say how it stands. Then live events, with nothing in between.
      const host = pier.hosts.get(sessionId);
      if (host) for (const event of host.snapshot()) send(event);
      else {
        const session = pier.sessions.get(sessionId);
        if (session.state !== "provisioning") send({ type: "state", state: session.state, error: session.error ?? undefined });
      }
      const stops = [
        pier.bus.subscribe("session.progress", sessionId, (step) => send({ type: "progress", ...step })),
        pier.bus.subscribe("session.state", sessionId, ({ state, error }) => send({ type: "state", state, ...(error ? { error } : {}) })),
      ];
      unsubscribe = () => {
        for (const stop of stops) stop();
      };
      abort.addEventListener("abort", () => {
        unsubscribe();
        try {
          controller.close();
        } catch {}
      });
    },
    cancel() {
      unsubscribe();
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}
