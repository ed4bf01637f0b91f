import type { Actor } from "../auth/actor.ts";
import { isAdmin } from "../auth/actor.ts";
import type { DateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { costNames } from "./cost-names.ts";
import { type CostGroup, type CostRow, dailyByModel, sumsBy } from "./cost-report.ts";

export interface NamedCostRow extends CostRow {
  /** Its repo's name, person's username, session's or task's title; null when that is gone or the key is null. */
  name: string | null;
}

export interface CostTable {
  rows: NamedCostRow[];
  /** How many groups there are in all; rows holds the most expensive `limit` of them. */
  count: number;
}

export interface CostOverview {
  total: CostRow;
  daily: { day: string; model: string; costUsd: number }[];
  byModel: CostTable;
  byRepo: CostTable;
  /** Admins only: a member's report is all their own. */
  byUser: CostTable | null;
  bySession: CostTable;
  byTask: CostTable;
}

/** Rows a page table shows at most; the CSV export has them all. */
export const TABLE_LIMIT = 50;

/**
 * The Costs page's figures for a period: the total, each day per model, and each grouping, most
 * expensive first, with names. What the actor may see, as in costReport.
 */
export function costOverview(db: Db, actor: Actor, range: DateRange, limit = TABLE_LIMIT): CostOverview {
  const table = (groupBy: CostGroup, all = sumsBy(db, actor, groupBy, range)): CostTable => {
    all.sort((a, b) => b.costUsd - a.costUsd);
    const rows = all.slice(0, limit);
    const names = costNames(db, groupBy, rows.map((row) => row.key));
    return { rows: rows.map((row) => ({ ...row, name: row.key === null ? null : (names.get(row.key) ?? null) })), count: all.length };
  };
  const models = sumsBy(db, actor, "model", range);
  const total = models.reduce<CostRow>(
    (sum, row) => ({
      key: null,
      costUsd: sum.costUsd + row.costUsd,
      inputTokens: sum.inputTokens + row.inputTokens,
      outputTokens: sum.outputTokens + row.outputTokens,
      cacheReadTokens: sum.cacheReadTokens + row.cacheReadTokens,
      cacheWriteTokens: sum.cacheWriteTokens + row.cacheWriteTokens,
    }),
    { key: null, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  );
  return {
    total,
    daily: dailyByModel(db, actor, range),
    byModel: table("model", models),
    byRepo: table("repo"),
    byUser: isAdmin(actor) ? table("user") : null,
    bySession: table("session"),
    byTask: table("task"),
  };
}
