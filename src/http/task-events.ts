import type { Actor } from "../auth/actor.ts";
import type { Pier } from "../pier.ts";
import type { PublicTask } from "../tasks/tasks.ts";
import type { PublicVerification } from "../tasks/verification.ts";
import { eventStream } from "./event-stream.ts";

/**
 * What a task's page hears: the task changed (a move, an edit, a note, a subtask's progress; null
 * once it is deleted), its verification report started, came back or failed, or one of its linked
 * sessions changed state or saw a pull request change. The page draws itself again from the
 * server, so the events say what happened rather than carry everything it shows.
 */
export type TaskStreamEvent =
  | { type: "task"; task: PublicTask | null }
  | { type: "verification"; verification: PublicVerification }
  | { type: "session"; sessionId: string };

/**
 * Server-sent events for one task (the caller has checked the viewer may see it), starting with
 * the task as it stands, so a page catches up with whatever changed since it was drawn. Its
 * verification report's news goes only to a viewer who may read the report.
 */
export function taskEventStream(pier: Pier, viewer: Actor, taskId: string, abort: AbortSignal): Response {
  const linked = (sessionId: string) => pier.sessions.linkedTaskOf(sessionId) === taskId;
  return eventStream<TaskStreamEvent>(pier.bus, abort, (send) => {
    send({ type: "task", task: pier.tasks.read(taskId) });
    return [
      pier.bus.subscribe("task.updated", taskId, ({ task }) => send({ type: "task", task })),
      pier.bus.subscribe("task.verification", taskId, ({ taskId: _, ...verification }) => {
        if (pier.verifications.mayRead(viewer, taskId)) send({ type: "verification", verification });
      }),
      pier.bus.subscribe("session.state", null, ({ sessionId }) => {
        if (linked(sessionId)) send({ type: "session", sessionId });
      }),
      pier.bus.subscribe("pr.updated", null, ({ sessionId }) => {
        if (linked(sessionId)) send({ type: "session", sessionId });
      }),
    ];
  });
}
