import { type Static, Type } from "@sinclair/typebox";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import { requiredText } from "../infra/input.ts";
import { isModelId } from "../settings/model-id.ts";
import { and, asc, desc, eq, gt, sql } from "drizzle-orm";
import type { Db, Tx } from "../infra/db.ts";
import { AppError, invalid } from "../infra/errors.ts";
import { addToRollups } from "./cost-rollups.ts";
import type { Price } from "./price.ts";
import { costLedger, modelPrices } from "./tables.ts";
import type { Usage } from "./usage.ts";

export function listPrices(db: Db): Price[] {
  return db.select().from(modelPrices).orderBy(asc(modelPrices.model)).all();
}

export function priceOf(db: Db, model: string): Price | null {
  return db.select().from(modelPrices).where(eq(modelPrices.model, model)).get() ?? null;
}

/** What a response's usage costs at a model's prices, in USD. */
export function costOf(price: Price, usage: Usage): number {
  return (
    (usage.inputTokens * price.inputPerMTok +
      usage.outputTokens * price.outputPerMTok +
      usage.cacheWriteTokens * price.cacheWritePerMTok +
      usage.cacheReadTokens * price.cacheReadPerMTok) /
    1_000_000
  );
}

const PRICE_FIELDS = ["inputPerMTok", "outputPerMTok", "cacheWritePerMTok", "cacheReadPerMTok"] as const;
const MODEL_ERROR = "Model must be a model id such as claude-sonnet-4-6.";
const priceError = (field: string) => `${field} must be a price in USD per million tokens, from 0 to 10000.`;

const priceField = (field: string) => Type.Union([Type.Number(), Type.String()], { title: field, error: priceError(field) });

/** A model and its prices in USD per million tokens (numbers, or text from a form). */
export const PriceInput = Type.Object({
  model: requiredText("Model", { error: MODEL_ERROR }),
  inputPerMTok: priceField("inputPerMTok"),
  outputPerMTok: priceField("outputPerMTok"),
  cacheWritePerMTok: priceField("cacheWritePerMTok"),
  cacheReadPerMTok: priceField("cacheReadPerMTok"),
});
export type PriceInput = Static<typeof PriceInput>;

/** An admin adds or changes a model's prices. */
export function setPrice(db: Db, actor: Actor, input: PriceInput): Price {
  assertAdmin(actor);
  const model = input.model;
  if (!isModelId(model)) throw invalid("model", MODEL_ERROR);
  const price = { model } as Price;
  for (const field of PRICE_FIELDS) {
    const value = Number(input[field]);
    if (input[field] === "" || !Number.isFinite(value) || value < 0 || value > 10_000) {
      throw invalid(field, priceError(field));
    }
    price[field] = value;
  }
  db.insert(modelPrices).values(price).onConflictDoUpdate({ target: modelPrices.model, set: price }).run();
  return price;
}

export interface LedgerEntry {
  /** The session whose chat spent it, or null for a task's verification report. */
  sessionId: string | null;
  taskId?: string | null;
  userId: string;
  repoId: string | null;
  model: string;
  usage: Usage;
}

/**
 * Records one model response's usage and, for a session's, adds its cost to the session in the
 * same transaction, so the ledger, its roll-ups and the session's total never disagree.
 * `addToSession` is the sessions module's own update; `alsoInTransaction` anything that must be
 * written with the row or not at all (see usage-in-flight.ts). Returns the response's cost.
 */
export function recordUsage(db: Db, entry: LedgerEntry, addToSession?: (tx: Tx, sessionId: string, usd: number) => void, alsoInTransaction?: (tx: Tx) => void): number {
  const price = priceOf(db, entry.model);
  if (!price) throw new AppError(400, "unknown_model", `The model ${entry.model} is not in the price table; add it in settings.`);
  const costUsd = costOf(price, entry.usage);
  const row = {
    sessionId: entry.sessionId,
    taskId: entry.taskId ?? null,
    userId: entry.userId,
    repoId: entry.repoId,
    model: entry.model,
    ...entry.usage,
    costUsd,
    createdAt: new Date(),
  };
  db.transaction((tx) => {
    tx.insert(costLedger).values(row).run();
    addToRollups(tx, row);
    if (entry.sessionId && addToSession) addToSession(tx, entry.sessionId, costUsd);
    alsoInTransaction?.(tx);
  });
  return costUsd;
}

/** Where the ledger stands now: rows recorded later have a greater id (see spentSince). */
export function ledgerMark(db: Db): number {
  return db.select({ id: sql<number | null>`max(${costLedger.id})` }).from(costLedger).get()?.id ?? 0;
}

/**
 * What a session spent since `mark`: every model response recorded against it since, whoever
 * recorded it (the chat engine itself, or Pier's gateway for Claude Code's requests).
 */
export function spentSince(db: Db | Tx, sessionId: string, mark: number): { usage: Usage; costUsd: number } {
  const row = db
    .select({
      input: sql<number>`coalesce(sum(${costLedger.inputTokens}), 0)`,
      output: sql<number>`coalesce(sum(${costLedger.outputTokens}), 0)`,
      write: sql<number>`coalesce(sum(${costLedger.cacheWriteTokens}), 0)`,
      read: sql<number>`coalesce(sum(${costLedger.cacheReadTokens}), 0)`,
      cost: sql<number>`coalesce(sum(${costLedger.costUsd}), 0)`,
    })
    .from(costLedger)
    .where(and(eq(costLedger.sessionId, sessionId), gt(costLedger.id, mark)))
    .get();
  return {
    usage: { inputTokens: row?.input ?? 0, outputTokens: row?.output ?? 0, cacheWriteTokens: row?.write ?? 0, cacheReadTokens: row?.read ?? 0 },
    costUsd: row?.cost ?? 0,
  };
}

/** How big the session's last prompt was, in tokens (cached or not): how full the model's window is. */
export function lastPromptTokens(db: Db, sessionId: string): number {
  const row = db
    .select({ input: costLedger.inputTokens, read: costLedger.cacheReadTokens, write: costLedger.cacheWriteTokens })
    .from(costLedger)
    .where(eq(costLedger.sessionId, sessionId))
    .orderBy(desc(costLedger.id))
    .get();
  return row ? row.input + row.read + row.write : 0;
}
