import ipaddr from "ipaddr.js";

/**
 * Slows password guessing without letting anyone's failures lock out someone else.
 *
 * Failures are counted per (address, username): the first FREE_FAILURES cost nothing, each one
 * after that locks the pair for twice as long as the one before (1 minute, 2, 4 … at most an hour),
 * and a success forgives the pair. So guessing one person's password from one address gets a few
 * dozen tries a day, while the same person signing in from elsewhere, or anyone else from the same
 * address, is not held up — which matters behind a reverse proxy, where every sign-in may come from
 * one address (see PIER_TRUSTED_PROXIES for giving Pier the real one).
 *
 * Per address there is a coarser count against trying one password on many usernames: once an
 * address has had MAX_PER_ADDRESS failures within WINDOW_MS, a pair from it that has failed even
 * once in that time is refused until the address cools down. A username that has not failed from
 * there is still checked: the right password of someone who has not been failing is never refused
 * because others were.
 *
 * Checking a password takes a noticeable moment (argon2id), so many guesses can arrive while
 * earlier ones are still being checked. Each attempt therefore takes its place *before* the check
 * (`begin`) and counts as a failure until it turns out otherwise. Kept in memory: a restart
 * forgives, which is acceptable for a single-process server.
 */
const FREE_FAILURES = 5;
const FIRST_LOCK_MS = 60 * 1000;
const LONGEST_LOCK_MS = 60 * 60 * 1000;
/** A pair's failures are forgotten this long after its last one. */
const FORGET_MS = 24 * 60 * 60 * 1000;
const WINDOW_MS = 15 * 60 * 1000;
const MAX_PER_ADDRESS = 20;
const SWEEP_EVERY_MS = 60 * 1000;

/** One sign-in attempt holding its place under the limits while its password is checked. */
export interface LoginAttempt {
  /** Wrong credentials: a failure for the pair (and the address). */
  failed(): void;
  /** Right credentials: the pair's failures are forgiven. */
  succeeded(): void;
  /** The check itself broke (not the person's doing): the attempt is not counted. */
  abandoned(): void;
}

interface Pair {
  failures: number;
  /** Attempts still being checked. */
  pending: number;
  lastFailureAt: number;
  lockedUntil: number;
}

interface AddressRecord {
  /** When each failure within the window happened, oldest first. */
  failures: number[];
  pending: number;
}

export class LoginLimiter {
  private pairs = new Map<string, Pair>();
  private addresses = new Map<string, AddressRecord>();
  private sweptAt = 0;

  /** Takes a place for one attempt, or says how many seconds to wait before trying again. */
  begin(username: string, address: string, now = Date.now()): LoginAttempt | { retryAfter: number } {
    this.sweep(now);
    const from = addressKey(address);
    const pairKey = `${from} ${username.toLowerCase()}`;
    const pair = this.pairs.get(pairKey) ?? { failures: 0, pending: 0, lastFailureAt: 0, lockedUntil: 0 };
    if (pair.pending === 0 && pair.lastFailureAt <= now - FORGET_MS) pair.failures = 0;
    const record = this.addressRecord(from, now);

    const waitMs = Math.max(pairWait(pair, now), this.addressWait(record, pair, now));
    if (waitMs > 0) return { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) };

    pair.pending++;
    record.pending++;
    this.pairs.set(pairKey, pair);
    this.addresses.set(from, record);
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      pair.pending--;
      record.pending--;
      outcome();
    };
    return {
      failed: () =>
        settle(() => {
          pair.failures++;
          pair.lastFailureAt = now;
          if (pair.failures >= FREE_FAILURES) pair.lockedUntil = now + lockFor(pair.failures);
          // Attempts finish out of order; the window drops failures oldest first.
          let at = record.failures.length;
          while (at > 0 && record.failures[at - 1]! > now) at--;
          record.failures.splice(at, 0, now);
        }),
      succeeded: () =>
        settle(() => {
          pair.failures = 0;
          pair.lockedUntil = 0;
        }),
      abandoned: () => settle(() => {}),
    };
  }

  /** How long a pair that failed within the window waits while its address is over its count; 0 otherwise. */
  private addressWait(record: AddressRecord, pair: Pair, now: number): number {
    const failing = pair.pending > 0 || (pair.failures > 0 && pair.lastFailureAt > now - WINDOW_MS);
    if (!failing) return 0;
    const over = record.failures.length + record.pending - MAX_PER_ADDRESS;
    if (over < 0) return 0;
    // Settled failures leave the window oldest first; attempts in flight are not known yet.
    const leaving = record.failures[over];
    return leaving === undefined ? FIRST_LOCK_MS : leaving + WINDOW_MS - now;
  }

  private addressRecord(from: string, now: number): AddressRecord {
    const record = this.addresses.get(from) ?? { failures: [], pending: 0 };
    while (record.failures.length > 0 && record.failures[0]! <= now - WINDOW_MS) record.failures.shift();
    return record;
  }

  /** Drops what no longer counts, now and then, so guesses at made-up usernames do not pile up. */
  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const [key, pair] of this.pairs) {
      if (pair.pending === 0 && pair.lockedUntil <= now && (pair.failures === 0 || pair.lastFailureAt <= now - FORGET_MS)) this.pairs.delete(key);
    }
    for (const [key, record] of this.addresses) {
      if (record.pending === 0 && (record.failures.at(-1) ?? 0) <= now - WINDOW_MS) this.addresses.delete(key);
    }
  }
}

/**
 * How long a pair waits: while locked, until the lock ends; otherwise only when the attempts in
 * flight would use up what it may try now (the free failures, or one try after a lock).
 */
function pairWait(pair: Pair, now: number): number {
  if (pair.lockedUntil > now) return pair.lockedUntil - now;
  const mayTry = pair.failures < FREE_FAILURES ? FREE_FAILURES - pair.failures : 1;
  return pair.pending >= mayTry ? lockFor(pair.failures + pair.pending) : 0;
}

function lockFor(failures: number): number {
  return Math.min(LONGEST_LOCK_MS, FIRST_LOCK_MS * 2 ** Math.max(0, failures - FREE_FAILURES));
}

/**
 * Whose attempts count together: one IPv4 address, or one IPv6 /64 (what a single network is
 * usually given, so stepping through its addresses gains nothing).
 */
function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address);
  if (ip.kind() === "ipv4") return ip.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/64`).toString()}/64`;
}
