import type { EnvironmentView } from "../src/environments/environments.ts";
import { EnvironmentNotes } from "./environment-views.tsx";
import type { PropsWithChildren } from "@kitajs/html";
import type { PodView } from "../src/pods/pods.ts";
import type { PublicPr } from "../src/prs/pull-requests.ts";
import type { Repo } from "../src/repos/repos.ts";
import type { Session } from "../src/sessions/session.ts";
import type { PublicTask } from "../src/tasks/tasks.ts";
import type { Notice } from "../src/notices/notices.ts";
import { ENGINE_LABEL, Field, FormError, type FormState, HxForm, ModelField, SelectField, formatDate, formatDuration, formatUsd } from "./components.tsx";
import { DismissibleNotice } from "./dismissible-notice.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { PrChips, PrPanel, type PrPanelProps } from "./pr-views.tsx";
import { PreviewPanel } from "./preview-views.tsx";
import type { RunView } from "./run-parts.tsx";
import { SessionHeader, SessionPlaceFacts, StatePill } from "./session-header.tsx";
import { SessionRun } from "./session-run.tsx";
import { SessionTask, type SessionTaskView, taskChoiceLabel } from "./session-task.tsx";

interface PageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
}

export function NewSessionPage(
  props: PageProps & {
    repos: Repo[];
    form: FormState;
    branches: string[];
    engines: Array<[string, string, string?]>;
    /** The price table's models, each with its service. */
    models: Array<[string, string | null]>;
    /** The model service of the engine the form holds, when it is an ACP agent's. */
    service: string | null;
    tasks: PublicTask[];
  },
) {
  const selected = props.form.values.repoId ?? props.repos[0]?.id;
  const repoError = props.form.error?.field === "repoId" ? props.form.error.message : undefined;
  return (
    <Layout title="New session" viewer={props.viewer} runtime={props.runtime} current="/sessions">
      <h1>New session</h1>
      {props.repos.length === 0 ? (
        <section class="card">
          <p class="empty">There are no repositories yet. {props.viewer.role === "admin" ? <a href="/repos">Add one first.</a> : "Ask an admin to add one."}</p>
        </section>
      ) : (
        <section class="card">
          <p class="muted">
            Pier uses your pod of the repository (or starts one) and gives the session its own worktree. Leave the branch empty for a
            new branch off the default branch.
          </p>
          <HxForm action="/sessions" label="Start a session" class="grid-form">
            <FormError form={props.form} />
            <div class={repoError ? "field field-invalid" : "field"}>
              <label for="field-repoId">Repository</label>
              <select id="field-repoId" name="repoId" hx-get="/sessions/new/branches" hx-trigger="change" hx-target="#branch-options"
                hx-swap="outerHTML" hx-include="this">
                {props.repos.map((repo) => (
                  <option value={repo.id} selected={repo.id === selected} safe>
                    {repo.name}
                  </option>
                ))}
              </select>
              {repoError ? (
                <p class="field-error" role="alert" safe>
                  {repoError}
                </p>
              ) : (
                ""
              )}
            </div>
            <div>
              <BranchField form={props.form} />
              <BranchOptions branches={props.branches} />
            </div>
            <Field form={props.form} name="title" label="Title" placeholder="What this session is for (optional)" />
            <SelectField form={props.form} name="taskId" label="Task"
              options={[["", "No task"], ...props.tasks.map((task): [string, string] => [task.id, taskChoiceLabel(task)])]}
              hint="Optional. The agent works on the task and reports on it; a task to do moves to In progress." />
            <SelectField form={props.form} name="engine" label="Chat engine" options={props.engines}
              hint="Pier's own agent, Claude Code running in your pod (on your Claude Code token or the Anthropic key), or another coding agent in your pod over ACP." />
            <ModelField form={props.form} name="model" label="Model for the chat agent" models={props.models} engineField="engine" service={props.service}
              hint="An agent over ACP is offered the models of its own model service." />
            <button type="submit" class="primary">Start session</button>
          </HxForm>
        </section>
      )}
    </Layout>
  );
}

function BranchField(props: { form: FormState }) {
  const error = props.form.error?.field === "branch" ? props.form.error.message : undefined;
  return (
    <div class={error ? "field field-invalid" : "field"}>
      <label for="field-branch">Existing branch</label>
      <input id="field-branch" name="branch" type="text" list="branch-options" placeholder="optional, e.g. feature/login"
        value={props.form.values.branch} autocomplete="off" aria-invalid={error ? "true" : undefined} />
      {error ? (
        <p class="field-error" role="alert" safe>
          {error}
        </p>
      ) : (
        <p class="hint">Suggestions come from the remote's branches.</p>
      )}
    </div>
  );
}

