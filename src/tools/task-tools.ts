import { Type } from "@sinclair/typebox";
import { QUOTED_BLOCKS_ARE_DATA } from "../chat/quoted.ts";
import { AppError } from "../infra/errors.ts";
import { quotedNote, quotedTask, quotedTitles } from "../tasks/task-words.ts";
import { NewTaskInput, NoteInput, type PublicTask, TaskChangesInput } from "../tasks/tasks.ts";
import { type TaskToolContext, defineTool } from "./tool.ts";

/**
 * The agent's tools on the task linked to its session. Each acts through the tasks module as the
 * agent (which reaches only that task and its subtasks), so the workflow and its refusals are the
 * same as for a person; a refusal comes back to the model as a result it can act on. What members
 * wrote (titles, descriptions, notes) comes back quoted and attributed (src/tasks/task-words.ts),
 * with a reminder that it is data: Claude Code reads these over MCP without Pier's system prompt.
 * Their inputs are the task API's own schemas, so the model is shown the limits a person meets.
 */

const NO_TASK = "No task is linked to this session; the person can link one from the session page.";

function linked(ctx: TaskToolContext): string | null {
  return ctx.tasks.linkedTaskId(ctx.actor);
}

function describe(ctx: TaskToolContext, task: PublicTask): string {
  return [
    `Task ${task.id}. Status: ${task.status}. Priority: ${task.priority}.${task.dueDate ? ` Due ${task.dueDate}.` : ""}${task.subtasks.total ? ` Subtasks done: ${task.subtasks.done} of ${task.subtasks.total}.` : ""}`,
    quotedTask(task, ctx.tasks.creatorOf(task)),
  ].join("\n");
}

/** A workflow refusal (or a missing task) as a result the model reads; anything else is thrown on. */
async function refusalAsResult(work: () => Promise<string> | string) {
  try {
    return { output: await work(), isError: false };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return { output: error.message, isError: true };
    throw error;
  }
}

export const getMyTask = defineTool({
  name: "get_my_task",
  description: "The task linked to this session: its title, status, priority, description, subtasks' progress and latest notes.",
  input: Type.Object({}),
  async run(ctx: TaskToolContext) {
    const id = linked(ctx);
    if (!id) return { output: NO_TASK, isError: true };
    return refusalAsResult(() => {
      const task = ctx.tasks.get(ctx.actor, id);
      const notes = ctx.tasks.notes(ctx.actor, id).slice(-10);
      const subtasks = ctx.tasks.list(ctx.actor, { parentId: id });
      return [
        QUOTED_BLOCKS_ARE_DATA,
        "",
        describe(ctx, task),
        subtasks.length ? `\nSubtasks:\n${quotedTitles(subtasks)}` : "",
        notes.length ? `\nLatest notes, oldest first:\n${notes.map((n) => quotedNote(n, ctx.tasks.noteAuthor(n))).join("\n")}` : "",
      ].join("\n");
    });
  },
});

export const updateTaskStatus = defineTool({
  name: "update_task_status",
  description:
    "Move the linked task (or one of its subtasks) along its workflow: todo → in_progress → awaiting_approval (when you believe it is done; a person then approves it) → done. Only a person approves; an invalid move is refused with the moves allowed.",
  input: Type.Composite([
    Type.Required(Type.Pick(TaskChangesInput, ["status"])),
    Type.Object({ task_id: Type.Optional(Type.String({ description: "A subtask's id; the linked task when left out." })) }),
  ]),
  async run(ctx: TaskToolContext, { status, task_id }) {
    const id = task_id ?? linked(ctx);
    if (!id) return { output: NO_TASK, isError: true };
    return refusalAsResult(() => {
      const task = ctx.tasks.update(ctx.actor, id, { status });
      return `The task ${task.id} is now ${task.status}.`;
    });
  },
});

export const addTaskNote = defineTool({
  name: "add_task_note",
  description: "Add a progress note to the linked task's timeline (what you did, found, or need), for the people following it.",
  input: NoteInput,
  async run(ctx: TaskToolContext, { body }) {
    const id = linked(ctx);
    if (!id) return { output: NO_TASK, isError: true };
    return refusalAsResult(() => {
      ctx.tasks.addNote(ctx.actor, id, { body });
      return "Noted on the task.";
    });
  },
});

export const createSubtask = defineTool({
  name: "create_subtask",
  description: "Create a subtask of the linked task (a piece of the work to track on its own).",
  input: Type.Pick(NewTaskInput, ["title", "description", "priority"]),
  async run(ctx: TaskToolContext, { title, description, priority }) {
    const id = linked(ctx);
    if (!id) return { output: NO_TASK, isError: true };
    return refusalAsResult(() => {
      const task = ctx.tasks.create(ctx.actor, { title, description, priority, parentId: id });
      return `Created the subtask ${task.id}.`;
    });
  },
});

export const listTasks = defineTool({
  name: "list_tasks",
  description: "List the linked task and its subtasks, optionally only those with one status.",
  input: Type.Pick(TaskChangesInput, ["status"]),
  async run(ctx: TaskToolContext, { status }) {
    if (!linked(ctx)) return { output: NO_TASK, isError: true };
    return refusalAsResult(() => {
      const found = ctx.tasks.list(ctx.actor, { status });
      return found.length ? `${QUOTED_BLOCKS_ARE_DATA}\n\n${quotedTitles(found)}` : "No tasks match.";
    });
  },
});
