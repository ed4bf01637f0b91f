/**
 * Slows password guessing: after MAX_FAILURES failed sign-ins for one username, or from one
 * address, within WINDOW_MS, further attempts are refused until the window has passed.
 * Kept in memory: a restart forgives, which is acceptable for a single-process server.
 */
const WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES_PER_USER = 5;
const MAX_FAILURES_PER_ADDRESS = 20;

export class LoginLimiter {
  private failures = new Map<string, number[]>();

  /** Seconds until another attempt is allowed, or 0 when it is allowed now. */
  retryAfter(username: string, address: string, now = Date.now()): number {
    const waits = [
      this.wait(`u:${username.toLowerCase()}`, MAX_FAILURES_PER_USER, now),
      this.wait(`a:${address}`, MAX_FAILURES_PER_ADDRESS, now),
    ];
    return Math.max(...waits);
  }

  recordFailure(username: string, address: string, now = Date.now()): void {
    for (const key of [`u:${username.toLowerCase()}`, `a:${address}`]) {
      const recent = this.recent(key, now);
      recent.push(now);
      this.failures.set(key, recent);
    }
  }

  recordSuccess(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }

  private wait(key: string, max: number, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < max) return 0;
    const oldest = recent[recent.length - max]!;
    return Math.ceil((oldest + WINDOW_MS - now) / 1000);
  }

  private recent(key: string, now: number): number[] {
    const kept = (this.failures.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    if (kept.length === 0) this.failures.delete(key);
    return kept;
  }
}
