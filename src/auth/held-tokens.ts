/**
 * The token a session's pod was last handed for one purpose (its key helper's gateway key, its MCP
 * header), kept in this process's memory so that asking again gives the same token while more than
 * half its life is left: a pod asking in a loop adds no row. Only then is a fresh one minted; the
 * old one lives out the rest of its hours (a process may still be using it) and the expiry job
 * deletes its row. Tokens are stored only as hashes, so only this process can hand one back; after
 * a restart the next ask mints afresh, once per session and purpose.
 */
export class HeldTokens {
  private held = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private lifetimeMs: number,
    private mint: (sessionId: string, lifetimeMs: number) => string,
  ) {}

  /** The session's token for this purpose: the held one while it has more than half its life left, else a fresh one. */
  for(sessionId: string): string {
    const now = Date.now();
    const held = this.held.get(sessionId);
    if (held && held.expiresAt - now > this.lifetimeMs / 2) return held.token;
    const token = this.mint(sessionId, this.lifetimeMs);
    this.held.set(sessionId, { token, expiresAt: now + this.lifetimeMs });
    return token;
  }

  /** The session's tokens were revoked: none is handed back again. */
  forget(sessionId: string): void {
    this.held.delete(sessionId);
  }
}
