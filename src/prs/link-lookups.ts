/** How long a session's window of lookups lasts: its `perMinute` lookups are counted within one. */
const WINDOW_MS = 60_000;

/**
 * How many distinct links one session may have waiting for a lookup. The earliest found are
 * kept; one found while this many wait is refused, said in the log, and left unseen by the
 * scanner, so the same link printed again later is found again.
 */
export const MAX_WAITING = 1000;

interface SessionLookups<How> {
  /** Lookups started in the current window. */
  used: number;
  /** When the current window began: at the first lookup after the last window ended. */
  windowStart: number;
  /** Links waiting, in the order they were found (a Map keeps insertion order), with what found them. */
  waiting: Map<number, How>;
  /** Links already looked up (or handed over for it), never asked twice. */
  asked: Set<number>;
  /** Whether a refusal was logged since this session last had room, so a flood logs one line, not thousands. */
  toldFull: boolean;
  /** The session ended: once nothing of it waits, it is let go. */
  ended: boolean;
}

/**
 * Holds back the GitHub lookups of pull request links a session prints, so a terminal printing
 * thousands of links costs at most `perMinute` lookups per session per minute on the instance's
 * token: each distinct link is looked up once, at once while the session's window has room, or
 * else waits (in order) for a later window. Sessions are counted apart, so one session's flood
 * never holds up another's links; windows open again as the poller ticks (`drain`) and are shared
 * out a link per session in turn.
 */
export class LinkLookups<How extends string> {
  private sessions = new Map<string, SessionLookups<How>>();

  constructor(
    private perMinute: number,
    private lookUp: (sessionId: string, number: number, how: How) => Promise<void>,
  ) {}

  /**
   * A link the session showed. False when it is refused (too many already wait); the caller then
   * treats it as not seen.
   */
  offer(sessionId: string, number: number, how: How, now = Date.now()): boolean {
    const lookups = this.of(sessionId);
    lookups.ended = false;
    if (lookups.asked.has(number) || lookups.waiting.has(number)) return true;
    if (lookups.waiting.size >= MAX_WAITING) {
      if (!lookups.toldFull) console.warn(`[pier] session ${sessionId} has ${MAX_WAITING} pull request links waiting to be looked up; further ones are not kept until those are (printed again, they are found again)`);
      lookups.toldFull = true;
      return false;
    }
    lookups.waiting.set(number, how);
    void this.drain(now);
    return true;
  }

  /**
   * Starts the lookups the sessions' windows have room for, one session at a time in turn;
   * resolves when those are done.
   */
  async drain(now = Date.now()): Promise<void> {
    const started: Array<Promise<void>> = [];
    let more = true;
    while (more) {
      more = false;
      for (const [sessionId, lookups] of this.sessions) {
        if (now - lookups.windowStart >= WINDOW_MS) lookups.used = 0;
        const next = lookups.waiting.entries().next();
        if (next.done || lookups.used >= this.perMinute) continue;
        const [number, how] = next.value;
        if (lookups.used === 0) lookups.windowStart = now;
        lookups.used++;
        lookups.waiting.delete(number);
        lookups.asked.add(number);
        lookups.toldFull = false;
        started.push(this.lookUp(sessionId, number, how));
        more = true;
      }
    }
    for (const [sessionId, lookups] of this.sessions) {
      if (lookups.ended && lookups.waiting.size === 0) this.sessions.delete(sessionId);
    }
    await Promise.all(started);
  }

  /**
   * The session ended: it shows no more links, and is let go once the ones it showed are looked
   * up (they still are: its pull requests are followed after it ends).
   */
  forget(sessionId: string): void {
    const lookups = this.sessions.get(sessionId);
    if (!lookups) return;
    if (lookups.waiting.size === 0) this.sessions.delete(sessionId);
    else lookups.ended = true;
  }

  private of(sessionId: string): SessionLookups<How> {
    let lookups = this.sessions.get(sessionId);
    if (!lookups) {
      lookups = { used: 0, windowStart: 0, waiting: new Map(), asked: new Set(), toldFull: false, ended: false };
      this.sessions.set(sessionId, lookups);
    }
    return lookups;
  }
}
