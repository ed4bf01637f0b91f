import type { Repo } from "../src/repos/repos.ts";
import type { PublicNote, PublicTask } from "../src/tasks/tasks.ts";
import type { PublicVerification } from "../src/tasks/verification.ts";
import { type FormState, HxForm, TextArea, emptyForm, formatDate, formatUsd } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { RepoFact } from "./session-header.tsx";
import { SessionList, type SessionRow } from "./session-views.tsx";
import { TaskFields } from "./task-form.tsx";
import { type RunBatch, RunForm, type RunFormChoices, TaskRuns } from "./task-runs.tsx";
import { DueDate, PriorityBadge, STATUS_LABEL, SubtaskProgress, TaskStatusPill, movesFrom } from "./task-parts.tsx";

/** A note with who wrote it: a person's name, or the agent and the session it worked in. */
export interface NoteView {
  note: PublicNote;
  author: string;
  /** The agent's session, titled when the viewer may see it. */
  session: { id: string; title: string | null } | null;
}

export interface TaskDetail {
  task: PublicTask;
  parent: PublicTask | null;
  subtasks: PublicTask[];
  repo: Repo | null;
  notes: NoteView[];
  /** The sessions linked to the task that the viewer may see. */
  sessions: SessionRow[];
  /** The report, if there is one the viewer may read. */
  verification: PublicVerification | null;
  /** Whether the viewer may ask for a report now (they may see every session it would draw from). */
  canWriteReport: boolean;
  /** From the cost ledger: everyone's spending for an admin, the viewer's own otherwise. */
  spent: { usd: number; everyone: boolean };
  canDelete: boolean;
}

/**
 * The forms of the task page, to show one again with its error: "action" for its buttons
 * (moves, a new report), whose errors show under the task's head; "run" for Run, "runs" for the
 * buttons of its runs (stop, pause, resume, pick), whose errors show above the runs.
 */
export type TaskFormName = "action" | "review" | "note" | "edit" | "run" | "runs";

interface TaskPageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
  detail: TaskDetail;
  /** The task's runs the viewer may see, by batch. */
  runs: RunBatch[];
  /** What Run offers; null once the task is done. */
  runChoices: RunFormChoices | null;
  failed?: { form: TaskFormName; state: FormState };
}

/**
 * A task: what it is, where it stands and what the workflow lets it do next, its report, its
 * unattended runs, its subtasks, sessions and notes. Regions marked data-live are redrawn from the server when the
 * task's events say it changed (src/client/task-page.ts); forms people type in sit outside them
 * or keep what was typed.
 */
export function TaskPage(props: TaskPageProps) {
  const { task, parent } = props.detail;
  const formOf = (name: TaskFormName) => (props.failed?.form === name ? props.failed.state : emptyForm);
  const actionError = props.failed?.form === "action" ? props.failed.state.error?.message : undefined;
  return (
    <Layout title={task.title} viewer={props.viewer} runtime={props.runtime} current="/tasks" styles={["/public/tasks.css", "/public/runs.css"]}
      scripts={["/public/vendor/task-page.js"]}>
      <div class="task-page" data-task-events={`/api/tasks/${task.id}/events`}>
        <p class="crumbs">
          <a href="/tasks">Tasks</a>
          {" / "}
          {parent ? (
            <>
              <a href={`/tasks/${parent.id}`} safe>
                {parent.title}
              </a>
              {" / "}
            </>
          ) : (
            ""
          )}
        </p>
        <TaskHead detail={props.detail} />
        {actionError ? (
          <p class="form-error" role="alert" safe>
            {actionError}
          </p>
        ) : (
          ""
        )}
        <div id="task-review" data-live>
          {task.status === "awaiting_approval" ? <Review task={task} form={formOf("review")} /> : ""}
        </div>
        <Verification task={task} report={props.detail.verification} canWrite={props.detail.canWriteReport} />
        <section id="task-description" class="card" data-live aria-labelledby="description-heading">
          <h2 id="description-heading">Description</h2>
          {task.description ? (
            <div class="markdown" data-markdown safe>
              {task.description}
            </div>
          ) : (
            <p class="empty">No description.</p>
          )}
        </section>
        <Runs task={task} batches={props.runs} choices={props.runChoices} reportReady={props.detail.verification?.status === "ready"}
          form={formOf("run")} open={props.failed?.form === "run"} error={props.failed?.form === "runs" ? props.failed.state.error?.message : undefined} />
        <Subtasks task={task} subtasks={props.detail.subtasks} />
        <LinkedSessions sessions={props.detail.sessions} spent={props.detail.spent} />
        <Notes task={task} notes={props.detail.notes} form={formOf("note")} />
        <EditTask detail={props.detail} form={formOf("edit")} open={props.failed?.form === "edit"} />
        <p class="visually-hidden" role="status" aria-live="polite" data-task-announce />
      </div>
    </Layout>
  );
}

