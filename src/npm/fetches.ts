/** Where one fetch stands: under way (with how far, 0..1, when that is known), or failed (with why, and when). */
export type FetchState = { state: "fetching"; fraction: number | null } | { state: "failed"; error: string; at: number };

export interface FetchesOptions {
  /** A failed fetch is tried again when asked for after this long (sooner, the failure stands). */
  retryAfterMs?: number;
  /** Told every change: started, further along, done (null), failed. */
  onChange?: (key: string, state: FetchState | null) => void;
}

const RETRY_AFTER_MS = 60_000;

/**
 * The bookkeeping of Pier's downloads from the npm registry (Claude Code's builds, agents' packages),
 * each named by a key: one fetch per key at a time, shared by everyone who asks meanwhile, with its
 * progress kept for pages; a failure remembered as a sentence and tried again when next needed, a
 * little later, so an offline Pier does not hammer the registry.
 */
export class Fetches {
  private running = new Map<string, Promise<string>>();
  private failures = new Map<string, FetchState & { state: "failed" }>();
  private progress = new Map<string, number | null>();

  constructor(private options: FetchesOptions = {}) {}

  /** The fetch under way or the failure standing for the key; null when neither (never asked, or done). */
  state(key: string): FetchState | null {
    if (this.running.has(key)) return { state: "fetching", fraction: this.progress.get(key) ?? null };
    return this.failures.get(key) ?? null;
  }

  /**
   * The fetch's result: the one under way for the key if there is one, else `work` started now,
   * unless it failed a moment ago (then that failure again). `failed` turns a failure's reason
   * into the sentence that stands for it.
   */
  run(key: string, work: (progress: (fraction: number | null) => void) => Promise<string>, failed: (reason: string) => string): Promise<string> {
    const running = this.running.get(key);
    if (running) return running;
    const failure = this.failures.get(key);
    if (failure && Date.now() - failure.at < (this.options.retryAfterMs ?? RETRY_AFTER_MS)) return Promise.reject(new Error(failure.error));
    this.failures.delete(key);
    const attempt = this.attempt(key, work, failed).finally(() => {
      this.running.delete(key);
      this.progress.delete(key);
    });
    this.running.set(key, attempt);
    this.options.onChange?.(key, { state: "fetching", fraction: null });
    return attempt;
  }

  private async attempt(key: string, work: (progress: (fraction: number | null) => void) => Promise<string>, failed: (reason: string) => string): Promise<string> {
    try {
      const result = await work((fraction) => {
        this.progress.set(key, fraction);
        this.options.onChange?.(key, { state: "fetching", fraction });
      });
      this.options.onChange?.(key, null);
      return result;
    } catch (error) {
      const failure = { state: "failed" as const, error: failed(error instanceof Error ? error.message : String(error)), at: Date.now() };
      this.failures.set(key, failure);
      this.options.onChange?.(key, failure);
      throw new Error(failure.error);
    }
  }
}

/** Told how far in bytes, as a fraction when the total is known. */
export function byteFraction(received: number, total: number | null): number | null {
  return total ? received / total : null;
}
