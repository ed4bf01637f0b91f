import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";
import { CHAT_ENGINES } from "../sessions/tables.ts";

export const TRIGGER_KINDS = ["schedule", "github_issue", "webhook"] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** What starts runs without a person at the keyboard: a schedule, a GitHub issue, a webhook (see API.md, "Triggers"). */
export const triggers = sqliteTable("triggers", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: TRIGGER_KINDS }).notNull(),
  name: text("name").notNull(),
  repoId: text("repo_id")
    .notNull()
    .references(() => repos.id, { onDelete: "cascade" }),
  /** Whose credentials its runs use, and who may change it (with the admins). */
  ownerId: text("owner_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  promptTemplate: text("prompt_template").notNull(),
  cron: text("cron"),
  label: text("label"),
  mention: text("mention"),
  /** JSON: the GitHub logins whose comments may start runs. */
  allowedLogins: text("allowed_logins").notNull().default("[]"),
  engine: text("engine", { enum: CHAT_ENGINES }),
  model: text("model"),
  budgetUsd: real("budget_usd"),
  dailyBudgetUsd: real("daily_budget_usd"),
  maxConcurrent: integer("max_concurrent"),
  /** SHA-256 of a webhook trigger's secret (hex); the secret itself is shown once. */
  secretHash: text("secret_hash"),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  /** A schedule's last firing, so firings missed while Pier was down run once at start. */
  lastFiredAt: integer("last_fired_at", { mode: "timestamp_ms" }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** Each time a trigger fired: the run it started, or why it was refused (never a silent drop). */
export const triggerFirings = sqliteTable(
  "trigger_firings",
  {
    id: text("id").primaryKey(),
    triggerId: text("trigger_id")
      .notNull()
      .references(() => triggers.id, { onDelete: "cascade" }),
    outcome: text("outcome", { enum: ["started", "refused"] }).notNull(),
    reason: text("reason"),
    runId: text("run_id"),
    /** The GitHub issue a github_issue trigger fired for: Pier comments there when the run's PR opens and when it ends. */
    issueNumber: integer("issue_number"),
    /** What Pier has said on that issue already, so a restart does not say it twice. */
    prTold: integer("pr_told", { mode: "boolean" }).notNull().default(false),
    outcomeTold: integer("outcome_told", { mode: "boolean" }).notNull().default(false),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("trigger_firings_trigger_idx").on(t.triggerId, t.at)],
);