export function BranchOptions(props: { branches: string[] }) {
  return (
    <datalist id="branch-options">
      {props.branches.map((branch) => (
        <option value={branch} />
      ))}
    </datalist>
  );
}

export interface SessionRow {
  session: Session;
  repoName: string;
  username: string;
  /** The session's pull requests, newest first. */
  prs: PublicPr[];
  /** The title of the task it is linked to, if any. */
  taskTitle?: string | null;
}

/** Why a session needs its person, as its row and the dashboard say it. */
/** What answers the session's chat, as the page names it: an ACP session by its agent. */
function engineLabel(session: { engine: keyof typeof ENGINE_LABEL; agent: string | null }): string {
  return session.engine === "acp" && session.agent ? `${session.agent} (ACP)` : ENGINE_LABEL[session.engine];
}

export const ATTENTION_LABEL: Record<string, string> = {
  turn_end: "needs you: turn ended",
  approval: "waiting for approval",
  bell: "needs you: bell",
  disk: "needs you: disk full",
  quiet: "needs you: went quiet",
  feedback: "needs you: feedback on its task",
  sign_in: "needs you: sign in to Claude again",
  budget: "needs you: budget reached",
};

export function SessionList(props: { rows: SessionRow[]; empty: string }) {
  if (props.rows.length === 0) {
    return (
      <p class="empty" safe>
        {props.empty}
      </p>
    );
  }
  return (
    <ul class="list" aria-label="Sessions">
      {props.rows.map(({ session, repoName, username, prs, taskTitle }) => (
        <li class="list-row" data-session-row={session.id}>
          <a href={`/sessions/${session.id}`} class="list-title" safe>
            {session.title}
          </a>
          <StatePill state={session.state} />
          {session.attention ? (
            <span class="badge badge-waiting" data-attention={session.attention} safe>
              {ATTENTION_LABEL[session.attention] ?? session.attention}
            </span>
          ) : (
            ""
          )}
          <span class="pill" safe>
            {engineLabel(session)}
          </span>
          <PrChips prs={prs} />
          <span class="muted mono" safe>
            {`${repoName} · ${session.branch}`}
          </span>
          {taskTitle ? (
            <a href={`/tasks/${session.taskId}`} class="small" safe>
              {`Task: ${taskTitle}`}
            </a>
          ) : (
            ""
          )}
          <span class="muted" safe>
            {`${username}, ${formatDate(session.createdAt)}${
              session.endedAt ? ` · ran ${formatDuration(session.createdAt, session.endedAt)}` : session.state === "active" || session.state === "provisioning" ? ` · ${formatDuration(session.createdAt, null)} so far` : ""
            }`}
          </span>
          {session.savedCommit ? <span class="pill">uncommitted work saved</span> : ""}
          <span class="muted" safe>
            {formatUsd(session.costUsd)}
          </span>
          <a href={`/sessions/${session.id}/review`} class="small">
            Review
          </a>
        </li>
      ))}
    </ul>
  );
}

/** What the history's filter form offers: repositories, people (admins), and tasks, each as [id, name]. */
export interface HistoryChoices {
  repos: Array<[string, string]>;
  people: Array<[string, string]> | null;
  tasks: Array<[string, string]>;
}

/**
 * The history: every session the person may see, newest first, filtered by repository, person
 * (admins), task, state, a date range and words in the title or branch, a page at a time. A plain
 * GET form, so the filters live in the URL and work without JavaScript.
 */
