import { type Static, Type } from "@sinclair/typebox";
import { and, asc, count, desc, eq, inArray, max, type SQL } from "drizzle-orm";
import { type Actor, isAdmin } from "../auth/actor.ts";
import { findUser } from "../auth/users.ts";
import type { Db, Tx } from "../infra/db.ts";
import { AppError, forbidden, invalid, notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { newId } from "../infra/ids.ts";
import { NO_CONTROL_CHARS, optionalText, readField, requiredText } from "../infra/input.ts";
import { getRepo } from "../repos/repos.ts";
import { maySeeTask, visibleTasks } from "./task-scope.ts";
import { TASK_PRIORITIES, TASK_STATUSES, type TaskPriority, type TaskStatus, taskNotes, tasks } from "./tables.ts";

type Row = typeof tasks.$inferSelect;
type NoteRow = typeof taskNotes.$inferSelect;

/** A task as the API and pages show it. */
export interface PublicTask {
  id: string;
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  dueDate: string | null;
  parentId: string | null;
  order: number;
  repoId: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  /** Its subtasks' progress (done of all), for a parent. */
  subtasks: { done: number; total: number };
}

export interface PublicNote {
  id: string;
  taskId: string;
  author: "user" | "agent";
  /** "feedback": a person sent the task back to work with it (the reject's note). */
  kind: "note" | "feedback";
  userId: string | null;
  sessionId: string | null;
  body: string;
  createdAt: string;
}

declare module "../infra/events.ts" {
  interface PierEvents {
    /**
     * A task was created, changed, moved or deleted (topic: the task id). `from` is its status
     * before a move, and `by` who moved it: a task entering awaiting_approval gets its verification
     * report this way, asked for by the one who moved it.
     */
    "task.updated": { task: PublicTask | null; taskId: string; from?: TaskStatus; by?: Actor };
    /**
     * A person sent a task back to work with feedback, kept as `note` (topic: the task id). It is
     * their words: it reaches the agent of a session linked to the task only as the session's
     * own person decides (see src/tasks/feedback.ts).
     */
    "task.rejected": { task: PublicTask; note: PublicNote };
  }
}

/**
 * The workflow: todo → in_progress → awaiting_approval → done, and back from awaiting_approval to
 * in_progress when a person rejects the work. Anything else is refused.
 */
const MOVES: Record<TaskStatus, TaskStatus[]> = {
  todo: ["in_progress"],
  in_progress: ["awaiting_approval"],
  awaiting_approval: ["done", "in_progress"],
  done: [],
};

export function canMove(from: TaskStatus, to: TaskStatus): boolean {
  return MOVES[from].includes(to);
}

const MAX_TITLE = 200;
const MAX_DESCRIPTION = 100_000;
const MAX_NOTE = 20_000;
const DAY = "^(\\d{4}-\\d{2}-\\d{2})?$";

const TITLE_RULE = { trim: true, minLength: 1, maxLength: MAX_TITLE, pattern: NO_CONTROL_CHARS, rule: `Title must be 1–${MAX_TITLE} characters without control characters.` };
const DESCRIPTION_RULE = { maxLength: MAX_DESCRIPTION, rule: `Description must be at most ${MAX_DESCRIPTION} characters.` };
const NOTE_RULE = { trim: true, maxLength: MAX_NOTE, rule: `A note must be 1–${MAX_NOTE} characters.` };

const status = Type.Optional(Type.Union(TASK_STATUSES.map((s) => Type.Literal(s)), { title: "Status", error: `Status must be one of ${TASK_STATUSES.join(", ")}.` }));
const priority = Type.Optional(Type.Union(TASK_PRIORITIES.map((p) => Type.Literal(p)), { title: "Priority", error: `Priority must be one of ${TASK_PRIORITIES.join(", ")}.` }));
const dueDate = optionalText("Due date", { description: "A calendar day, YYYY-MM-DD; empty clears it.", pattern: DAY, rule: "Due date must be a day, YYYY-MM-DD." });
const order = Type.Optional(Type.Number({ title: "Order", error: "Order must be a number." }));

export const NewTaskInput = Type.Object({
  title: requiredText("Title", TITLE_RULE),
  description: optionalText("Description", { description: "Markdown.", ...DESCRIPTION_RULE }),
  priority,
  dueDate,
  parentId: optionalText("Parent task"),
  repoId: optionalText("Repository"),
});
export type NewTaskInput = Static<typeof NewTaskInput>;

export const TaskChangesInput = Type.Object({
  title: optionalText("Title", TITLE_RULE),
  description: optionalText("Description", DESCRIPTION_RULE),
  status,
  priority,
  dueDate,
  order,
});
export type TaskChangesInput = Static<typeof TaskChangesInput>;

export const NoteInput = Type.Object({ body: requiredText("Note", NOTE_RULE) });
export type NoteInput = Static<typeof NoteInput>;

/**
 * The feedback is kept as a note, and the domain reads it by the note's rule, whose refusal has
 * always named the note's field (invalid_body), so that rule is not repeated here.
 */
export const RejectInput = Type.Object({ feedback: requiredText("Feedback") });
export type RejectInput = Static<typeof RejectInput>;

export interface TaskDeps {
  db: Db;
  bus: EventBus;
  /** The task linked to a session, if any (the sessions module owns the link). */
  linkedTaskOf(sessionId: string): string | null;
}

/**
 * Tasks: the team's board. Every signed-in person sees every task and may create, change and move
 * them (deleting is for the task's creator or an admin). The agent working in a session acts only
 * on the task linked to that session (and its subtasks), through the same functions, so the
 * workflow holds whoever moves a task.
 */
export class Tasks {
  private db: Db;
  private bus: EventBus;
  /** What may refuse a task's approval, with the reason (see refuseApprovalsWhen); none until connected. */
  private approvalRefusal: (taskId: string) => AppError | null = () => null;

  constructor(private deps: TaskDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
  }

  /** The tasks matching the filter: all of them for a person, the linked task and its subtasks for the agent. */
  list(actor: Actor, filter: { status?: string; repoId?: string; parentId?: string } = {}): PublicTask[] {
    const visible = visibleTasks(actor, this.deps.linkedTaskOf);
    if (visible === null) return [];
    const where: Array<SQL | undefined> = [visible];
    if (filter.status !== undefined && filter.status !== "") where.push(eq(tasks.status, readField(TaskChangesInput, "status", filter.status)!));
    if (filter.repoId) where.push(eq(tasks.repoId, filter.repoId));
    if (filter.parentId) where.push(eq(tasks.parentId, filter.parentId));
    const rows = this.db
      .select()
      .from(tasks)
      .where(and(...where))
      .orderBy(asc(tasks.sortOrder), desc(tasks.createdAt))
      .all();
    return this.publicTasks(rows);
  }

  /** The titles of these tasks (every signed-in person sees every task), by id; unknown ids are left out. */
  titles(ids: string[]): Map<string, string> {
    if (ids.length === 0) return new Map();
    const rows = this.db.select({ id: tasks.id, title: tasks.title }).from(tasks).where(inArray(tasks.id, ids)).all();
    return new Map(rows.map((row) => [row.id, row.title]));
  }

  get(actor: Actor, id: string): PublicTask {
    const row = this.row(id);
    this.assertReaches(actor, row);
    return this.publicTasks([row])[0]!;
  }

  /** The task linked to the agent's session, or null (a person has none). */
  linkedTaskId(actor: Actor): string | null {
    return actor.kind === "agent" ? this.deps.linkedTaskOf(actor.sessionId) : null;
  }

  /** A task for the server's own work (writing its report): no one is acting, so no one is checked. */
  read(id: string): PublicTask {
    return this.publicTasks([this.row(id)])[0]!;
  }

  create(actor: Actor, input: NewTaskInput): PublicTask {
    const title = readField(NewTaskInput, "title", input.title);
    const description = readField(NewTaskInput, "description", input.description) ?? "";
    if (input.parentId) {
      const parent = this.row(input.parentId, "parentId");
      // The agent may only add subtasks to the task it works on.
      if (actor.kind === "agent") this.assertReaches(actor, parent);
    } else if (actor.kind === "agent") {
      throw forbidden("The agent can only create subtasks of its own task.");
    }
    if (input.repoId) getRepo(this.db, input.repoId, "repoId");
    const now = new Date();
    const row: Row = {
      id: newId(),
      title,
      description,
      status: "todo",
      priority: input.priority ?? "medium",
      dueDate: checkDueDate(input.dueDate),
      parentId: input.parentId || null,
      sortOrder: this.nextOrder("todo"),
      repoId: input.repoId || null,
      createdBy: actor.user.id,
      createdAt: now,
      updatedAt: now,
    };
    this.db.insert(tasks).values(row).run();
    this.published(row.id);
    if (row.parentId) this.published(row.parentId);
    return this.get(actor, row.id);
  }

  /** Changes fields and, through the workflow, the status; 409 invalid_transition for a move it does not allow. */
  update(actor: Actor, id: string, input: TaskChangesInput): PublicTask {
    const before = this.row(id);
    this.assertReaches(actor, before);
    const changes: Partial<Row> = { updatedAt: new Date() };
    if (input.title !== undefined) changes.title = readField(TaskChangesInput, "title", input.title);
    if (input.description !== undefined) changes.description = readField(TaskChangesInput, "description", input.description);
    if (input.priority !== undefined) changes.priority = input.priority;
    if (input.dueDate !== undefined) changes.dueDate = checkDueDate(input.dueDate);
    if (input.order !== undefined) changes.sortOrder = input.order;
    if (input.status !== undefined && input.status !== before.status) {
      this.assertMove(before.status, input.status);
      // Approving and rejecting the work are a person's: the agent never leaves awaiting_approval.
      if (actor.kind === "agent" && before.status === "awaiting_approval") {
        throw new AppError(409, "invalid_transition", "The task awaits a person's approval; only they can approve it or send it back.", "status");
      }
      if (before.status === "awaiting_approval" && input.status === "done") this.assertApprovable(id);
      changes.status = input.status;
      if (input.order === undefined) changes.sortOrder = this.nextOrder(input.status);
    }
    this.db.update(tasks).set(changes).where(eq(tasks.id, id)).run();
    const task = this.settle(id, before.status, actor);
    return task;
  }

  remove(actor: Actor, id: string): void {
    const row = this.row(id);
    if (actor.kind !== "person" || (row.createdBy !== actor.user.id && !isAdmin(actor))) {
      throw forbidden("Only the task's creator or an admin can delete it.");
    }
    this.db.delete(tasks).where(eq(tasks.id, id)).run();
    this.bus.publish("task.updated", id, { task: null, taskId: id });
    if (row.parentId) this.published(row.parentId);
  }

  /** A person moves a task that awaits approval to done. */
  approve(actor: Actor, id: string): PublicTask {
    if (actor.kind !== "person") throw forbidden("Only a person can approve a task.");
    if (this.row(id).status === "awaiting_approval") this.assertApprovable(id);
    return this.move(actor, id, "done");
  }

  /**
   * Connects what may refuse a task's approval (an error saying why, or null): the runs, built after
   * the tasks, refuse while several attempts stand and none was picked.
   */
  refuseApprovalsWhen(refusal: (taskId: string) => AppError | null): void {
    this.approvalRefusal = refusal;
  }

  /**
   * A person sends a task that awaits approval back to work; the feedback is kept as a note of
   * kind "feedback" (what happens to the linked sessions is src/tasks/feedback.ts's to say).
   */
  reject(actor: Actor, id: string, input: RejectInput): PublicTask {
    if (actor.kind !== "person") throw forbidden("Only a person can reject a task.");
    const feedback = readField(NoteInput, "body", input.feedback);
    const task = this.move(actor, id, "in_progress");
    const note = this.addNote(actor, id, { body: `Changes requested: ${feedback}` }, "feedback");
    this.bus.publish("task.rejected", id, { task, note });
    return task;
  }

  /** A session was linked to the task: work on it has begun (a todo task moves to in_progress). */
  started(id: string): void {
    const row = this.row(id, "taskId");
    if (row.status !== "todo") return;
    this.db.update(tasks).set({ status: "in_progress", sortOrder: this.nextOrder("in_progress"), updatedAt: new Date() }).where(eq(tasks.id, id)).run();
    this.settle(id, "todo");
  }

  /** Checks that the task exists (for linking a session to it); a 400 naming the field otherwise. */
  assertExists(id: string, field = "taskId"): void {
    this.row(id, field);
  }

  notes(actor: Actor, id: string): PublicNote[] {
    this.assertReaches(actor, this.row(id));
    return this.notesOf(id);
  }

  /** A task's notes for the server's own work (see read). */
  notesOf(id: string): PublicNote[] {
    return this.db
      .select()
      .from(taskNotes)
      .where(eq(taskNotes.taskId, id))
      .orderBy(asc(taskNotes.createdAt))
      .all()
      .map(publicNote);
  }

  /** One note of a task, as `notes` reaches it; 400 naming `field` when the task has no such note. */
  note(actor: Actor, taskId: string, noteId: string, field = "noteId"): PublicNote {
    const found = this.notes(actor, taskId).find((note) => note.id === noteId);
    if (!found) throw invalid(field, "No note with that id on the session's task.");
    return found;
  }

  /**
   * Who wrote a note, as an agent reading it should name them: a person by their username, the
   * agent by the person it worked for and its session.
   */
  noteAuthor(note: PublicNote): string {
    const person = note.userId ? (findUser(this.db, note.userId)?.username ?? "a former member") : "a former member";
    return note.author === "agent" ? `the agent of ${person}'s session ${note.sessionId ?? ""}`.trim() : person;
  }

  /** Who created a task, by username (its text may since have been changed by any member). */
  creatorOf(task: PublicTask): string {
    return task.createdBy ? (findUser(this.db, task.createdBy)?.username ?? "a former member") : "a former member";
  }

  addNote(actor: Actor, id: string, input: NoteInput, kind: PublicNote["kind"] = "note"): PublicNote {
    this.assertReaches(actor, this.row(id));
    const note: NoteRow = {
      id: newId(),
      taskId: id,
      author: actor.kind === "agent" ? "agent" : "user",
      kind,
      userId: actor.user.id,
      sessionId: actor.kind === "agent" ? actor.sessionId : null,
      body: readField(NoteInput, "body", input.body),
      createdAt: new Date(),
    };
    this.db.insert(taskNotes).values(note).run();
    this.published(id);
    return publicNote(note);
  }

  private move(actor: Actor, id: string, to: TaskStatus): PublicTask {
    const before = this.row(id);
    this.assertReaches(actor, before);
    this.assertMove(before.status, to);
    this.db.update(tasks).set({ status: to, sortOrder: this.nextOrder(to), updatedAt: new Date() }).where(eq(tasks.id, id)).run();
    return this.settle(id, before.status, actor);
  }

  private assertApprovable(id: string): void {
    const refusal = this.approvalRefusal(id);
    if (refusal) throw refusal;
  }

  /** After a write: publishes the task, with the status it moved from and who moved it, and its parent (whose progress may have moved). */
  private settle(id: string, from: TaskStatus, by?: Actor): PublicTask {
    const task = this.publicTasks([this.row(id)])[0]!;
    this.bus.publish("task.updated", id, { task, taskId: id, from, by });
    if (task.parentId) this.published(task.parentId);
    return task;
  }

  private published(id: string): void {
    const row = this.db.select().from(tasks).where(eq(tasks.id, id)).get();
    if (row) this.bus.publish("task.updated", id, { task: this.publicTasks([row])[0]!, taskId: id });
  }

  private assertMove(from: TaskStatus, to: TaskStatus): void {
    if (!canMove(from, to)) {
      const allowed = MOVES[from];
      throw new AppError(
        409,
        "invalid_transition",
        `A task cannot move from ${from} to ${to}; ${allowed.length ? `from ${from} it can move to ${allowed.join(" or ")}` : `${from} is the last step`}.`,
        "status",
      );
    }
  }

  /** A task the actor may not see (see task-scope.ts) is a 404, as if it did not exist. */
  private assertReaches(actor: Actor, row: Row): void {
    if (!maySeeTask(actor, this.deps.linkedTaskOf, row)) throw notFound("task");
  }

  private row(id: string, field?: string): Row {
    const row = this.db.select().from(tasks).where(eq(tasks.id, id)).get();
    if (!row) throw field ? invalid(field, "No task with that id.") : notFound("task");
    return row;
  }

  private nextOrder(status: TaskStatus, tx: Db | Tx = this.db): number {
    const [row] = tx.select({ top: max(tasks.sortOrder) }).from(tasks).where(eq(tasks.status, status)).all();
    return (row?.top ?? 0) + 1;
  }

  private publicTasks(rows: Row[]): PublicTask[] {
    if (rows.length === 0) return [];
    const progress = new Map<string, { done: number; total: number }>();
    const counts = this.db
      .select({ parentId: tasks.parentId, status: tasks.status, n: count() })
      .from(tasks)
      .where(inArray(tasks.parentId, rows.map((row) => row.id)))
      .groupBy(tasks.parentId, tasks.status)
      .all();
    for (const { parentId, status, n } of counts) {
      const entry = progress.get(parentId!) ?? { done: 0, total: 0 };
      entry.total += n;
      if (status === "done") entry.done += n;
      progress.set(parentId!, entry);
    }
    return rows.map((row) => ({
      id: row.id,
      title: row.title,
      description: row.description,
      status: row.status,
      priority: row.priority,
      dueDate: row.dueDate,
      parentId: row.parentId,
      order: row.sortOrder,
      repoId: row.repoId,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      subtasks: progress.get(row.id) ?? { done: 0, total: 0 },
    }));
  }
}

/** The day, checked by its schema and then as a date the calendar has (2031-02-30 is not); empty is none. */
function checkDueDate(raw: string | undefined): string | null {
  const day = readField(TaskChangesInput, "dueDate", raw);
  if (!day) return null;
  if (Number.isNaN(new Date(`${day}T00:00:00Z`).getTime())) throw invalid("dueDate", "Due date must be a day, YYYY-MM-DD.");
  return day;
}

function publicNote(note: NoteRow): PublicNote {
  return {
    id: note.id,
    taskId: note.taskId,
    author: note.author,
    kind: note.kind,
    userId: note.userId,
    sessionId: note.sessionId,
    body: note.body,
    createdAt: note.createdAt.toISOString(),
  };
}
