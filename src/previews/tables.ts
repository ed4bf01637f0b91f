import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { sessions } from "../sessions/tables.ts";

/**
 * Public links to a session's preview (see API.md, "Previews"): whoever holds one sees that port
 * of that session, signed out, until it expires or is revoked. One live link per session and port;
 * making another revokes the one before.
 */
export const previewShares = sqliteTable(
  "preview_shares",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    port: integer("port").notNull(),
    /** SHA-256 of the link's token (hex), as sign-ins store theirs; the token is shown once. */
    tokenHash: text("token_hash").notNull().unique(),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("preview_shares_session_port").on(table.sessionId, table.port)],
);