export function SessionsPage(props: PageProps & { rows: SessionRow[]; form: FormState; choices: HistoryChoices; next: string | null; filtered: boolean }) {
  const { form, choices } = props;
  const any = (label: string): [string, string] => ["", label];
  return (
    <Layout title="Sessions" viewer={props.viewer} runtime={props.runtime} current="/sessions">
      <div class="card-head">
        <h1>Sessions</h1>
        <a href="/sessions/new" class="button primary-link">
          New session
        </a>
      </div>
      <section class="card">
        <form method="get" action="/sessions" class="history-filters" aria-label="Filter sessions">
          <FormError form={form} />
          <Field form={form} name="q" label="Title or branch" type="search" placeholder="Words in the title or branch" />
          <SelectField form={form} name="state" label="State"
            options={[any("Any state"), ["active", "Active"], ["provisioning", "Starting"], ["ended", "Ended"], ["failed", "Failed"]]} />
          <SelectField form={form} name="repoId" label="Repository" options={[any("Any repository"), ...choices.repos]} />
          {choices.people ? <SelectField form={form} name="userId" label="Person" options={[any("Anyone"), ...choices.people]} /> : ""}
          <SelectField form={form} name="taskId" label="Task" options={[any("Any task"), ...choices.tasks]} />
          <Field form={form} name="from" label="From" type="date" />
          <Field form={form} name="to" label="To" type="date" />
          <div class="history-actions">
            <button type="submit" class="primary">Filter</button>
            {props.filtered ? <a href="/sessions">Clear</a> : ""}
          </div>
        </form>
      </section>
      <section class="card">
        <SessionList rows={props.rows} empty={props.filtered ? "No session matches these filters." : "No sessions here yet."} />
        {props.next ? (
          <nav class="pager" aria-label="Pages">
            <a href={props.next} rel="next">
              Older sessions
            </a>
          </nav>
        ) : (
          ""
        )}
      </section>
    </Layout>
  );
}

interface SessionPageProps extends PageProps {
  session: Session;
  repo: Repo;
  pod: PodView | null;
  /** The session's pull requests and what their panel needs (shown once the session is active). */
  prPanel: Omit<PrPanelProps, "session" | "repo">;
  task: SessionTaskView;
  /** The standing notices that apply to this session and its viewer has not dismissed. */
  notices: Notice[];
  /** Pier's copy of Claude Code for this pod, while it is fetched or when it failed; else null. */
  claudeCodeNotice: string | null;
  /** What a move of the session's pod to another Docker engine under way says ("Moving your pod to far…"); else null. */
  podMoveNotice: string | null;
  /** The unattended run the session belongs to, with its task's title; null for a person's own session. */
  run: { view: RunView; taskTitle: string | null } | null;
  /** The repository's environment against the session's pod (outdated, refused keys, its error); null when not asked or unreadable. */
  environment: EnvironmentView | null;
  /** The viewer is the session's own person (an admin may look at others'). */
  ownSession: boolean;
  /** A preview framed in the page keeps its cookie here (false on plain-http PIER_PREVIEW_DOMAIN: it opens in a tab instead). */
  previewFramed: boolean;
  /** The name of the Docker engine the session's pod is on (none on the local runtime or before it is placed). */
  dockerEngine?: string;
}

/**
 * What the page says when the session's worktree was deleted by hand (shown by its script, which
 * asks GET /api/sessions/:id/worktree), with the offer to make it again from the branch.
 */
function WorktreeGone(props: { session: Session }) {
  const { session } = props;
  return (
    <>
      <section class="card notice-warn" role="alert" data-worktree-gone={session.id} hidden>
        <h2>This session's worktree is gone</h2>
        <p safe>
          {`Its directory was deleted by hand, in the pod. Pier can make it again from the branch ${session.branch}: every commit of the branch comes back, but changes that were never committed were in the deleted directory and are gone.`}
        </p>
        <button type="button" class="primary" data-restore-worktree>
          Restore from the branch
        </button>
        <p class="field-error" role="alert" data-restore-worktree-error hidden />
      </section>
      <p class="notice" role="status" data-worktree-restored hidden />
    </>
  );
}

const STEPS: Array<{ step: string; label: string }> = [
  { step: "image", label: "Image" },
  { step: "pod", label: "Pod" },
  { step: "clone", label: "Clone and fetch" },
  { step: "worktree", label: "Worktree" },
  { step: "environment", label: "Environment commands" },
  { step: "setup", label: "Setup script" },
];

