import type { Pier } from "../pier.ts";
import type { SessionEvent } from "../sessions/progress.ts";

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
      if (!pier.progress.hasRun(sessionId)) {
        // Settled long ago (or before a restart): say how it stands.
        const session = pier.sessions.get(sessionId);
        if (session.state !== "provisioning") send({ type: "state", state: session.state, error: session.error ?? undefined });
      }
      unsubscribe = pier.progress.subscribe(sessionId, send);
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
