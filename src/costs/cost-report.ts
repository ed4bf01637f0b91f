import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { type Actor, isAdmin } from "../auth/actor.ts";
import { type DateRange, readDateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { invalid } from "../infra/errors.ts";
import { costLedger } from "./tables.ts";

export const COST_GROUPS = ["day", "model", "repo", "user", "session", "task"] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

/** One group's spending: its key (a day, model id or the id of a repo, user, session or task) and sums. */
export interface CostRow {
  /** Null for spending that has no such thing: a verification report has no session, a session may have no task. */
  key: string | null;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** GET /api/costs's query as text from the URL, every field optional. */
export interface CostQuery {
  from?: string;
  to?: string;
  groupBy?: string;
}

const KEYS: Record<CostGroup, SQL<string | null>> = {
  // Days are UTC, like the date range.
  day: sql<string>`strftime('%Y-%m-%d', ${costLedger.createdAt} / 1000, 'unixepoch')`,
  model: sql<string>`${costLedger.model}`,
  repo: sql<string | null>`${costLedger.repoId}`,
  user: sql<string>`${costLedger.userId}`,
  // The unary plus keeps SQLite from walking the whole session index to group (110 ms at 100,000
  // rows) instead of reading only the period's rows by created_at and sorting them (bench/costs.ts).
  session: sql<string | null>`+${costLedger.sessionId}`,
  // A session's spending counts toward the task it was linked to when it spent; a report's toward its task.
  task: sql<string | null>`${costLedger.taskId}`,
};

export function readCostGroup(text: string | undefined): CostGroup {
  const groupBy = text ?? "day";
  if (!(COST_GROUPS as readonly string[]).includes(groupBy)) throw invalid("groupBy", "groupBy must be day, model, repo, user, session or task.");
  return groupBy as CostGroup;
}

/**
 * Spending between `from` and `to` (read as the session history reads them), summed per day,
 * model, repo, user, session or task, in key order. An admin's report covers everyone, anyone
 * else's only their own. Bad input is a 400 naming the field.
 */
export function costReport(db: Db, actor: Actor, query: CostQuery): CostRow[] {
  const groupBy = readCostGroup(query.groupBy);
  return sumsBy(db, actor, groupBy, readDateRange(query));
}

/** The sums of one grouping over a period already read. */
export function sumsBy(db: Db, actor: Actor, groupBy: CostGroup, range: DateRange): CostRow[] {
  const key = KEYS[groupBy];
  return db
    .select({
      key,
      costUsd: sql<number>`sum(${costLedger.costUsd})`,
      inputTokens: sql<number>`sum(${costLedger.inputTokens})`,
      outputTokens: sql<number>`sum(${costLedger.outputTokens})`,
      cacheReadTokens: sql<number>`sum(${costLedger.cacheReadTokens})`,
      cacheWriteTokens: sql<number>`sum(${costLedger.cacheWriteTokens})`,
    })
    .from(costLedger)
    .where(ledgerWhere(actor, range))
    .groupBy(key)
    .orderBy(key)
    .all();
}

/** The ledger rows an actor may see in a period. */
export function ledgerWhere(actor: Actor, range: DateRange): SQL | undefined {
  const where: SQL[] = [];
  if (!isAdmin(actor)) where.push(eq(costLedger.userId, actor.user.id));
  if (range.from !== null) where.push(gte(costLedger.createdAt, new Date(range.from)));
  if (range.to !== null) where.push(lt(costLedger.createdAt, new Date(range.to)));
  return and(...where);
}

