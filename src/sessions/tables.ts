import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";

export type SessionState = "provisioning" | "active" | "ended" | "failed";
/** The states of a live session: its worktree is being made or is there to work in. */
export const LIVE_STATES: SessionState[] = ["provisioning", "active"];
/** What answers a session's chat: Pier's own agent, Claude Code running in the pod, or a coding agent spoken to over ACP (see `agent`). */
export const CHAT_ENGINES = ["pier", "claude-code", "acp"] as const;
export type ChatEngineName = (typeof CHAT_ENGINES)[number];
/** Why a session needs its person now (see the session object in API.md). */
export const SESSION_ATTENTION = ["turn_end", "approval", "bell", "quiet", "feedback", "sign_in", "disk", "budget"] as const;
export type SessionAttention = (typeof SESSION_ATTENTION)[number];

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    taskId: text("task_id"),
    title: text("title").notNull(),
    branch: text("branch").notNull(),
    /** True when Pier made the branch for this session (pier/<user>/<id>). */
    createdBranch: integer("created_branch", { mode: "boolean" }).notNull(),
    /** The remote branch the session's work is compared against, e.g. origin/main. */
    baseRef: text("base_ref").notNull(),
    /** Where baseRef pointed when the worktree was made. */
    baseSha: text("base_sha"),
    worktreePath: text("worktree_path").notNull(),
    state: text("state", { enum: ["provisioning", "active", "ended", "failed"] }).notNull(),
    /** The step provisioning is on, for pages opened mid-way. */
    step: text("step"),
    error: text("error"),
    podId: text("pod_id"),
    /** The chat agent's model for this session; null means the default from settings. */
    model: text("model"),
    /** Which engine answers the chat; chosen when the session starts. */
    engine: text("engine", { enum: CHAT_ENGINES }).notNull().default("pier"),
    /**
     * Claude Code's own session id (engine claude-code), once its conversation is saved in the pod:
     * every later Claude Code process of the session resumes it, so the chat keeps its memory.
     */
    claudeSessionId: text("claude_session_id"),
    /** The agent (an id of /api/config/agents) the ACP engine runs; null for the other engines. */
    agent: text("agent"),
    /**
     * The agent's own ACP session id (engine acp), once it has one: a later process of the
     * session loads it where the agent can, so the conversation goes on.
     */
    acpSessionId: text("acp_session_id"),
    costUsd: real("cost_usd").notNull().default(0),
    /** Why the session needs its person now, or null: "approval" while its agent waits for one. */
    attention: text("attention", { enum: SESSION_ATTENTION }),
    /** "run" when an unattended run started it (runId says which), "person" otherwise. */
    origin: text("origin", { enum: ["person", "run"] }).notNull().default("person"),
    runId: text("run_id"),
    /** The commit that saved uncommitted work when the session ended, if there was any. */
    savedCommit: text("saved_commit"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("sessions_repo_idx").on(t.repoId),
    index("sessions_user_idx").on(t.userId),
    // The history pages newest first by (created_at, id), for everyone (admins) or one person.
    index("sessions_created_idx").on(t.createdAt, t.id),
    index("sessions_user_created_idx").on(t.userId, t.createdAt, t.id),
    // A branch can be checked out by one live session at a time (git allows one worktree per branch).
    uniqueIndex("sessions_live_branch_idx")
      .on(t.repoId, t.branch)
      .where(sql`state IN ('provisioning', 'active')`),
  ],
);
