import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { repos } from "../repos/tables.ts";
import { sessions } from "../sessions/tables.ts";

/** A pull request of a repo, as GitHub last described it. Kept once, however many sessions it belongs to. */
export const pullRequests = sqliteTable(
  "pull_requests",
  {
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    url: text("url").notNull(),
    title: text("title").notNull(),
    state: text("state", { enum: ["open", "draft", "merged", "closed"] }).notNull(),
    headBranch: text("head_branch").notNull(),
    headSha: text("head_sha").notNull(),
    baseBranch: text("base_branch").notNull(),
    ciStatus: text("ci_status", { enum: ["none", "pending", "passing", "failing"] }).notNull(),
    checksPassed: integer("checks_passed").notNull(),
    checksFailed: integer("checks_failed").notNull(),
    checksPending: integer("checks_pending").notNull(),
    failingCheckUrl: text("failing_check_url"),
    reviewStatus: text("review_status", { enum: ["none", "review_required", "approved", "changes_requested"] }).notNull(),
    mergeable: integer("mergeable", { mode: "boolean" }),
    /** When GitHub last changed it. */
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    /** When Pier last asked GitHub about it (the poller's clock). */
    checkedAt: integer("checked_at", { mode: "timestamp_ms" }),
  },
  (t) => [primaryKey({ columns: [t.repoId, t.number] })],
);

/** Which sessions a pull request belongs to, and how Pier found out. */
export const sessionPullRequests = sqliteTable(
  "session_pull_requests",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    repoId: text("repo_id").notNull(),
    number: integer("number").notNull(),
    foundBy: text("found_by", { enum: ["terminal", "chat", "branch", "webhook", "manual", "opened"] }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.number] })],
);

/** The branches a session worked on (its own, and any checked out in its worktree), for finding its PRs. */
export const sessionBranches = sqliteTable(
  "session_branches",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    branch: text("branch").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.branch] })],
);
