import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";
import { CHAT_ENGINES } from "../sessions/tables.ts";
import { tasks } from "../tasks/tables.ts";

/**
 * Where a run stands (see API.md, "Runs"): queued for a slot, its agent working or fixing, waiting
 * on CI, review or a person's approval, or over: done, stopped (by a person or its budget), failed.
 */
export const RUN_STATES = ["queued", "working", "waiting_ci", "fixing", "waiting_review", "awaiting_approval", "done", "stopped", "failed"] as const;
export type RunState = (typeof RUN_STATES)[number];
/** A run in one of these holds a slot of maxConcurrentRuns: its agent is at work. */
export const WORKING_RUN_STATES: RunState[] = ["working", "fixing"];
/** A run in one of these is over and never moves again. */
export const FINAL_RUN_STATES: RunState[] = ["done", "stopped", "failed"];

/** What a fix round answered: failing CI, a review asking for changes, a conflict with the base, a person's feedback. */
export const ROUND_KINDS = ["ci", "review", "conflict", "feedback"] as const;
export type RoundKind = (typeof ROUND_KINDS)[number];
export interface Round {
  kind: RoundKind;
  /** ISO time the round began. */
  at: string;
  /** One line: what the agent was given (check names, reviewer, base branch). */
  summary: string;
  /** The pull request's head the round answered (ci, conflict rounds). */
  headSha?: string;
  /** The reviews the round answered (review rounds), so each is answered once. */
  reviewIds?: number[];
}

/** One attempt of unattended work on a task: a session of its own, on its own branch, with its own pull request. */
export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    repoId: text("repo_id")
      .notNull()
      .references(() => repos.id, { onDelete: "cascade" }),
    /** Whom the run acts for: the person who started it, or its trigger's owner. */
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Its session, once a slot let it start. */
    sessionId: text("session_id"),
    /** 1-based, among the attempts started together. */
    attempt: integer("attempt").notNull(),
    /** The attempts started together share it, so they can be compared and one picked. */
    batchId: text("batch_id").notNull(),
    engine: text("engine", { enum: CHAT_ENGINES }).notNull(),
    model: text("model"),
    /** An ACP agent's name, for the ACP engine (a later issue); null otherwise. */
    agent: text("agent"),
    state: text("state", { enum: RUN_STATES }).notNull(),
    /** Why it stopped ("person", "budget") or failed (a sentence). */
    reason: text("reason"),
    /** JSON: Round[], oldest first. */
    rounds: text("rounds").notNull().default("[]"),
    prNumber: integer("pr_number"),
    prUrl: text("pr_url"),
    budgetUsd: real("budget_usd").notNull(),
    autoMerge: integer("auto_merge", { mode: "boolean" }).notNull(),
    /** Its PR loop is paused by a person: CI and reviews are not answered until resumed. */
    paused: integer("paused", { mode: "boolean" }).notNull().default(false),
    triggerId: text("trigger_id"),
    /**
     * The task's description as its trigger wrote it (the owner's template, each outside value a
     * block quoted once): Pier's own text, which no member can edit, so while the task still says
     * this its blocks are known to be Pier's and reach the agent as they are.
     */
    brief: text("brief"),
    /**
     * Since when the run waits for a slot to start a round (a fix round, or a person's feedback):
     * it keeps its waiting state meanwhile, and takes its turn with the queued runs by this time.
     */
    slotWantedAt: integer("slot_wanted_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("runs_task_idx").on(t.taskId),
    index("runs_state_idx").on(t.state),
    index("runs_created_idx").on(t.createdAt, t.id),
    index("runs_session_idx").on(t.sessionId),
  ],
);
