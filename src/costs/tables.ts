import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
