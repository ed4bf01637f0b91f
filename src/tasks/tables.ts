import { type AnySQLiteColumn, index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "../auth/tables.ts";
import { repos } from "../repos/tables.ts";

export const TASK_STATUSES = ["todo", "in_progress", "awaiting_approval", "done"] as const;
export const TASK_PRIORITIES = ["low", "medium", "high", "urgent"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

/** A unit of work with a status workflow; sessions link to tasks, subtasks to their parent. */
export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    /** Markdown; sanitised whenever it is shown. */
    description: text("description").notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    priority: text("priority", { enum: TASK_PRIORITIES }).notNull(),
    /** A calendar day, YYYY-MM-DD. */
    dueDate: text("due_date"),
    parentId: text("parent_id").references((): AnySQLiteColumn => tasks.id, { onDelete: "cascade" }),
    /** Its place within its status column (smaller first). */
    sortOrder: real("sort_order").notNull(),
    repoId: text("repo_id").references(() => repos.id, { onDelete: "set null" }),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("tasks_status_idx").on(t.status), index("tasks_parent_idx").on(t.parentId)],
);

/** The timeline of a task: notes by people and by the agent (which names its session). */
export const taskNotes = sqliteTable(
  "task_notes",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    author: text("author", { enum: ["user", "agent"] }).notNull(),
    /** "feedback" when a person sent the task back with it (see Tasks.reject), "note" otherwise. */
    kind: text("kind", { enum: ["note", "feedback"] }).notNull().default("note"),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    sessionId: text("session_id"),
    body: text("body").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("task_notes_task_idx").on(t.taskId)],
);

/**
 * The AI verification report of a task (the latest), written when it moves to awaiting_approval.
 * It holds its sessions' diffs, chat and terminal, so it keeps which sessions it drew from: only
 * those who may see all of them may read it.
 */
export const taskVerifications = sqliteTable("task_verifications", {
  taskId: text("task_id")
    .primaryKey()
    .references(() => tasks.id, { onDelete: "cascade" }),
  status: text("status", { enum: ["pending", "ready", "failed"] }).notNull(),
  markdown: text("markdown"),
  error: text("error"),
  startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
  finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  /** The ids of the sessions it drew from, as a JSON array; null for a report written before Pier kept them (admins only). */
  sessionIds: text("session_ids"),
});
