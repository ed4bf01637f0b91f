import type { Admitted } from "./preview-access.ts";

/**
 * The preview exchanges open now (a request under way, an event stream, a WebSocket), each filed
 * under the keys that end it: the sign-in, the share or the session it was admitted for. A request
 * is admitted once, at its start, so a long one (an event stream, a hot-reload socket) would
 * outlive a sign-out, a revoked share or an ended session; cutting off a key closes them at once.
 * The keys are the access rules' own strings (Admitted.closeKeys); this only files them.
 */
export class OpenPreviews {
  private open = new Map<string, Set<() => void>>();

  /** Files `close` under the admission's keys until it is called or the returned function forgets it (see HoldOpen). */
  holdOpen(admitted: Admitted, close: () => void): () => void {
    const keys = admitted.closeKeys;
    const forget = () => {
      for (const key of keys) {
        const set = this.open.get(key);
        set?.delete(once);
        if (set?.size === 0) this.open.delete(key);
      }
    };
    const once = () => {
      forget();
      close();
    };
    for (const key of keys) {
      const set = this.open.get(key) ?? new Set();
      set.add(once);
      this.open.set(key, set);
    }
    return forget;
  }

  /** Closes every exchange filed under `key`; how many there were. */
  cutOff(key: string): number {
    const closers = [...(this.open.get(key) ?? [])];
    for (const close of closers) close();
    return closers.length;
  }
}
