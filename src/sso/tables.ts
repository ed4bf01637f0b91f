import { integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";

/**
 * The OpenID Connect providers people may sign in with. The id is part of the callback address
 * registered at the provider (/auth/sso/<id>/callback), so it never changes; the client secret is
 * sealed (see infra/secret-box). Lists are JSON arrays of text, scopes one space-separated line.
 */
export const ssoProviders = sqliteTable("sso_providers", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  issuer: text("issuer").notNull(),
  clientId: text("client_id").notNull(),
  clientSecret: text("client_secret").notNull(),
  scopes: text("scopes").notNull(),
  usernameClaim: text("username_claim").notNull(),
  groupsClaim: text("groups_claim"),
  adminGroup: text("admin_group"),
  allowedGroups: text("allowed_groups").notNull(),
  allowedDomains: text("allowed_domains").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * Who a provider's subject is in Pier: one person per (provider, subject), and at most one identity
 * per person at each provider. Made at a first sign-in or linked from the Tokens page.
 */
export const ssoIdentities = sqliteTable(
  "sso_identities",
  {
    providerId: text("provider_id")
      .notNull()
      .references(() => ssoProviders.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.subject] }), uniqueIndex("sso_identities_user_provider_idx").on(t.userId, t.providerId)],
);
