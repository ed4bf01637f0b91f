import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const AUDIT_ACTOR_KINDS = ["person", "agent", "trigger", "system"] as const;
export type AuditActorKind = (typeof AUDIT_ACTOR_KINDS)[number];

/**
 * The audit log: one row per thing that matters for trust, written once and never changed, only
 * dropped after `auditRetentionDays`. No foreign keys: an entry outlives the person, session,
 * trigger or repository it names, so the names are kept as they were then. Nothing secret is ever
 * written here (which key changed, never its value).
 */
export const auditEntries = sqliteTable(
  "audit_entries",
  {
    id: text("id").primaryKey(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    actorKind: text("actor_kind", { enum: AUDIT_ACTOR_KINDS }).notNull(),
    /** The person's id, the agent's session id, the trigger's id; null for Pier itself, or a refused sign-in under no known username. */
    actorId: text("actor_id"),
    actorName: text("actor_name"),
    action: text("action").notNull(),
    targetKind: text("target_kind"),
    targetId: text("target_id"),
    targetName: text("target_name"),
    /** A few words more (which way someone signed in, why a firing was refused): never a value of a secret. */
    detail: text("detail"),
    /** The client's address, where the action came over HTTP. */
    address: text("address"),
  },
  (t) => [
    // Newest first, a keyset page at a time, filtered by actor or action.
    index("audit_entries_at_idx").on(t.at, t.id),
    index("audit_entries_actor_idx").on(t.actorId, t.at),
    index("audit_entries_action_idx").on(t.action, t.at),
  ],
);
