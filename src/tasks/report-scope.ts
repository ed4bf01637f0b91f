import { inArray } from "drizzle-orm";
import { type Actor, isAdmin } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { maySeeSession } from "../sessions/session-scope.ts";
import { sessions } from "../sessions/tables.ts";

/**
 * Who may see a task's verification report, or ask for one: since it holds its sessions' work,
 * only those who may see every session it draws from (see session-scope.ts). Only admins may see
 * one drawn from a session that no longer exists, or one written before its sessions were kept
 * (null). Seeing the task itself is the task's own rule (task-scope.ts), checked first.
 */
export function maySeeReport(db: Db, actor: Actor, sessionIds: string[] | null): boolean {
  if (sessionIds === null) return isAdmin(actor);
  if (sessionIds.length === 0) return true;
  const owners = new Map(
    db
      .select({ id: sessions.id, userId: sessions.userId })
      .from(sessions)
      .where(inArray(sessions.id, sessionIds))
      .all()
      .map((session) => [session.id, session.userId]),
  );
  return sessionIds.every((id) => maySeeSession(actor, { id, userId: owners.get(id) ?? "" }));
}
