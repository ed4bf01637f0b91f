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
  /** Which devcontainer.json of the repo its pods are made from, when it has several; null: the first found. */
  devcontainerPath: text("devcontainer_path"),
  /** Run in each new worktree before its terminal and chat start (for example `npm ci`). */
  setupScript: text("setup_script"),
  /** Run in a session's worktree before the session ends. */
  cleanupScript: text("cleanup_script"),
  /** Each person's pod of the repo is built and started ahead, so a first session starts warm. */
  warmPods: integer("warm_pods", { mode: "boolean" }).notNull().default(false),
  /** The Docker engine its pods are placed on (an engine's id); null: placed by labels and room. */
  dockerEngine: text("docker_engine"),
  /** Labels (a JSON array of text) an engine must all have to take its pods. */
  dockerEngineLabels: text("docker_engine_labels").notNull().default("[]"),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});
