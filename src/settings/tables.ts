import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per setting. Secret settings hold a sealed value (see infra/secret-box). */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});
