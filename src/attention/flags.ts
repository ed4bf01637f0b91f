import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import type { Session } from "../sessions/session.ts";
import { LIVE_STATES, type SessionAttention, sessions } from "../sessions/tables.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** Why a session needs its person changed (topic: the session id); null once it no longer does. */
    "session.attention": { sessionId: string; userId: string; attention: SessionAttention | null };
  }
}

/**
 * Why each session needs its person now, kept on its row (the `attention` column) so every page
 * and a restarted Pier see it, and said on the bus at each change. Attention decides when to raise
 * and clear; approvals and task feedback set and clear their own reasons through here too.
 */
export class AttentionFlags {
  constructor(private deps: { db: Db; bus: EventBus }) {}

  /** The session needs its person now, for this reason: a raise, said once (the same reason again is no new one). */
  mark(id: string, attention: SessionAttention): void {
    const session = this.deps.db.select({ userId: sessions.userId, attention: sessions.attention }).from(sessions).where(eq(sessions.id, id)).get();
    if (!session) throw notFound("session");
    if (session.attention === attention) return;
    this.deps.db.update(sessions).set({ attention }).where(eq(sessions.id, id)).run();
    this.deps.bus.publish("session.attention", id, { sessionId: id, userId: session.userId, attention });
    this.deps.bus.publish("attention.raised", id, { sessionId: id, userId: session.userId, reason: attention });
  }

  /**
   * That reason no longer holds (another reason set since is left alone): of one session, or of
   * every session without an id. With no reason, whatever the session's was.
   */
  clear(attention: SessionAttention | null, id?: string): void {
    const cleared = this.deps.db
      .update(sessions)
      .set({ attention: null })
      .where(and(attention ? eq(sessions.attention, attention) : sql`${sessions.attention} IS NOT NULL`, ...(id ? [eq(sessions.id, id)] : [])))
      .returning({ id: sessions.id, userId: sessions.userId })
      .all();
    for (const row of cleared) this.deps.bus.publish("session.attention", row.id, { sessionId: row.id, userId: row.userId, attention: null });
  }

  /** The live sessions of a person that need them now, newest first. */
  needing(userId: string): Session[] {
    return this.deps.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, userId), inArray(sessions.state, LIVE_STATES), sql`${sessions.attention} IS NOT NULL`))
      .orderBy(desc(sessions.createdAt))
      .all();
  }
}
