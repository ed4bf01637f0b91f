import { type Actor, isAdmin } from "../auth/actor.ts";
import type { Pier } from "../pier.ts";
import type { PublicTask } from "../tasks/tasks.ts";
import type { PublicVerification } from "../tasks/verification.ts";
import { eventStream } from "./event-stream.ts";

/** Who sees a run (see visibleRuns): its person, or an admin. */
function mayReadRun(viewer: Actor, runUserId: string): boolean {
  return viewer.kind === "person" && (isAdmin(viewer) || viewer.user.id === runUserId);
}

/**
 * What a task's page hears: the task changed (a move, an edit, a note, a subtask's progress; null
 * once it is deleted), its verification report started, came back or failed, or one of its linked
 * sessions changed state, spent or saw a pull request change, or one of its runs the viewer may see
 * moved on (a state, a round, a pull request). The page draws itself again from the
 * server, so the events say what happened rather than carry everything it shows.
 */
export type TaskStreamEvent =
  | { type: "task"; task: PublicTask | null }
  | { type: "verification"; verification: PublicVerification }
  | { type: "session"; sessionId: string }
  | { type: "run"; runId: string };

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
      // A run's cost against its budget shows on the page: its session's spending moves it (a
      // response through the gateway, or a turn of Pier's agent paid for).
      pier.bus.subscribe("session.cost", null, (_cost, sessionId) => {
        if (linked(sessionId)) send({ type: "session", sessionId });
      }),
      pier.bus.subscribe("chat.event", null, (event, sessionId) => {
        if (event.type === "turn_end" && linked(sessionId)) send({ type: "session", sessionId });
      }),
      pier.bus.subscribe("run.changed", null, ({ run }) => {
        if (run.taskId === taskId && mayReadRun(viewer, run.userId)) send({ type: "run", runId: run.id });
      }),
    ];
  });
}
