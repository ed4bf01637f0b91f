import { and, desc, eq, gte, lt, or, type SQL } from "drizzle-orm";
import { readDateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { invalid } from "../infra/errors.ts";
import { readCursor, writeCursor } from "../sessions/session-query.ts";
import { AUDIT_ACTIONS, type AuditAction, type AuditRow } from "./entry.ts";
import { AUDIT_ACTOR_KINDS, type AuditActorKind, auditEntries } from "./tables.ts";

/** The audit log's query, as GET /api/audit takes it: every field is text from the URL, all optional. */
export const AUDIT_QUERY_FIELDS = ["actor", "action", "from", "to", "limit", "cursor"] as const;
export type AuditQuery = Partial<Record<(typeof AUDIT_QUERY_FIELDS)[number], string>>;

/** An id as Pier makes them (newId), or as a trigger or session may have had in an older Pier. */
const ACTOR_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads the filters of a query (bad text is a 400 naming the field, before anything is read): `actor` is a kind of actor (person, agent, trigger, system) or one
 * actor's id (a person's, a session's for its agent, a trigger's); `action` one of AUDIT_ACTIONS;
 * `from` and `to` as the session history reads them.
 */
export function readAuditFilter(query: AuditQuery): SQL | undefined {
  const where: Array<SQL | undefined> = [];
  if (query.actor !== undefined) {
    if (AUDIT_ACTOR_KINDS.includes(query.actor as AuditActorKind)) where.push(eq(auditEntries.actorKind, query.actor as AuditActorKind));
    else if (ACTOR_ID.test(query.actor)) where.push(eq(auditEntries.actorId, query.actor));
    else throw invalid("actor", `Actor must be ${AUDIT_ACTOR_KINDS.join(", ")} or an actor's id.`);
  }
  if (query.action !== undefined) {
    if (!AUDIT_ACTIONS.includes(query.action as AuditAction)) throw invalid("action", `Action must be one of ${AUDIT_ACTIONS.join(", ")}.`);
    where.push(eq(auditEntries.action, query.action));
  }
  const { from, to } = readDateRange(query);
  if (from !== null) where.push(gte(auditEntries.at, new Date(from)));
  if (to !== null) where.push(lt(auditEntries.at, new Date(to)));
  return and(...where);
}

/**
 * One page of entries, newest first, by keyset (at, id) as the session history pages: a page is as
 * quick deep in the log as at its start, and an entry written meanwhile shifts nothing.
 */
export function auditPage(db: Db, filter: SQL | undefined, limit: number, cursor: string | undefined): { entries: AuditRow[]; next: string | null } {
  const where = [filter];
  if (cursor !== undefined) {
    const { at, id } = readCursor(cursor);
    where.push(or(lt(auditEntries.at, new Date(at)), and(eq(auditEntries.at, new Date(at)), lt(auditEntries.id, id))));
  }
  // One more than asked: whether it comes back says if another page follows.
  const rows = db
    .select()
    .from(auditEntries)
    .where(and(...where))
    .orderBy(desc(auditEntries.at), desc(auditEntries.id))
    .limit(limit + 1)
    .all();
  const entries = rows.slice(0, limit);
  const last = entries.at(-1);
  return { entries, next: rows.length > limit && last ? writeCursor(last.at.getTime(), last.id) : null };
}