/** The session page: its header, then provisioning progress, the working layout, or how it ended. */
export function SessionPage(props: SessionPageProps) {
  const { session, repo } = props;
  const showPrs = session.state === "active" || session.state === "ended";
  return (
    <Layout title={session.title} viewer={props.viewer} runtime={props.runtime} dockerEngine={props.dockerEngine} current="/sessions"
      styles={[
        ...(session.state === "active" ? [...TERMINAL_STYLES, "/public/chat.css"] : []),
        ...(showPrs ? ["/public/prs.css"] : []),
        ...(props.run ? ["/public/runs.css"] : []),
      ]}
      scripts={[
        ...(session.state === "active" ? ["/public/vendor/terminal.js", "/public/vendor/chat.js", "/public/vendor/session-worktree.js", "/public/vendor/preview.js"] : []),
        ...(showPrs ? ["/public/vendor/prs.js"] : []),
        "/public/vendor/session-task.js",
      ]}>
      <SessionHeader title={session.title} state={session.state} lookingSessionId={session.state === "active" ? session.id : undefined}>
        {/* Folded on phones while the session is live, so the terminal starts near the top; open otherwise. */}
        <details class="fold session-more" open={session.state !== "active"}>
          <summary class="fold-toggle">Details</summary>
          <div class="session-more-body">
            <dl class="session-facts">
              <SessionPlaceFacts session={session} repo={repo} />
              <div>
                <dt>Engine</dt>
                <dd id="session-engine" data-engine={session.engine} safe>
                  {engineLabel(session)}
                </dd>
              </div>
              <div>
                <dt>Cost</dt>
                <dd class="mono" id="session-cost" safe>
                  {formatUsd(session.costUsd)}
                </dd>
              </div>
              <SessionTask view={props.task} />
            </dl>
            <div class="session-actions">
              <a href={`/sessions/${session.id}/output`} class="button">
                Output
              </a>
              <a href={`/sessions/${session.id}/review`} class="button">
                Review
              </a>
              {session.state === "active" ? (
                <a href={`/sessions/${session.id}/end`} class="button danger-link">
                  End session
                </a>
              ) : session.state === "ended" || session.state === "failed" ? (
                <HxForm action={`/sessions/${session.id}/resume`} label="Resume session">
                  <button type="submit" class="primary">
                    {session.state === "failed" ? "Try again" : "Resume"}
                  </button>
                </HxForm>
              ) : (
                ""
              )}
            </div>
          </div>
        </details>
        <p class="visually-hidden" role="status" id="session-task-announce" />
      </SessionHeader>
      {props.run ? (
        <>
          <SessionRun view={props.run.view} taskTitle={props.run.taskTitle} />
          <p class="visually-hidden" role="status" aria-live="polite" id="session-run-announce" />
        </>
      ) : (
        ""
      )}
      {session.state === "provisioning" ? <Provisioning session={session} withSetup={repo.setupScript !== null} withEnvironment={props.environment?.source === "devcontainer"} /> : ""}
      {props.environment ? (
        <EnvironmentNotes view={props.environment}
          rebuildAction={session.state === "active" && props.ownSession ? `/sessions/${session.id}/environment/rebuild` : undefined} />
      ) : (
        ""
      )}
      {props.notices.map((notice) => (
        <DismissibleNotice notice={notice} back={`/sessions/${session.id}`} />
      ))}
      {session.state === "active" ? (
        <p class="notice notice-warn" role="status" data-claude-code-notice={session.id} hidden={!props.claudeCodeNotice} safe>
          {props.claudeCodeNotice ?? ""}
        </p>
      ) : (
        ""
      )}
      {session.state === "active" ? (
        <p class="notice" role="status" data-pod-move-notice={session.id} hidden={!props.podMoveNotice} safe>
          {props.podMoveNotice ?? ""}
        </p>
      ) : (
        ""
      )}
      {session.state === "active" ? <WorktreeGone session={session} /> : ""}
      {session.state === "active" ? <Workspace session={session} repo={repo} prPanel={props.prPanel} ownSession={props.ownSession} previewFramed={props.previewFramed} /> : ""}
      {session.state === "failed" ? (
        <section class="card" role="alert">
          <h2>The session could not start</h2>
          <p class="mono wrap" safe>
            {session.error ?? "Unknown error."}
          </p>
        </section>
      ) : (
        ""
      )}
      {session.state === "ended" ? (
        <section class="card">
          <h2>Session ended</h2>
          <p safe>
            {`Ended ${session.endedAt ? formatDate(session.endedAt) : ""}. The branch ${session.branch} keeps every commit.`}
          </p>
          {session.savedCommit ? (
            <p safe>{`Uncommitted work was saved as commit ${session.savedCommit.slice(0, 10)} on the branch.`}</p>
          ) : (
            ""
          )}
          <p>
            <a href={`/sessions/${session.id}/output`}>Replay its terminal output</a>
          </p>
        </section>
      ) : (
        ""
      )}
      {session.state === "ended" ? (
        <section class="card" aria-label="Pull requests">
          <h2>Pull requests</h2>
          <PrPanel session={session} repo={repo} {...props.prPanel} />
        </section>
      ) : (
        ""
      )}
    </Layout>
  );
}

