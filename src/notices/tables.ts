import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";

/**
 * The notices a person dismissed, one row per notice. `fingerprint` is the hash of the words the
 * notice said when it was dismissed: once a notice says something new, the row no longer matches
 * and the notice shows again.
 */
export const dismissedNotices = sqliteTable(
  "dismissed_notices",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    notice: text("notice").notNull(),
    fingerprint: text("fingerprint").notNull(),
    dismissedAt: integer("dismissed_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.notice] })],
);
