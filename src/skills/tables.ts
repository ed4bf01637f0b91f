import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";

export const SKILL_CATEGORIES = ["coding", "testing", "deployment", "documentation", "workflow"] as const;
export type SkillCategory = (typeof SKILL_CATEGORIES)[number];

export const SKILL_POLICY_MODES = ["inherit", "custom"] as const;
export type SkillPolicyMode = (typeof SKILL_POLICY_MODES)[number];

/**
 * A skill: Markdown instructions the agent loads when they fit the work, written into every
 * session's worktree as .claude/skills/<name>/SKILL.md. Global (no repo) or one repo's own; a
 * name is unique within its scope.
 */
export const skills = sqliteTable(
  "skills",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    category: text("category", { enum: SKILL_CATEGORIES }).notNull(),
    content: text("content").notNull(),
    /** Set when given (an import keeps its front matter's); else taken from the content's first heading or line. */
    description: text("description"),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    repoId: text("repo_id").references(() => repos.id, { onDelete: "cascade" }),
    /** The repo id, or '' for a global skill: SQLite counts NULLs as distinct, so names are unique per scope through this. */
    scope: text("scope")
      .notNull()
      .generatedAlwaysAs(sql`coalesce(repo_id, '')`, { mode: "virtual" }),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("skills_scope_name_idx").on(t.scope, t.name)],
);

/** A repo's skill policy; a repo without a row inherits the enabled global skills. */
export const repoSkillPolicies = sqliteTable("repo_skill_policies", {
  repoId: text("repo_id")
    .primaryKey()
    .references(() => repos.id, { onDelete: "cascade" }),
  mode: text("mode", { enum: SKILL_POLICY_MODES }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/** Under a custom policy, a repo's own on/off for a global skill (one without a row follows the skill's own enabled). */
export const repoSkillChoices = sqliteTable(
  "repo_skill_choices",
  {
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id, { onDelete: "cascade" }),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.repoId, t.skillId] })],
);

export const PROPOSAL_STATES = ["pending", "accepted", "declined"] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];

/**
 * A skill the agent proposed in a session: a new one, or new content for the one of that name
 * the session has. It waits for an admin to accept or decline it; the agent never changes a skill.
 */
export const skillProposals = sqliteTable(
  "skill_proposals",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id").notNull(),
    /** The session's person, who sees their pending proposals. */
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    /** The scope a new skill goes to: the session's repo, or null for global. */
    repoId: text("repo_id").references(() => repos.id, { onDelete: "cascade" }),
    /** The skill it would change, when the session had one of that name. */
    skillId: text("skill_id").references(() => skills.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    category: text("category", { enum: SKILL_CATEGORIES }).notNull(),
    content: text("content").notNull(),
    description: text("description"),
    /** Why the agent proposes it, in its words. */
    reason: text("reason"),
    state: text("state", { enum: PROPOSAL_STATES }).notNull(),
    decidedBy: text("decided_by").references(() => users.id, { onDelete: "set null" }),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("skill_proposals_state_idx").on(t.state)],
);
