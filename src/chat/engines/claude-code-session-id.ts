import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../infra/db.ts";
import { sessions } from "../../sessions/tables.ts";

/**
 * Claude Code's own session id for a Pier session (engine claude-code), kept on the session's row
 * once its conversation is saved in the pod: the next Claude Code process resumes it with it.
 */
export function savedClaudeSessionId(db: Db, sessionId: string): string | null {
  return db.select({ claudeSessionId: sessions.claudeSessionId }).from(sessions).where(eq(sessions.id, sessionId)).get()?.claudeSessionId ?? null;
}

/** Keeps Claude Code's session id with the session (written only when it changed, as it says it at every turn). */
export function saveClaudeSessionId(db: Db, sessionId: string, claudeSessionId: string): void {
  db.update(sessions)
    .set({ claudeSessionId })
    .where(and(eq(sessions.id, sessionId), sql`${sessions.claudeSessionId} IS NOT ${claudeSessionId}`))
    .run();
}
