/**
 * Every event Pier publishes, by name, with its payload. Each domain module declares its own
 * next to the code that publishes them:
 *
 *   declare module "../infra/events.ts" {
 *     interface PierEvents { "session.state": { … } }
 *   }
 *
 * so this file knows no domain, and a subscriber gets the payload's type from the name.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the domain modules.
export interface PierEvents {}

export type EventName = keyof PierEvents;
/** Gets the payload and the topic it was published under (what a listener of every topic needs). */
type Listener<K extends EventName> = (payload: PierEvents[K], topic: string) => void;

/** Listeners of every topic of an event. */
const ALL = "*";

/**
 * A small typed publish/subscribe bus, in one process. Domain modules publish after they have
 * written (the database is the truth; an event says it changed); sockets, server-sent events and
 * pages subscribe. An event has a topic, usually the session it is about, so a listener for one
 * session is not called for every other. Listeners run in order, synchronously; one that throws
 * is reported and the others still run.
 */
export class EventBus {
  private listeners = new Map<string, Set<(payload: never, topic: string) => void>>();

  publish<K extends EventName>(name: K, topic: string, payload: PierEvents[K]): void {
    for (const key of [`${name}\0${topic}`, `${name}\0${ALL}`]) {
      for (const listener of [...(this.listeners.get(key) ?? [])]) {
        try {
          (listener as Listener<K>)(payload, topic);
        } catch (error) {
          console.error(`[pier] a listener of ${name} failed:`, error instanceof Error ? error.message : error);
        }
      }
    }
  }

  /** Listens to one topic of an event (or, with null, to every topic); returns what stops it. */
  subscribe<K extends EventName>(name: K, topic: string | null, listener: Listener<K>): () => void {
    const key = `${name}\0${topic ?? ALL}`;
    const set = this.listeners.get(key) ?? new Set();
    set.add(listener as (payload: never, topic: string) => void);
    this.listeners.set(key, set);
    return () => {
      set.delete(listener as (payload: never, topic: string) => void);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }
}
