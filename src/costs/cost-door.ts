import type { Actor } from "../auth/actor.ts";
import type { DateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { type BudgetStatus, budgetStatus, spentThisMonthBy } from "./budget.ts";
import { costReportWithNames } from "./cost-names.ts";
import { type CostOverview, costOverview } from "./cost-overview.ts";
import type { NamedCostRow } from "./cost-names.ts";
import { type CostQuery, type CostRow, costReport } from "./cost-report.ts";
import { type PriceInput, listPrices, setPrice } from "./costs.ts";
import type { Price } from "./price.ts";
import { type ModelCost, sessionCostsByModel } from "./session-costs.ts";

/** The costs' door for the web layer: prices, reports and budgets, bound to the database. */
export class Costs {
  constructor(private readonly db: Db) {}

  prices(): Price[] {
    return listPrices(this.db);
  }

  setPrice(actor: Actor, input: PriceInput): Price {
    return setPrice(this.db, actor, input);
  }

  report(actor: Actor, query: CostQuery): CostRow[] {
    return costReport(this.db, actor, query);
  }

  reportWithNames(actor: Actor, query: CostQuery): NamedCostRow[] {
    return costReportWithNames(this.db, actor, query);
  }

  overview(actor: Actor, range: DateRange): CostOverview {
    return costOverview(this.db, actor, range);
  }

  /** A session's spending by model; the caller has checked that its actor may see the session. */
  sessionByModel(sessionId: string): ModelCost[] {
    return sessionCostsByModel(this.db, sessionId);
  }

  budget(): BudgetStatus {
    return budgetStatus(this.db);
  }

  spentThisMonthBy(userId: string): number {
    return spentThisMonthBy(this.db, userId);
  }
}
