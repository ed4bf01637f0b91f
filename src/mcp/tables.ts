import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sessions } from "../sessions/tables.ts";

/**
 * Bearer tokens for Pier's MCP endpoint, one or more per session (asked for by Claude Code in the
 * pod when it connects, and handed the same one while it has hours left), stored only as SHA-256.
 * They reach only their session's task, all of a session's go when it ends or fails, and expired
 * ones are deleted by a job.
 */
export const mcpTokens = sqliteTable(
  "mcp_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("mcp_tokens_session_idx").on(t.sessionId)],
);
