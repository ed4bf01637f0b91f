import { count, eq, type SQL, sql } from "drizzle-orm";
import type { Db, Tx } from "../infra/db.ts";
import { COST_DIMENSIONS, type CostDimension, costDays, costLedger, costTotals } from "./tables.ts";

export const DAY_MS = 86_400_000;

/** The UTC day of a moment, counted as cost_days counts them (days since 1970-01-01). */
export function dayNumber(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** A day of cost_days as people write it: 2026-11-22. */
export function dayText(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** A ledger row's key in each dimension of the roll-ups, in SQL: "" where it has no repo, task or session. */
export const LEDGER_KEYS: Record<CostDimension, SQL<string>> = {
  model: sql<string>`${costLedger.model}`,
  repo: sql<string>`coalesce(${costLedger.repoId}, '')`,
  task: sql<string>`coalesce(${costLedger.taskId}, '')`,
  session: sql<string>`coalesce(${costLedger.sessionId}, '')`,
};

/** A ledger row's day in SQL, the same day dayNumber gives (created_at is milliseconds, never before 1970). */
export const LEDGER_DAY = sql<number>`${costLedger.createdAt} / ${DAY_MS}`;

type LedgerRow = typeof costLedger.$inferInsert;
type SumColumn = "responses" | "inputTokens" | "outputTokens" | "cacheWriteTokens" | "cacheReadTokens" | "costUsd";

/** An upsert's new sums: what the row had plus what the insert brought. */
function plus(table: typeof costDays | typeof costTotals) {
  const add = (column: (typeof table)[SumColumn]) => sql`${column} + excluded.${sql.identifier(column.name)}`;
  return {
    responses: add(table.responses),
    inputTokens: add(table.inputTokens),
    outputTokens: add(table.outputTokens),
    cacheWriteTokens: add(table.cacheWriteTokens),
    cacheReadTokens: add(table.cacheReadTokens),
    costUsd: add(table.costUsd),
  };
}

/** Adds one ledger row to its day's and to the all-time sums in every dimension, inside the transaction that records it. */
export function addToRollups(tx: Tx, row: LedgerRow): void {
  const keys: Record<CostDimension, string> = { model: row.model, repo: row.repoId ?? "", task: row.taskId ?? "", session: row.sessionId ?? "" };
  const sums = {
    responses: 1,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheWriteTokens: row.cacheWriteTokens,
    cacheReadTokens: row.cacheReadTokens,
    costUsd: row.costUsd,
  };
  const day = dayNumber(row.createdAt.getTime());
  tx.insert(costDays)
    .values(COST_DIMENSIONS.map((dimension) => ({ dimension, key: keys[dimension], day, userId: row.userId, ...sums })))
    .onConflictDoUpdate({ target: [costDays.dimension, costDays.key, costDays.day, costDays.userId], set: plus(costDays) })
    .run();
  tx.insert(costTotals)
    .values(COST_DIMENSIONS.map((dimension) => ({ dimension, key: keys[dimension], userId: row.userId, ...sums })))
    .onConflictDoUpdate({ target: [costTotals.dimension, costTotals.key, costTotals.userId], set: plus(costTotals) })
    .run();
}

/**
 * Sums the whole ledger into the roll-ups again when they disagree with it on how many responses
 * there are: a database from before them (their migration leaves them empty), or ledger rows
 * written around recordUsage, as bench/costs.ts seeds them. Pier runs it at start, before
 * anything records.
 */
export function catchUpRollups(db: Db): void {
  db.transaction((tx) => {
    const ledger = tx.select({ n: count() }).from(costLedger).get()?.n ?? 0;
    const responses = (table: typeof costDays | typeof costTotals) =>
      tx
        .select({ n: sql<number>`coalesce(sum(${table.responses}), 0)` })
        .from(table)
        .where(eq(table.dimension, "model"))
        .get()?.n ?? 0;
    if (responses(costDays) === ledger && responses(costTotals) === ledger) return;
    tx.delete(costDays).run();
    tx.delete(costTotals).run();
    const sums = {
      responses: count().as("responses"),
      inputTokens: sql<number>`sum(${costLedger.inputTokens})`.as("input_tokens"),
      outputTokens: sql<number>`sum(${costLedger.outputTokens})`.as("output_tokens"),
      cacheWriteTokens: sql<number>`sum(${costLedger.cacheWriteTokens})`.as("cache_write_tokens"),
      cacheReadTokens: sql<number>`sum(${costLedger.cacheReadTokens})`.as("cache_read_tokens"),
      costUsd: sql<number>`sum(${costLedger.costUsd})`.as("cost_usd"),
    };
    for (const dimension of COST_DIMENSIONS) {
      const key = LEDGER_KEYS[dimension];
      const named = { dimension: sql<CostDimension>`${dimension}`.as("dimension"), key: key.as("key") };
      tx.insert(costDays)
        .select(
          tx
            .select({ ...named, day: LEDGER_DAY.as("day"), userId: costLedger.userId, ...sums })
            .from(costLedger)
            .groupBy(key, LEDGER_DAY, costLedger.userId)
            // In day order, as recordUsage writes them, so a period's rows lie together in the table.
            .orderBy(LEDGER_DAY, key, costLedger.userId),
        )
        .run();
      tx.insert(costTotals)
        .select(tx.select({ ...named, userId: costLedger.userId, ...sums }).from(costLedger).groupBy(key, costLedger.userId))
        .run();
    }
  });
}