/** The steps whose command's latest lines the page shows as they come, with what they are. */
const STEP_OUTPUT: Record<string, string> = {
  image: "The environment build's latest output",
  environment: "The environment commands' latest output",
  setup: "The setup script's latest output",
};

/**
 * Provisioning's steps as they go; the environment's commands only for a repo with a devcontainer
 * (or once they begin), the setup script's step (with its latest output) only for a repo that has one.
 */
function Provisioning(props: { session: Session; withSetup: boolean; withEnvironment: boolean }) {
  const steps = STEPS.filter(({ step }) => step !== "setup" || props.withSetup);
  return (
    <section class="card provisioning" data-session-events={`/api/sessions/${props.session.id}/events`} aria-live="polite">
      <h2>Preparing the session</h2>
      <ol class="steps">
        {steps.map(({ step, label }) => (
          // The environment's step shows once it is reached, where the page could not know it would be (a repository not fetched yet).
          <li data-step={step} hidden={step === "environment" && !props.withEnvironment}>
            <span class="step-label" safe>
              {label}
            </span>
            <span class="step-message muted" />
            {STEP_OUTPUT[step] ? <pre class="step-output" aria-label={STEP_OUTPUT[step]} hidden /> : ""}
          </li>
        ))}
      </ol>
      <progress class="step-progress" max="1" aria-label="Progress of the current step" />
      <p class="muted current-step" safe>
        {props.session.step ?? "Starting…"}
      </p>
    </section>
  );
}

/** The workspace's panes, as the phone's tab strip names them. */
const PANE_TABS: Array<{ pane: string; label: string }> = [
  { pane: "terminal", label: "Terminal" },
  { pane: "chat", label: "Chat" },
  { pane: "preview", label: "Preview" },
  { pane: "prs", label: "PRs" },
];

/**
 * The working layout: terminal and chat side by side, resizable, then the web app preview and
 * the session's pull requests (each folded away while it has nothing); each pane collapsible. On
 * phones the panes are tabs (the page's script turns the strip on; without it they stack).
 */
function Workspace(props: { session: Session; repo: Repo; prPanel: Omit<PrPanelProps, "session" | "repo">; ownSession: boolean; previewFramed: boolean }) {
  const foldPrs = props.prPanel.prs.length === 0;
  return (
    <section class={foldPrs ? "workspace without-prs without-preview" : "workspace without-preview"} data-split-key="pier-split" aria-label="Session workspace">
      <div class="pane-tabs" role="tablist" aria-label="Session panes" hidden>
        {PANE_TABS.map(({ pane, label }) => (
          <button type="button" role="tab" id={`tab-${pane}`} aria-controls={`pane-${pane}`} aria-selected="false" data-tab={pane}>
            <span safe>{label}</span>
            {pane === "preview" || pane === "prs" ? <span class="pane-count" data-tab-count hidden /> : ""}
          </button>
        ))}
      </div>
      <Pane id="pane-terminal" title="Terminal">
        <div class="pane-body" data-terminal={`/api/sessions/${props.session.id}/terminal`}>
          <p class="muted mono wrap" safe>
            {props.session.worktreePath}
          </p>
        </div>
      </Pane>
      <div class="split-handle" role="separator" aria-orientation="vertical" aria-label="Resize panes" tabindex="0" />
      <Pane id="pane-chat" title="Chat">
        <div class="pane-body" data-chat={`/api/sessions/${props.session.id}/chat`} />
      </Pane>
      <Pane id="pane-preview" title="Preview" collapsed count={0}>
        <PreviewPanel session={props.session} ownSession={props.ownSession} framed={props.previewFramed} />
      </Pane>
      <Pane id="pane-prs" title="Pull requests" collapsed={foldPrs} count={props.prPanel.prs.length}>
        <div class="pane-body">
          <PrPanel session={props.session} repo={props.repo} {...props.prPanel} />
        </div>
      </Pane>
    </section>
  );
}

/**
 * One collapsible pane of the workspace; its body is filled in by the page's script. `count`
 * shows how many things it holds, so a folded pane still tells.
 */
