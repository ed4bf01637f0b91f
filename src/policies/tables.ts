import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";
import { sessions } from "../sessions/tables.ts";

export const TOOL_POLICY_MODES = ["allow_all", "deny_all", "custom"] as const;
export type ToolPolicyMode = (typeof TOOL_POLICY_MODES)[number];

/** A policy's columns: its mode and three lists of tool names (JSON arrays of strings). */
const policyColumns = () => ({
  mode: text("mode", { enum: TOOL_POLICY_MODES }).notNull(),
  allowed: text("allowed").notNull(),
  denied: text("denied").notNull(),
  ask: text("ask").notNull(),
  updatedBy: text("updated_by").references(() => users.id, { onDelete: "set null" }),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * The instance's tool policy: at most one row (id 1). Without it, every tool is allowed, as on a
 * fresh install.
 */
export const globalToolPolicy = sqliteTable("global_tool_policy", {
  id: integer("id").primaryKey(),
  ...policyColumns(),
});

/** A repo's own tool policy, which replaces the global one in its sessions; no row inherits. */
export const repoToolPolicies = sqliteTable("repo_tool_policies", {
  repoId: text("repo_id")
    .primaryKey()
    .references(() => repos.id, { onDelete: "cascade" }),
  ...policyColumns(),
});

/**
 * Tools a person allowed "for this session" when asked: the session's agent is not asked about
 * them again (a policy that denies them still wins). Kept so that a restart keeps them.
 */
export const sessionToolGrants = sqliteTable(
  "session_tool_grants",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    tool: text("tool").notNull(),
    grantedBy: text("granted_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.tool] })],
);
