import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { HeldTokens } from "./held-tokens.ts";
import type { SessionTokenTable } from "./session-token-table.ts";
import { generateToken, hashToken } from "./sign-ins.ts";

export interface SessionTokenRule<Live> {
  db: Db;
  table: SessionTokenTable;
  /** What every token starts with, so a token of another kind is refused before any lookup. */
  prefix: string;
  /** How long a token lasts unless its minter says otherwise. */
  lifetimeMs: number;
  /** The session while tokens for it may be minted and taken (the liveness rule), else null. */
  live(sessionId: string): Live | null;
}

/**
 * Tokens each good for one session, for as long as that session stays live by the owner's rule:
 * minted only for a live session, taken only while it is live and unexpired, all revoked when it
 * ends (the owner calls revoke), and the expired ones deleted by the expiry job. The model gateway
 * and the MCP endpoint each keep one set, in a table of their own.
 */
export class SessionTokens<Live> {
  /** The tokens handed to pods, per purpose, so revoking forgets them too. */
  private holders: HeldTokens[] = [];

  constructor(private rule: SessionTokenRule<Live>) {}

  /** A new token for a live session; good until it stops being live (or `lifetimeMs` passes). */
  mint(sessionId: string, lifetimeMs = this.rule.lifetimeMs): string {
    this.assertLive(sessionId);
    const token = this.rule.prefix + generateToken();
    this.rule.db.insert(this.rule.table).values({ tokenHash: hashToken(token), sessionId, expiresAt: new Date(Date.now() + lifetimeMs) }).run();
    return token;
  }

  /** One purpose's held token per session (see HeldTokens), lasting `lifetimeMs`; revoke forgets it. */
  held(lifetimeMs = this.rule.lifetimeMs): HeldTokens {
    const holder = new HeldTokens(lifetimeMs, (sessionId, lifetime) => this.mint(sessionId, lifetime));
    this.holders.push(holder);
    return holder;
  }

  /** Throws unless the session is live by the owner's rule. */
  assertLive(sessionId: string): void {
    if (!this.rule.live(sessionId)) throw new Error("The session is not live.");
  }

  /** The live session the token is for, or null for a missing, unknown, expired or revoked token, or a session no longer live. */
  sessionOf(token: string | undefined): Live | null {
    if (!token?.startsWith(this.rule.prefix)) return null;
    const { table } = this.rule;
    const row = this.rule.db
      .select({ sessionId: table.sessionId })
      .from(table)
      .where(and(eq(table.tokenHash, hashToken(token)), gt(table.expiresAt, new Date())))
      .get();
    return row ? this.rule.live(row.sessionId) : null;
  }

  /** The session ended or failed: its tokens stop working at once. */
  revoke(sessionId: string): void {
    for (const holder of this.holders) holder.forget(sessionId);
    this.rule.db.delete(this.rule.table).where(eq(this.rule.table.sessionId, sessionId)).run();
  }

  /** Deletes the tokens whose time is up (the expiry job's work); returns how many went. */
  deleteExpired(now = new Date()): number {
    return this.rule.db.delete(this.rule.table).where(lte(this.rule.table.expiresAt, now)).returning({ tokenHash: this.rule.table.tokenHash }).all().length;
  }
}
