import type { ProgressEvent } from "../runtime/runtime.ts";

/** What the session page hears while a session is being provisioned. */
export type SessionEvent = ({ type: "progress" } & ProgressEvent) | { type: "state"; state: "active" | "failed" | "ended"; error?: string };

type Listener = (event: SessionEvent) => void;

/** How long a finished run's events stay for late subscribers. */
const KEEP_AFTER_SETTLED_MS = 60_000;

/**
 * A small in-memory publish/subscribe per session. Each provisioning run keeps the latest event
 * of every step (and how it settled), and a late subscriber gets those first, so a page opened
 * mid-way, or just after the end, shows every step.
 */
export class ProgressHub {
  private listeners = new Map<string, Set<Listener>>();
  private runs = new Map<string, { steps: Map<string, SessionEvent>; settled?: SessionEvent }>();

  /** Starts a new run for the session, forgetting the previous one's events. */
  begin(sessionId: string): void {
    this.runs.set(sessionId, { steps: new Map() });
  }

  publish(sessionId: string, event: SessionEvent): void {
    const run = this.runs.get(sessionId);
    if (run && event.type === "progress") run.steps.set(event.step, event);
    if (run && event.type === "state") {
      run.settled = event;
      setTimeout(() => {
        if (this.runs.get(sessionId) === run) this.runs.delete(sessionId);
      }, KEEP_AFTER_SETTLED_MS).unref();
    }
    for (const listener of this.listeners.get(sessionId) ?? []) listener(event);
  }

  /** Replays the current run so far, then passes on new events until unsubscribed. */
  subscribe(sessionId: string, listener: Listener): () => void {
    const set = this.listeners.get(sessionId) ?? new Set();
    set.add(listener);
    this.listeners.set(sessionId, set);
    const run = this.runs.get(sessionId);
    for (const event of run?.steps.values() ?? []) listener(event);
    if (run?.settled) listener(run.settled);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Whether the hub still holds the session's latest run (so it can replay it). */
  hasRun(sessionId: string): boolean {
    return this.runs.has(sessionId);
  }
}
