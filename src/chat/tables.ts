import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sessions } from "../sessions/tables.ts";

/**
 * A session's conversation, one row per item as it happens (user message, model text, tool call,
 * tool result, end of turn, error). The model's message list is rebuilt from these rows, so the
 * conversation survives reconnects and restarts with nothing held only in memory.
 */
export const chatItems = sqliteTable(
  "chat_items",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    /** The item as JSON (see ChatItem in protocol.ts). */
    data: text("data").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("chat_items_session_idx").on(t.sessionId, t.id)],
);

/**
 * A turn under way, one row per session while it runs: where the cost ledger stood when it began
 * and the model text streamed since the last finished block. A turn that ends removes its row; a
 * row found at start-up is a turn the server was killed in the middle of, closed then as
 * interrupted (see closeCutOffTurns), with that text and the usage recorded meanwhile.
 */
export const openTurns = sqliteTable("open_turns", {
  sessionId: text("session_id")
    .primaryKey()
    .references(() => sessions.id, { onDelete: "cascade" }),
  ledgerMark: integer("ledger_mark").notNull(),
  draft: text("draft").notNull().default(""),
  startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
});
