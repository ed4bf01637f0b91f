/**
 * Log lines about something that can happen thousands of times a second at an attacker's will (a
 * pod's refused connections, say): said once for each subject, then at most once every `everyMs`,
 * so the log shows that it happens without being flooded by it.
 */
export class SparingLog {
  private lastSaid = new Map<string, number>();

  constructor(private everyMs: number) {}

  /** Logs `line` unless a line about `subject` was logged less than `everyMs` ago. */
  say(subject: string, line: string): void {
    const now = Date.now();
    const last = this.lastSaid.get(subject);
    if (last !== undefined && now - last < this.everyMs) return;
    this.lastSaid.set(subject, now);
    console.error(`${line} (Said at most every ${Math.round(this.everyMs / 60_000)} minutes for ${subject}, however often it happens.)`);
  }
}
