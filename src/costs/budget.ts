import { and, eq, gte, sql } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { readPlainSettings } from "../settings/settings.ts";
import { costLedger } from "./tables.ts";

export interface BudgetStatus {
  /** Everyone's spending this calendar month (UTC), in USD. */
  spentUsd: number;
  /** The admin's monthly budget, or null when there is none. */
  budgetUsd: number | null;
  /** True once this month's spending reached the budget. */
  crossed: boolean;
  /** The first moment of this month (UTC), where spentUsd starts counting. */
  monthStart: Date;
}

/** This month's spending against the instance's monthly budget, for the Costs page and the dashboard's warning. */
export function budgetStatus(db: Db, now = new Date()): BudgetStatus {
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const row = db
    .select({ spent: sql<number>`coalesce(sum(${costLedger.costUsd}), 0)` })
    .from(costLedger)
    .where(gte(costLedger.createdAt, monthStart))
    .get();
  const spentUsd = row?.spent ?? 0;
  const budgetUsd = readPlainSettings(db).monthlyBudgetUsd;
  return { spentUsd, budgetUsd, crossed: budgetUsd !== null && spentUsd >= budgetUsd, monthStart };
}

/** One person's spending this calendar month (UTC): their sessions' and their tasks' reports. */
export function spentThisMonthBy(db: Db, userId: string, now = new Date()): number {
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const row = db
    .select({ spent: sql<number>`coalesce(sum(${costLedger.costUsd}), 0)` })
    .from(costLedger)
    .where(and(gte(costLedger.createdAt, monthStart), eq(costLedger.userId, userId)))
    .get();
  return row?.spent ?? 0;
}
