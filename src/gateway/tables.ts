import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sessions } from "../sessions/tables.ts";

/**
 * Tokens for Pier's model gateway, each good for one session's model requests (Claude Code in its
 * pod asks for one as it starts, and is handed the same one while it has hours left), stored only
 * as SHA-256. All of a session's go when it ends or fails, the gateway takes none for a session
 * that is not live, and expired ones are deleted by a job.
 */
export const gatewayTokens = sqliteTable(
  "gateway_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("gateway_tokens_session_idx").on(t.sessionId)],
);
