import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** USD per million tokens, per model: the price table, editable in settings. */
export const modelPrices = sqliteTable("model_prices", {
  model: text("model").primaryKey(),
  inputPerMTok: real("input_per_mtok").notNull(),
  outputPerMTok: real("output_per_mtok").notNull(),
  cacheWritePerMTok: real("cache_write_per_mtok").notNull(),
  cacheReadPerMTok: real("cache_read_per_mtok").notNull(),
});

/**
 * One row per model response: its tokens and what they cost, against a session (the chat) or a
 * task (its verification report). Rows are never changed or deleted with their session or task,
 * so spending stays on the books.
 */
export const costLedger = sqliteTable(
  "cost_ledger",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sessionId: text("session_id"),
    taskId: text("task_id"),
    userId: text("user_id").notNull(),
    repoId: text("repo_id"),
    model: text("model").notNull(),
    inputTokens: integer("input_tokens").notNull(),
    outputTokens: integer("output_tokens").notNull(),
    cacheWriteTokens: integer("cache_write_tokens").notNull(),
    cacheReadTokens: integer("cache_read_tokens").notNull(),
    costUsd: real("cost_usd").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("cost_ledger_session_idx").on(t.sessionId), index("cost_ledger_created_idx").on(t.createdAt)],
);

/** What the daily roll-up sums spending by, besides the day and the person. */
export const COST_DIMENSIONS = ["model", "repo", "task", "session"] as const;
export type CostDimension = (typeof COST_DIMENSIONS)[number];

/**
 * The ledger summed per UTC day, person and model (or repo, task, session): reports over weeks
 * read these instead of every response (bench/costs.ts). recordUsage adds to them in the ledger's
 * own transaction. A row with no repo, task or session has the key "", since NULLs never conflict
 * in a unique key and the sums would not meet.
 */
export const costDays = sqliteTable(
  "cost_days",
  {
    dimension: text("dimension", { enum: COST_DIMENSIONS }).notNull(),
    key: text("key").notNull(),
    /** Days since 1970-01-01, UTC. */
    day: integer("day").notNull(),
    userId: text("user_id").notNull(),
    /** How many ledger rows were summed here. */
    responses: integer("responses").notNull(),
    inputTokens: integer("input_tokens").notNull(),
    outputTokens: integer("output_tokens").notNull(),
    cacheWriteTokens: integer("cache_write_tokens").notNull(),
    cacheReadTokens: integer("cache_read_tokens").notNull(),
    costUsd: real("cost_usd").notNull(),
  },
  (t) => [
    // Day first: a short period reads only its own days.
    primaryKey({ columns: [t.dimension, t.day, t.key, t.userId] }),
    // Key first, with the sums beside it: a period covering much of the ledger is grouped as this
    // index is walked, never sorted and never reading the table (see spending.ts).
    index("cost_days_by_key_idx").on(t.dimension, t.key, t.day, t.userId, t.costUsd, t.inputTokens, t.outputTokens, t.cacheReadTokens, t.cacheWriteTokens),
  ],
);

/**
 * The ledger summed over all time per person and model (or repo, task, session), kept like
 * cost_days: a report whose period holds the whole ledger (any report without dates) reads one
 * row per key instead of one per key and day.
 */
export const costTotals = sqliteTable(
  "cost_totals",
  {
    dimension: text("dimension", { enum: COST_DIMENSIONS }).notNull(),
    key: text("key").notNull(),
    userId: text("user_id").notNull(),
    responses: integer("responses").notNull(),
    inputTokens: integer("input_tokens").notNull(),
    outputTokens: integer("output_tokens").notNull(),
    cacheWriteTokens: integer("cache_write_tokens").notNull(),
    cacheReadTokens: integer("cache_read_tokens").notNull(),
    costUsd: real("cost_usd").notNull(),
  },
  (t) => [primaryKey({ columns: [t.dimension, t.key, t.userId] })],
);

/**
 * Model responses under way whose usage has reached Pier (the stream's message_start, then its
 * message_delta) but that are not in the ledger yet. Each goes into the ledger when it ends, in
 * the transaction that removes it from here; one a killed server left behind is recorded at the
 * next start with what was seen of it. So usage that reached Pier is counted once, never lost.
 */
export const usageInFlight = sqliteTable("usage_in_flight", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  sessionId: text("session_id"),
  taskId: text("task_id"),
  userId: text("user_id").notNull(),
  repoId: text("repo_id"),
  model: text("model").notNull(),
  inputTokens: integer("input_tokens").notNull(),
  outputTokens: integer("output_tokens").notNull(),
  cacheWriteTokens: integer("cache_write_tokens").notNull(),
  cacheReadTokens: integer("cache_read_tokens").notNull(),
  startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
});
