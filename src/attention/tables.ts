import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";

/**
 * A person's outgoing webhook for "needs you": where Pier posts when one of their sessions needs
 * them. The URL is sealed (incoming-hook URLs carry their own secret); `pierUrl` is the address
 * they use Pier at, for the link in each message.
 */
export const attentionWebhooks = sqliteTable("attention_webhooks", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  url: text("url").notNull(),
  pierUrl: text("pier_url").notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});
