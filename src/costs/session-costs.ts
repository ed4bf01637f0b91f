import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { costLedger } from "./tables.ts";

/** What one model cost a session: its responses, their tokens by kind, and their price. */
export interface ModelCost {
  model: string;
  responses: number;
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  costUsd: number;
}

/**
 * A session's spending by model, from its rows of the cost ledger (the review page's breakdown).
 * The caller has checked that its actor may see the session.
 */
export function sessionCostsByModel(db: Db, sessionId: string): ModelCost[] {
  return db
    .select({
      model: costLedger.model,
      responses: sql<number>`count(*)`,
      inputTokens: sql<number>`sum(${costLedger.inputTokens})`,
      outputTokens: sql<number>`sum(${costLedger.outputTokens})`,
      cacheWriteTokens: sql<number>`sum(${costLedger.cacheWriteTokens})`,
      cacheReadTokens: sql<number>`sum(${costLedger.cacheReadTokens})`,
      costUsd: sql<number>`sum(${costLedger.costUsd})`,
    })
    .from(costLedger)
    .where(eq(costLedger.sessionId, sessionId))
    .groupBy(costLedger.model)
    .orderBy(asc(costLedger.model))
    .all();
}
