import { and, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { readDateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { invalid } from "../infra/errors.ts";
import type { Session } from "./session.ts";
import { visibleSessions } from "./session-scope.ts";
import { type SessionState, sessions } from "./tables.ts";

/** The history's query, as GET /api/sessions takes it: every field is text from the URL, all optional. */
export interface SessionQuery {
  state?: string;
  repoId?: string;
  userId?: string;
  taskId?: string;
  /** From this moment (an ISO date or date-time), inclusive. */
  from?: string;
  /** Up to this moment; a date alone means up to the end of that day (UTC). */
  to?: string;
  /** Words in the title or branch, case-insensitive. */
  q?: string;
  limit?: string;
  /** Where the previous page ended, as its `next` said. */
  cursor?: string;
}

export const SESSION_QUERY_FIELDS = ["state", "repoId", "userId", "taskId", "from", "to", "q", "limit", "cursor"] as const satisfies ReadonlyArray<keyof SessionQuery>;

export interface SessionPage {
  sessions: Session[];
  /** The cursor of the next page, or null when this was the last. */
  next: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;
const STATES: SessionState[] = ["provisioning", "active", "ended", "failed"];

/**
 * One page of the sessions the actor may see, newest first. Pages follow each other by keyset
 * (created_at, id), never by offset: a page is as fast at the 10,000th session as at the first,
 * and a session started meanwhile neither shifts nor repeats what later pages hold.
 * A member sees only their own sessions, whatever `userId` says; an admin sees everyone's and may
 * narrow to one person. Bad input is a 400 naming the field.
 */
export function querySessions(db: Db, actor: Actor, query: SessionQuery): SessionPage {
  const where: Array<SQL | undefined> = [visibleSessions(actor)];
  if (query.userId !== undefined) where.push(eq(sessions.userId, query.userId));
  if (query.state !== undefined) {
    if (!STATES.includes(query.state as SessionState)) throw invalid("state", "State must be provisioning, active, ended or failed.");
    where.push(eq(sessions.state, query.state as SessionState));
  }
  if (query.repoId !== undefined) where.push(eq(sessions.repoId, query.repoId));
  if (query.taskId !== undefined) where.push(eq(sessions.taskId, query.taskId));
  const { from, to } = readDateRange(query);
  if (from !== null) where.push(gte(sessions.createdAt, new Date(from)));
  if (to !== null) where.push(lt(sessions.createdAt, new Date(to)));
  if (query.q !== undefined) {
    const words = query.q.trim();
    if (words.length > 200) throw invalid("q", "Search text is at most 200 characters.");
    if (words !== "") {
      const pattern = `%${words.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(or(sql`${sessions.title} LIKE ${pattern} ESCAPE '\\'`, sql`${sessions.branch} LIKE ${pattern} ESCAPE '\\'`)!);
    }
  }
  const limit = pageSize(query.limit);
  if (query.cursor !== undefined) {
    const { at, id } = readCursor(query.cursor);
    where.push(or(lt(sessions.createdAt, new Date(at)), and(eq(sessions.createdAt, new Date(at)), lt(sessions.id, id)))!);
  }
  // One more than asked: whether it comes back says if another page follows.
  const rows = db
    .select()
    .from(sessions)
    .where(and(...where))
    .orderBy(desc(sessions.createdAt), desc(sessions.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { sessions: page, next: rows.length > limit && last ? writeCursor(last.createdAt.getTime(), last.id) : null };
}

export function pageSize(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PAGE;
  const n = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) throw invalid("limit", `Limit must be a whole number from 1 to ${MAX_PAGE}.`);
  return n;
}

/** Opaque to clients: the last row's time and id, so the next page starts just after it. */
export function writeCursor(at: number, id: string): string {
  return Buffer.from(`${at}:${id}`, "utf8").toString("base64url");
}

export function readCursor(cursor: string): { at: number; id: string } {
  const text = cursor.length <= 200 ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const match = /^(\d{1,15}):([A-Za-z0-9_-]{1,64})$/.exec(text);
  if (!match) throw invalid("cursor", "The cursor is not one this server gave; start from the first page.");
  return { at: Number(match[1]), id: match[2]! };
}