function TaskHead(props: { detail: TaskDetail }) {
  const { task, repo, parent } = props.detail;
  const moves = task.status === "awaiting_approval" ? [] : movesFrom(task.status);
  return (
    <header id="task-head" class="task-head" data-live data-status={task.status}>
      <div class="task-title">
        <h1 safe>{task.title}</h1>
        <TaskStatusPill status={task.status} />
      </div>
      <dl class="session-facts">
        <div>
          <dt>Priority</dt>
          <dd>
            <PriorityBadge priority={task.priority} always />
          </dd>
        </div>
        <div>
          <dt>Due</dt>
          <dd>{task.dueDate ? <DueDate task={task} /> : <span class="muted">No due date</span>}</dd>
        </div>
        {repo ? <RepoFact repo={repo} /> : ""}
        {parent ? (
          <div>
            <dt>Subtask of</dt>
            <dd>
              <a href={`/tasks/${parent.id}`} safe>
                {parent.title}
              </a>
            </dd>
          </div>
        ) : (
          ""
        )}
        <div>
          <dt>Created</dt>
          <dd safe>{formatDate(new Date(task.createdAt))}</dd>
        </div>
      </dl>
      <div class="actions task-moves">
        {moves.map((to) => (
          <HxForm action={`/tasks/${task.id}/status`} label={`Move to ${STATUS_LABEL[to]}`}>
            <input type="hidden" name="status" value={to} />
            <button type="submit" id={`move-${to}`} class={to === "done" ? "" : "primary"} safe>
              {`Move to ${STATUS_LABEL[to]}`}
            </button>
          </HxForm>
        ))}
        {task.status === "done" ? (
          ""
        ) : (
          <a class="button" href={`/sessions/new?taskId=${task.id}${repo ? `&repoId=${repo.id}` : ""}`}>
            Start a session for this task
          </a>
        )}
      </div>
    </header>
  );
}

/**
 * Approve, or send back to work with feedback: kept as a note; the person of each linked session
 * decides whether their agent hears it (src/tasks/feedback.ts).
 */
function Review(props: { task: PublicTask; form: FormState }) {
  const error = props.form.error && props.form.error.field !== "feedback" ? props.form.error.message : undefined;
  return (
    <section class="card card-highlight review" aria-labelledby="review-heading">
      <h2 id="review-heading">Awaiting your approval</h2>
      <p class="muted">Read the verification report below, then approve the work or send it back with what is missing.</p>
      {error ? (
        <p class="form-error" role="alert" safe>
          {error}
        </p>
      ) : (
        ""
      )}
      <div class="review-forms">
        <HxForm action={`/tasks/${props.task.id}/approve`} label="Approve">
          <button type="submit" id="review-approve" class="primary">
            Approve
          </button>
        </HxForm>
        <HxForm action={`/tasks/${props.task.id}/reject`} label="Reject with feedback" class="review-reject">
          <TextArea form={props.form} name="feedback" label="Feedback" rows={3} required
            hint="What is missing or wrong. Kept as a note; each linked session's person chooses whether to pass it on to their agent (when every linked session is yours, their agents hear it at once)." />
          <button type="submit" id="review-reject" class="danger">
            Reject with feedback
          </button>
        </HxForm>
      </div>
    </section>
  );
}

/**
 * The AI verification report: not written yet, being written, written, or failed (with a retry
 * for one who may ask for it). A viewer who may not read it sees the same as where none exists.
 */
function Verification(props: { task: PublicTask; report: PublicVerification | null; canWrite: boolean }) {
  const { report, task, canWrite } = props;
  return (
    <section id="task-verification" class="card" data-live data-verification={report?.status ?? "none"} aria-labelledby="verification-heading">
      <h2 id="verification-heading">Verification report</h2>
      {report === null ? (
        <>
          <p class="empty">
            No report yet. One is written from the linked sessions' work (diffs, commits, pull requests, conversation and terminal) when the
            task moves to Awaiting approval. It is only for those who may see all of those sessions (their person, or an admin), and whoever
            asks for it pays.
          </p>
          {canWrite ? <RetryReport task={task} label="Write it now" /> : ""}
        </>
      ) : report.status === "pending" ? (
        <div class="verification-pending">
          <progress aria-label="Writing the verification report" />
          <p class="muted">
            {"Writing the report from the linked sessions' work… "}
            <time datetime={report.startedAt} data-elapsed-since={report.startedAt} safe>
              {`started ${formatDate(new Date(report.startedAt))}`}
            </time>
          </p>
        </div>
      ) : report.status === "ready" ? (
        <>
          <div class="markdown report" data-markdown safe>
            {report.markdown ?? ""}
          </div>
          <div class="actions report-foot">
            <p class="muted">{report.finishedAt ? `Written ${formatDate(new Date(report.finishedAt))}.` : ""}</p>
            {canWrite ? <RetryReport task={task} label="Write it again" /> : ""}
          </div>
        </>
      ) : (
        <>
          <p class="notice-warn" safe>
            {report.error ?? "The report could not be written."}
          </p>
          {canWrite ? <RetryReport task={task} label="Retry" /> : ""}
        </>
      )}
    </section>
  );
}

