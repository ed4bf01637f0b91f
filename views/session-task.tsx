import type { PublicTask } from "../src/tasks/tasks.ts";
import { STATUS_LABEL, TaskStatusPill } from "./task-parts.tsx";

/** The task a session is linked to, as its page's header shows it, and what it can be linked to instead. */
export interface SessionTaskView {
  sessionId: string;
  /** The linked task; "deleted" when the session still names a task that no longer exists. */
  task: PublicTask | "deleted" | null;
  /** Tasks to link the session to (those not done), when the viewer may change the link. */
  choices: PublicTask[] | null;
  /**
   * The task's latest feedback by someone else, not yet passed on, shown to the session's own
   * person (while the session is active) to pass on to their agent or not: it never reaches the
   * agent by itself.
   */
  feedback: { noteId: string; author: string; body: string } | null;
}

/** "Title (In progress)": a task in a list of choices. */
export function taskChoiceLabel(task: PublicTask): string {
  return `${task.title} (${STATUS_LABEL[task.status]})`;
}

/**
 * One entry of the session header's facts: the linked task and its status, kept up to date by
 * src/client/session-task.ts (which also sends the form to PATCH /api/sessions/:id). The server
 * serves it alone at /sessions/:id/task for that.
 */
export function SessionTask(props: { view: SessionTaskView }) {
  const { sessionId, task, choices, feedback } = props.view;
  const current = typeof task === "object" && task ? task.id : "";
  return (
    <div id="session-task" class="session-task" data-session-task={sessionId}>
      <dt>Task</dt>
      <dd>
        {task === null ? (
          <span class="muted">None</span>
        ) : task === "deleted" ? (
          <span class="muted">Its task was deleted</span>
        ) : (
          <>
            <a href={`/tasks/${task.id}`} safe>
              {task.title}
            </a>{" "}
            <TaskStatusPill status={task.status} />
          </>
        )}
        {feedback ? <PassOnFeedback sessionId={sessionId} feedback={feedback} /> : ""}
        {choices ? (
          <details class="task-link" id="session-task-link">
            <summary>{task === null ? "Link a task" : "Change task"}</summary>
            <form class="task-link-form" method="post" action={`/sessions/${sessionId}/task`} aria-label="Link this session to a task" data-link-task>
              <label for="session-task-select" class="visually-hidden">
                Task
              </label>
              <select id="session-task-select" name="taskId">
                <option value="" selected={current === ""}>
                  No task
                </option>
                {choices.map((choice) => (
                  <option value={choice.id} selected={choice.id === current} safe>
                    {taskChoiceLabel(choice)}
                  </option>
                ))}
              </select>
              <button type="submit" class="small">
                Save
              </button>
              <p class="field-error" role="alert" hidden data-link-task-error />
            </form>
          </details>
        ) : (
          ""
        )}
      </dd>
    </div>
  );
}

/**
 * Another member's feedback on the session's task, and the one click that passes it on to the
 * agent as the person's own message, quoted and attributed. With JavaScript the form goes to
 * POST /api/sessions/:id/feedback (src/client/session-task.ts); without, to the page.
 */
function PassOnFeedback(props: { sessionId: string; feedback: NonNullable<SessionTaskView["feedback"]> }) {
  const { sessionId, feedback } = props;
  return (
    <div class="task-feedback" id="session-task-feedback">
      <p class="task-feedback-head">
        <strong safe>{`Feedback from ${feedback.author}`}</strong>
        <span class="muted"> (not sent to the agent unless you pass it on)</span>
      </p>
      <blockquote class="task-feedback-body" safe>
        {feedback.body}
      </blockquote>
      <form method="post" action={`/sessions/${sessionId}/feedback`} aria-label="Pass the feedback on to the agent" data-pass-on>
        <input type="hidden" name="noteId" value={feedback.noteId} />
        <button type="submit" class="small" id="pass-on-feedback">
          Pass on to the agent
        </button>
        <p class="field-error" role="alert" hidden data-pass-on-error />
      </form>
    </div>
  );
}