function Pane(props: PropsWithChildren<{ id: string; title: string; collapsed?: boolean; count?: number }>) {
  return (
    <section class={props.collapsed ? "pane collapsed" : "pane"} id={props.id} aria-label={props.title}>
      <header class="pane-head">
        <h2>
          <span safe>{props.title}</span>
          {props.count === undefined ? (
            ""
          ) : (
            <span class="pane-count" data-pane-count safe>
              {String(props.count)}
            </span>
          )}
        </h2>
        <button type="button" class="small" data-collapse={`#${props.id}`} aria-expanded={props.collapsed ? "false" : "true"}>
          {props.collapsed ? "Show" : "Hide"}
        </button>
      </header>
      {props.children}
    </section>
  );
}

export const TERMINAL_STYLES = ["/public/vendor/xterm.css", "/public/terminal.css"];

/**
 * The session's recorded terminal output, replayed in the browser; for any session, ended or not.
 * `limitNote` says the recording stopped at its size limit, so nobody takes it for the whole session.
 */
export function SessionOutputPage(props: PageProps & { session: Session; hasRecording: boolean; limitNote: string | null }) {
  const { session } = props;
  return (
    <Layout title={`Output of ${session.title}`} viewer={props.viewer} runtime={props.runtime} current="/sessions"
      styles={TERMINAL_STYLES} scripts={props.hasRecording ? ["/public/vendor/replay.js"] : []}>
      <p class="crumbs">
        <a href={`/sessions/${session.id}`} safe>
          {session.title}
        </a>{" "}
        /
      </p>
      <div class="card-head">
        <h1>Terminal output</h1>
        <a href={`/sessions/${session.id}/review`} class="button">
          Review the session
        </a>
        {props.hasRecording ? <RecordingDownload session={session} /> : ""}
      </div>
      <RecordingReplay session={session} hasRecording={props.hasRecording} limitNote={props.limitNote} emptyInCard />
    </Layout>
  );
}

/** The link that downloads a session's recording as an asciicast file. */
export function RecordingDownload(props: { session: Session }) {
  return (
    <a href={`/api/sessions/${props.session.id}/recording?download=1`} class="button" download={`pier-session-${props.session.id}.cast`}>
      Download .cast
    </a>
  );
}

/** A session's recorded terminal output in the browser's player, with the note of a recording cut at its limit. */
export function RecordingReplay(props: { session: Session; hasRecording: boolean; limitNote: string | null; emptyInCard?: boolean }) {
  const empty = <p class="empty">Nothing was recorded: this session's terminal never started.</p>;
  return (
    <>
      {props.limitNote ? (
        <p class="notice notice-warn" role="note" safe>
          {props.limitNote}
        </p>
      ) : (
        ""
      )}
      {props.hasRecording ? (
        <div id="replay" data-recording={`/api/sessions/${props.session.id}/recording`}>
          <p class="muted">The player needs JavaScript; the recording can also be downloaded and played with asciinema.</p>
        </div>
      ) : props.emptyInCard ? (
        <section class="card">{empty}</section>
      ) : (
        empty
      )}
    </>
  );
}

export function EndSessionPage(props: PageProps & { session: Session; uncommittedFiles: string[]; unpushedCommits: number }) {
  const { session } = props;
  return (
    <Layout title={`End ${session.title}`} viewer={props.viewer} runtime={props.runtime} current="/sessions">
      <section class="card card-narrow">
        <h1>End this session?</h1>
        <p>Its terminal and chat close and its worktree is removed. The branch and every commit stay.</p>
        {props.uncommittedFiles.length > 0 ? (
          <div class="notice-warn">
            <p safe>
              {`${props.uncommittedFiles.length} file(s) have uncommitted changes. Pier will save them as a commit on ${session.branch} (not pushed):`}
            </p>
            <ul class="mono small-list">
              {props.uncommittedFiles.slice(0, 20).map((file) => (
                <li safe>{file}</li>
              ))}
            </ul>
          </div>
        ) : (
          <p>There are no uncommitted changes.</p>
        )}
        <p safe>
          {props.unpushedCommits === 0
            ? "Every commit on the branch is on the remote."
            : `${props.unpushedCommits} commit(s) on ${session.branch} are not pushed; they stay in Pier's clone.`}
        </p>
        <div class="actions">
          <HxForm action={`/sessions/${session.id}/end`} label="End session">
            <button type="submit" class="danger">
              {props.uncommittedFiles.length > 0 ? "Save changes and end" : "End session"}
            </button>
          </HxForm>
          <a href={`/sessions/${session.id}`} class="button">
            Keep working
          </a>
        </div>
      </section>
    </Layout>
  );
}
