import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sessions } from "../sessions/tables.ts";

/**
 * The shape of a table of session-scoped tokens (see SessionTokens): each token good for one
 * session, stored only as SHA-256, deleted with its session. The model gateway and the MCP endpoint
 * each keep one, so a token of one is never taken by the other.
 */
export function sessionTokenTable<Name extends string>(name: Name) {
  return sqliteTable(
    name,
    {
      tokenHash: text("token_hash").primaryKey(),
      sessionId: text("session_id")
        .notNull()
        .references(() => sessions.id, { onDelete: "cascade" }),
      expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    },
    (t) => [index(`${name}_session_idx`).on(t.sessionId)],
  );
}

export type SessionTokenTable = ReturnType<typeof sessionTokenTable<string>>;
