import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { type Actor, isAdmin } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { invalid, notFound } from "../infra/errors.ts";
import { pageSize, readCursor, writeCursor } from "../sessions/session-query.ts";
import { RUN_STATES, type RunState, runs } from "./tables.ts";

export type RunRow = typeof runs.$inferSelect;

/**
 * Who may see a run: the person it acts for, or an admin, as for its session (see
 * session-scope.ts). An agent sees none: it is told its work through its chat, not the runs.
 */
export function visibleRuns(actor: Actor): SQL | undefined {
  if (actor.kind === "agent") return eq(runs.id, "");
  return isAdmin(actor) ? undefined : eq(runs.userId, actor.user.id);
}

/** A run the actor may see; a 404, as if it did not exist, for any other. */
export function runFor(db: Db, actor: Actor, id: string): RunRow {
  const row = db.select().from(runs).where(and(eq(runs.id, id), visibleRuns(actor))).get();
  if (!row) throw notFound("run");
  return row;
}

export const RUN_QUERY_FIELDS = ["state", "taskId", "repoId", "limit", "cursor"] as const;
export type RunQuery = Partial<Record<(typeof RUN_QUERY_FIELDS)[number], string>>;

/** One page of the runs the actor may see, newest first, by keyset as the sessions' history pages (see querySessions). */
export function queryRuns(db: Db, actor: Actor, query: RunQuery): { runs: RunRow[]; next: string | null } {
  const where: Array<SQL | undefined> = [visibleRuns(actor)];
  if (query.state !== undefined) {
    if (!RUN_STATES.includes(query.state as RunState)) throw invalid("state", `State must be one of ${RUN_STATES.join(", ")}.`);
    where.push(eq(runs.state, query.state as RunState));
  }
  if (query.taskId !== undefined) where.push(eq(runs.taskId, query.taskId));
  if (query.repoId !== undefined) where.push(eq(runs.repoId, query.repoId));
  const limit = pageSize(query.limit);
  if (query.cursor !== undefined) {
    const { at, id } = readCursor(query.cursor);
    where.push(or(lt(runs.createdAt, new Date(at)), and(eq(runs.createdAt, new Date(at)), lt(runs.id, id)))!);
  }
  const rows = db
    .select()
    .from(runs)
    .where(and(...where))
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { runs: page, next: rows.length > limit && last ? writeCursor(last.createdAt.getTime(), last.id) : null };
}
