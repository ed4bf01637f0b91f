import { eq } from "drizzle-orm";
import type { Db, Tx } from "../infra/db.ts";
import { type LedgerEntry, recordUsage } from "./costs.ts";
import { usageInFlight } from "./tables.ts";
import type { Usage } from "./usage.ts";

/** Who a response is charged to: a ledger entry without its model and usage, which the response tells. */
export type Payer = Omit<LedgerEntry, "model" | "usage">;

type AddToSession = (tx: Tx, sessionId: string, usd: number) => void;

/**
 * One streamed model response, metered as its usage reaches Pier: what it says it has used so
 * far is kept in usage_in_flight (a write when message_start comes, another at message_delta),
 * and once it ends it goes into the ledger in the transaction that removes it from there. A server
 * killed in between leaves the row, which the next start records (recordLeftoverUsage). So what
 * reached Pier is in the ledger exactly once: never lost to a kill, never counted twice.
 */
export class ResponseMeter {
  private id: number | null = null;
  private seen: { model: string; usage: Usage } | null = null;
  private done = false;

  constructor(
    private db: Db,
    private payer: Payer,
    private addToSession?: AddToSession,
    /** Told once the response is in the ledger (the budget gate looks whether it crossed a budget). */
    private recorded?: () => void,
  ) {}

  /** The response says it has used this much so far (its message_start, then its message_delta). */
  saw(model: string, usage: Usage): void {
    if (this.done) return;
    if (this.seen && this.seen.model === model && sameUsage(this.seen.usage, usage)) return;
    this.seen = { model, usage: { ...usage } };
    if (this.id === null) {
      const row = { ...this.payer, taskId: this.payer.taskId ?? null, model, ...usage, startedAt: new Date() };
      this.id = this.db.insert(usageInFlight).values(row).returning({ id: usageInFlight.id }).get().id;
    } else {
      this.db.update(usageInFlight).set({ model, ...usage }).where(eq(usageInFlight.id, this.id)).run();
    }
  }

  /**
   * The response ended: its usage goes into the ledger, once. `final` is what the finished
   * response said; without it (cut off, interrupted, failed) what was seen of it is recorded, and
   * nothing when nothing was. Returns the cost recorded.
   */
  finish(final?: { model: string; usage: Usage }): number {
    if (this.done) return 0;
    this.done = true;
    const used = final ?? this.seen;
    const id = this.id;
    const forget = (tx: Tx) => {
      if (id !== null) tx.delete(usageInFlight).where(eq(usageInFlight.id, id)).run();
    };
    if (!used) {
      if (id !== null) this.db.transaction(forget);
      return 0;
    }
    const costUsd = recordUsage(this.db, { ...this.payer, model: used.model, usage: used.usage }, this.addToSession, forget);
    this.recorded?.();
    return costUsd;
  }
}

/**
 * At start-up: the responses a killed server was metering go into the ledger with what had been
 * seen of them. A model no longer in the price table cannot be costed: said once, and let go.
 */
export function recordLeftoverUsage(db: Db, addToSession: AddToSession): number {
  const rows = db.select().from(usageInFlight).all();
  for (const row of rows) {
    const forget = (tx: Tx) => void tx.delete(usageInFlight).where(eq(usageInFlight.id, row.id)).run();
    const usage = { inputTokens: row.inputTokens, outputTokens: row.outputTokens, cacheWriteTokens: row.cacheWriteTokens, cacheReadTokens: row.cacheReadTokens };
    try {
      recordUsage(db, { sessionId: row.sessionId, taskId: row.taskId, userId: row.userId, repoId: row.repoId, model: row.model, usage }, addToSession, forget);
    } catch (error) {
      console.error(`[pier] a response cut off by the last stop could not be costed (${error instanceof Error ? error.message : String(error)}); its usage is left out.`);
      db.transaction(forget);
    }
  }
  return rows.length;
}

function sameUsage(a: Usage, b: Usage): boolean {
  return a.inputTokens === b.inputTokens && a.outputTokens === b.outputTokens && a.cacheWriteTokens === b.cacheWriteTokens && a.cacheReadTokens === b.cacheReadTokens;
}
