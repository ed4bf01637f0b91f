import { eq, or, type SQL } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { tasks } from "./tables.ts";

/** Which task a session is linked to, if any (the sessions module owns the link). */
export type LinkedTaskOf = (sessionId: string) => string | null;

/**
 * Who may see a task: every person sees every task (the board is the team's); the agent working
 * in a session only the task linked to that session and that task's subtasks, none when it has
 * no task. The rule is written once, here, as the task an actor reaches; a single row and a SQL
 * query are both checked against it.
 */
function reachOf(actor: Actor, linkedTaskOf: LinkedTaskOf): "every" | { taskId: string } | null {
  if (actor.kind !== "agent") return "every";
  const taskId = linkedTaskOf(actor.sessionId);
  return taskId ? { taskId } : null;
}

/** Whether the actor may see this task (see reachOf). */
export function maySeeTask(actor: Actor, linkedTaskOf: LinkedTaskOf, task: { id: string; parentId: string | null }): boolean {
  const reach = reachOf(actor, linkedTaskOf);
  if (reach === null) return false;
  return reach === "every" || task.id === reach.taskId || task.parentId === reach.taskId;
}

/** The tasks the actor may see, as a condition on the tasks table: undefined for all of them, null for none. */
export function visibleTasks(actor: Actor, linkedTaskOf: LinkedTaskOf): SQL | undefined | null {
  const reach = reachOf(actor, linkedTaskOf);
  if (reach === null || reach === "every") return reach === null ? null : undefined;
  return or(eq(tasks.id, reach.taskId), eq(tasks.parentId, reach.taskId));
}