/**
 * Asks for the report (again). With JavaScript it posts to the API and the task's events redraw
 * the report; without, the form posts to the page.
 */
function RetryReport(props: { task: PublicTask; label: string }) {
  return (
    <form method="post" action={`/tasks/${props.task.id}/verification`} data-api-post={`/api/tasks/${props.task.id}/verification`}
      aria-label="Write the verification report">
      <button type="submit" id="verification-retry" safe>
        {props.label}
      </button>
      <p class="form-error" role="alert" hidden data-api-error />
    </form>
  );
}

/** Run, and the task's runs: live, compared side by side where several attempts were started together. */
function Runs(props: { task: PublicTask; batches: RunBatch[]; choices: RunFormChoices | null; reportReady: boolean; form: FormState; open: boolean; error?: string }) {
  return (
    <section class="card" aria-labelledby="runs-heading">
      <h2 id="runs-heading">Runs</h2>
      {props.choices ? <RunForm taskId={props.task.id} choices={props.choices} form={props.form} open={props.open} /> : ""}
      <TaskRuns taskId={props.task.id} batches={props.batches} reportReady={props.reportReady} error={props.error} />
    </section>
  );
}

function Subtasks(props: { task: PublicTask; subtasks: PublicTask[] }) {
  return (
    <section id="task-subtasks" class="card" data-live aria-labelledby="subtasks-heading">
      <div class="card-head">
        <h2 id="subtasks-heading">Subtasks</h2>
        <a class="button" href={`/tasks/new?parentId=${props.task.id}`}>
          Add a subtask
        </a>
      </div>
      <SubtaskProgress subtasks={props.task.subtasks} />
      {props.subtasks.length === 0 ? (
        <p class="empty">No subtasks.</p>
      ) : (
        <ul class="list" aria-label="Subtasks">
          {props.subtasks.map((subtask) => (
            <li class="list-row">
              <a href={`/tasks/${subtask.id}`} class="list-title" safe>
                {subtask.title}
              </a>
              <TaskStatusPill status={subtask.status} />
              <PriorityBadge priority={subtask.priority} />
              <DueDate task={subtask} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function LinkedSessions(props: { sessions: SessionRow[]; spent: TaskDetail["spent"] }) {
  return (
    <section id="task-sessions" class="card" data-live aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <SessionList rows={props.sessions} empty="No session you can see is linked to this task." />
      <p class="muted task-spent" safe>
        {`${props.spent.everyone ? "Spent on this task" : "Your spending on this task"}: ${formatUsd(props.spent.usd)} (the linked sessions' chats and the verification reports).`}
      </p>
    </section>
  );
}

function Notes(props: { task: PublicTask; notes: NoteView[]; form: FormState }) {
  return (
    <section class="card" aria-labelledby="notes-heading">
      <h2 id="notes-heading">Notes</h2>
      <div id="task-notes" data-live>
        {props.notes.length === 0 ? (
          <p class="empty">No notes yet. People and the agent working on the task add them here.</p>
        ) : (
          <ol class="timeline" aria-label="Notes">
            {props.notes.map(({ note, author, session }) => (
              <li class={`note note-${note.author}`} id={`note-${note.id}`}>
                <p class="note-meta">
                  <strong safe>{author}</strong>
                  {session ? (
                    <>
                      {" in "}
                      <a href={`/sessions/${session.id}`} safe>
                        {session.title ?? "its session"}
                      </a>
                    </>
                  ) : (
                    ""
                  )}
                  {" · "}
                  <time class="muted" datetime={note.createdAt} safe>
                    {formatDate(new Date(note.createdAt))}
                  </time>
                </p>
                <div class="markdown" data-markdown safe>
                  {note.body}
                </div>
              </li>
            ))}
          </ol>
        )}
      </div>
      <HxForm action={`/tasks/${props.task.id}/notes`} label="Add a note" class="note-form">
        <TextArea form={props.form} name="body" label="Your note" rows={3} required hint="Markdown." />
        <button type="submit">Add note</button>
      </HxForm>
    </section>
  );
}

function EditTask(props: { detail: TaskDetail; form: FormState; open: boolean }) {
  const { task } = props.detail;
  const values = { title: task.title, description: task.description, priority: task.priority, dueDate: task.dueDate ?? "", ...props.form.values };
  return (
    <details class="card task-edit" open={props.open}>
      <summary>Edit or delete the task</summary>
      <HxForm action={`/tasks/${task.id}/edit`} label="Edit the task" class="task-form">
        <TaskFields form={{ ...props.form, values }} />
        <button type="submit" class="primary">
          Save changes
        </button>
      </HxForm>
      {props.detail.canDelete ? (
        <HxForm action={`/tasks/${task.id}/delete`} label="Delete the task" confirm="Delete this task, its subtasks and its notes?">
          <button type="submit" class="danger">
            Delete task
          </button>
        </HxForm>
      ) : (
        ""
      )}
    </details>
  );
}
