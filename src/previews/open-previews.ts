/**
 * The preview exchanges open now (a request under way, an SSE stream, a WebSocket), each filed
 * under the keys that end it: the sign-in, the share or the session it was admitted for. A request
 * is admitted once, at its start, so a long one (an event stream, a hot-reload socket) would
 * outlive a sign-out, a revoked share or an ended session; cutting off a key closes them at once.
 * The keys are the access rules' own strings (Admitted.closeKeys); this only files them.
 */
export class OpenPreviews {
  private open = new Map<string, Set<() => void>>();
  private all = new Set<() => void>();

  /** Files `close` under each key; the returned function takes it out again (when the exchange ends by itself). */
  add(keys: readonly string[], close: () => void): () => void {
    this.all.add(close);
    for (const key of keys) {
      const set = this.open.get(key) ?? new Set();
      set.add(close);
      this.open.set(key, set);
    }
    return () => {
      this.all.delete(close);
      for (const key of keys) {
        const set = this.open.get(key);
        set?.delete(close);
        if (set?.size === 0) this.open.delete(key);
      }
    };
  }

  /** Closes every exchange filed under `key`; how many there were. */
  cutOff(key: string): number {
    const set = this.open.get(key);
    this.open.delete(key);
    for (const close of set ?? []) close();
    return set?.size ?? 0;
  }

  /** Closes every exchange (Pier is stopping). */
  closeAll(): void {
    const all = [...this.all];
    this.all.clear();
    this.open.clear();
    for (const close of all) close();
  }
}
