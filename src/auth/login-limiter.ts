/**
 * Slows password guessing: at most MAX_PER_USER failed sign-ins for one username, and
 * MAX_PER_ADDRESS from one address, within WINDOW_MS; further attempts are refused until the
 * window has passed.
 *
 * Checking a password takes a noticeable moment (argon2id), so many guesses can arrive while
 * earlier ones are still being checked. Each attempt therefore takes its place under both limits
 * *before* the check (`begin`), counted as a failure until it turns out otherwise: a wrong
 * password keeps the place, a right one gives it back. Kept in memory: a restart forgives, which
 * is acceptable for a single-process server.
 */
const WINDOW_MS = 15 * 60 * 1000;
const MAX_PER_USER = 5;
const MAX_PER_ADDRESS = 20;

/** One sign-in attempt holding its place under the limits while its password is checked. */
export interface LoginAttempt {
  /** Wrong credentials: the attempt stays counted for the window. */
  failed(): void;
  /** Right credentials: the username's failures are forgiven and the address gets its place back. */
  succeeded(): void;
  /** The check itself broke (not the person's doing): the attempt is not counted. */
  abandoned(): void;
}

type Place = { at: number };

export class LoginLimiter {
  private places = new Map<string, Place[]>();

  /** Takes a place for one attempt, or says how many seconds to wait before trying again. */
  begin(username: string, address: string, now = Date.now()): LoginAttempt | { retryAfter: number } {
    const userKey = `u:${username.toLowerCase()}`;
    const addressKey = `a:${address}`;
    const retryAfter = Math.max(this.wait(userKey, MAX_PER_USER, now), this.wait(addressKey, MAX_PER_ADDRESS, now));
    if (retryAfter > 0) return { retryAfter };
    const place = { at: now };
    for (const key of [userKey, addressKey]) this.places.set(key, [...this.recent(key, now), place]);
    return {
      failed: () => {},
      succeeded: () => {
        this.places.delete(userKey);
        this.release(addressKey, place);
      },
      abandoned: () => {
        this.release(userKey, place);
        this.release(addressKey, place);
      },
    };
  }

  private wait(key: string, max: number, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < max) return 0;
    const oldest = recent[recent.length - max]!;
    return Math.max(1, Math.ceil((oldest.at + WINDOW_MS - now) / 1000));
  }

  private recent(key: string, now: number): Place[] {
    const kept = (this.places.get(key) ?? []).filter((place) => place.at > now - WINDOW_MS);
    if (kept.length === 0) this.places.delete(key);
    return kept;
  }

  private release(key: string, place: Place): void {
    const left = (this.places.get(key) ?? []).filter((other) => other !== place);
    if (left.length === 0) this.places.delete(key);
    else this.places.set(key, left);
  }
}
