import { TASK_PRIORITIES, TASK_STATUSES, type TaskPriority, type TaskStatus } from "../src/tasks/tables.ts";
import { type PublicTask, canMove } from "../src/tasks/tasks.ts";

/** The board's columns, in the workflow's order. */
export const BOARD_STATUSES: readonly TaskStatus[] = TASK_STATUSES;

export const STATUS_LABEL: Record<TaskStatus, string> = {
  todo: "To do",
  in_progress: "In progress",
  awaiting_approval: "Awaiting approval",
  done: "Done",
};

export const PRIORITIES: readonly TaskPriority[] = TASK_PRIORITIES;

export const PRIORITY_LABEL: Record<TaskPriority, string> = {
  low: "Low",
  medium: "Medium",
  high: "High",
  urgent: "Urgent",
};

/** Where the workflow lets a task go from `status` (in board order). */
export function movesFrom(status: TaskStatus): TaskStatus[] {
  return BOARD_STATUSES.filter((to) => canMove(status, to));
}

export function TaskStatusPill(props: { status: TaskStatus }) {
  return (
    <span class={`pill task-status task-status-${props.status}`} data-task-status={props.status} safe>
      {STATUS_LABEL[props.status]}
    </span>
  );
}

/** Medium is what a task is unless someone said otherwise, so cards only mention the others. */
export function PriorityBadge(props: { priority: TaskPriority; always?: boolean }) {
  if (props.priority === "medium" && !props.always) return "";
  return (
    <span class={`priority priority-${props.priority}`}>
      <span class="visually-hidden">Priority: </span>
      <span safe>{PRIORITY_LABEL[props.priority]}</span>
    </span>
  );
}

/** "Due 2026-05-01", marked overdue once the day has passed and the task is not done. */
export function DueDate(props: { task: Pick<PublicTask, "dueDate" | "status">; today?: string }) {
  const { dueDate, status } = props.task;
  if (!dueDate) return "";
  const today = props.today ?? new Date().toISOString().slice(0, 10);
  const overdue = status !== "done" && dueDate < today;
  return (
    <time class={overdue ? "due overdue" : "due"} datetime={dueDate} safe>
      {overdue ? `Overdue since ${dueDate}` : `Due ${dueDate}`}
    </time>
  );
}

/** Done of all subtasks, as words and a bar; nothing for a task without subtasks. */
export function SubtaskProgress(props: { subtasks: PublicTask["subtasks"] }) {
  const { done, total } = props.subtasks;
  if (total === 0) return "";
  const words = `${done} of ${total} subtasks done`;
  return (
    <span class="subtask-progress">
      <progress value={String(done)} max={String(total)} aria-label={words} />
      <span class="muted" safe>
        {words}
      </span>
    </span>
  );
}
