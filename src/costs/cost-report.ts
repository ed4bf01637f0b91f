import { asc, desc, sql } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { type DateRange, readDateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { invalid } from "../infra/errors.ts";
import { dayText } from "./cost-rollups.ts";
import { type SpendingColumn, spending } from "./spending.ts";
import type { CostDimension } from "./tables.ts";

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

/**
 * Where each grouping is summed: which dimension of the roll-ups and which of its columns is
 * the key. Days are UTC, like the date range. A session's spending counts toward the task it was
 * linked to when it spent; a verification report's toward its task.
 */
const GROUPS: Record<CostGroup, { dimension: CostDimension; column: SpendingColumn }> = {
  day: { dimension: "model", column: "day" },
  model: { dimension: "model", column: "key" },
  repo: { dimension: "repo", column: "key" },
  user: { dimension: "model", column: "userId" },
  session: { dimension: "session", column: "key" },
  task: { dimension: "task", column: "key" },
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
  const { sums, key, rowOf } = groupSums(db, actor, groupBy, range);
  return db.select().from(sums).orderBy(key).all().map(rowOf);
}

/**
 * The most expensive `limit` groups of a grouping over a period, and how many there are in all.
 * Ties in cost go in key order.
 */
export function largestBy(db: Db, actor: Actor, groupBy: CostGroup, range: DateRange, limit: number): { rows: CostRow[]; count: number } {
  const { sums, key, rowOf } = groupSums(db, actor, groupBy, range);
  const rows = db
    .select({ ...sums._.selectedFields, groups: sql<number>`count(*) over ()` })
    .from(sums)
    .orderBy(desc(sums.costUsd), asc(key))
    .limit(limit)
    .all();
  return { rows: rows.map(rowOf), count: rows[0]?.groups ?? 0 };
}

/**
 * One grouping's sums over a period as a subquery to select from, its key column, and how a
 * selected row becomes a CostRow: a day as 2026-11-22, "" (no repo, task or session) as null.
 */
export function groupSums(db: Db, actor: Actor, groupBy: CostGroup, range: DateRange) {
  const { dimension, column } = GROUPS[groupBy];
  const sums = spending(db, actor, range, dimension, [column]);
  const rowOf = (row: Omit<CostRow, "key"> & Partial<Record<SpendingColumn, string | number>>): CostRow => {
    const key = row[column]!;
    return {
      key: groupBy === "day" ? dayText(key as number) : key === "" ? null : (key as string),
      costUsd: row.costUsd,
      inputTokens: row.inputTokens,
      outputTokens: row.outputTokens,
      cacheReadTokens: row.cacheReadTokens,
      cacheWriteTokens: row.cacheWriteTokens,
    };
  };
  return { sums, key: sql`${sums[column]}`, rowOf };
}
