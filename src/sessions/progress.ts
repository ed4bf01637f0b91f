import type { ProgressEvent } from "../runtime/runtime.ts";

/** What the session page hears while a session is being provisioned. */
export type SessionEvent = ({ type: "progress" } & ProgressEvent) | { type: "state"; state: "active" | "failed" | "ended"; error?: string };

type Listener = (event: SessionEvent) => void;

/**
 * A small in-memory publish/subscribe per session. Late subscribers first get the last event,
 * so a page opened mid-way shows where provisioning is.
 */
export class ProgressHub {
  private listeners = new Map<string, Set<Listener>>();
  private latest = new Map<string, SessionEvent>();

  publish(sessionId: string, event: SessionEvent): void {
    this.latest.set(sessionId, event);
    for (const listener of this.listeners.get(sessionId) ?? []) listener(event);
    if (event.type === "state") this.latest.delete(sessionId);
  }

  subscribe(sessionId: string, listener: Listener): () => void {
    const set = this.listeners.get(sessionId) ?? new Set();
    set.add(listener);
    this.listeners.set(sessionId, set);
    const last = this.latest.get(sessionId);
    if (last) listener(last);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
    };
  }
}
