import type { Actor } from "../auth/actor.ts";
import type { DateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { dayText } from "./cost-rollups.ts";
import { costNames, type NamedCostRow } from "./cost-names.ts";
import { spendingOwnerFor } from "./cost-scope.ts";
import { type CostGroup, type CostRow, largestBy } from "./cost-report.ts";
import { spending } from "./spending.ts";

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
 * expensive first, with names. What the actor may see, as in costReport. Every figure is summed
 * by SQL from the ledger's roll-ups (spending.ts).
 */
export function costOverview(db: Db, actor: Actor, range: DateRange, limit = TABLE_LIMIT): CostOverview {
  const totals = spending(db, actor, range, "model", []);
  const total = db.select().from(totals).get();
  const perDay = spending(db, actor, range, "model", ["day", "key"]);
  const daily = db.select({ day: perDay.day, model: perDay.key, costUsd: perDay.costUsd }).from(perDay).all();
  const table = (groupBy: Exclude<CostGroup, "day">): CostTable => {
    const { rows, count } = largestBy(db, actor, groupBy, range, limit);
    const names = costNames(db, groupBy, rows.map((row) => row.key));
    return { rows: rows.map((row) => ({ ...row, name: row.key === null ? null : (names.get(row.key) ?? null) })), count };
  };
  return {
    // With nothing spent, SQL's sums of no rows are null.
    total: {
      key: null,
      costUsd: total?.costUsd ?? 0,
      inputTokens: total?.inputTokens ?? 0,
      outputTokens: total?.outputTokens ?? 0,
      cacheReadTokens: total?.cacheReadTokens ?? 0,
      cacheWriteTokens: total?.cacheWriteTokens ?? 0,
    },
    daily: daily
      .map((row) => ({ day: dayText(row.day), model: row.model, costUsd: row.costUsd }))
      .sort((a, b) => (a.day === b.day ? a.model.localeCompare(b.model) : a.day.localeCompare(b.day))),
    byModel: table("model"),
    byRepo: table("repo"),
    byUser: spendingOwnerFor(actor) === null ? table("user") : null,
    bySession: table("session"),
    byTask: table("task"),
  };
}
