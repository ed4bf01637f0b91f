import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";

export const repos = sqliteTable("repos", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  url: text("url").notNull(),
  defaultBranch: text("default_branch").notNull(),
  image: text("image"),
  /** Run when a session's terminal starts (for example `claude`); a shell remains when it exits. */
  terminalCommand: text("terminal_command"),
  /** "owner/name" on the GitHub of GITHUB_API_URL, for pull requests; null when not on GitHub. */
  githubRepo: text("github_repo"),
  /** Its runs working at once, within the instance's maxConcurrentRuns; null: only the instance's limit. */
  maxConcurrentRuns: integer("max_concurrent_runs"),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});
