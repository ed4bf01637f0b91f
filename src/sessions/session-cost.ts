import { eq, sql } from "drizzle-orm";
import type { Db, Tx } from "../infra/db.ts";
import { sessions } from "./tables.ts";

/** Adds a model response's cost to the session; runs inside the cost ledger's transaction. */
export function addSessionCost(tx: Tx, sessionId: string, usd: number): void {
  tx.update(sessions)
    .set({ costUsd: sql`${sessions.costUsd} + ${usd}` })
    .where(eq(sessions.id, sessionId))
    .run();
}

/** What the session has cost so far (read inside a transaction that may be adding to it, or outside one). */
export function sessionCostOf(db: Db | Tx, sessionId: string): number {
  return db.select({ costUsd: sessions.costUsd }).from(sessions).where(eq(sessions.id, sessionId)).get()?.costUsd ?? 0;
}
