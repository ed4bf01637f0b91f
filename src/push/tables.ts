import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";

/**
 * Pier's own VAPID key pair (RFC 8292), made once: the public key is what browsers subscribe
 * with, the private one (sealed, see infra/secret-box) signs every push. One row, id "vapid".
 */
export const pushServerKeys = sqliteTable("push_server_keys", {
  id: text("id").primaryKey(),
  publicKey: text("public_key").notNull(),
  privateKey: text("private_key").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * A device of a person that takes Web Push: its browser's push subscription. The endpoint is the
 * push service's URL for that browser (one browser, one row, whoever saved it last); `keys` holds
 * the browser's p256dh key and auth secret, sealed. `pierUrl` is the address the person used Pier
 * at when subscribing, the contact each push's VAPID signature names.
 */
export const pushSubscriptions = sqliteTable(
  "push_subscriptions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    endpoint: text("endpoint").notNull().unique(),
    keys: text("keys").notNull(),
    name: text("name").notNull(),
    pierUrl: text("pier_url").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastPushAt: integer("last_push_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("push_subscriptions_user_idx").on(t.userId)],
);
