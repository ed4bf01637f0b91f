import { Elysia } from "elysia";
import { pierRequestOf } from "../pier-request.ts";
import type { User } from "../../auth/user.ts";
import { readInput } from "../../infra/input.ts";
import { personActor } from "../../auth/actor.ts";
import type { Pier } from "../../pier.ts";
import type { Repo } from "../../repos/repos.ts";
import { LinkTaskInput, StartSessionInput } from "../../sessions/sessions.ts";
import type { Session } from "../../sessions/session.ts";
import { PassOnInput } from "../../tasks/feedback.ts";
import { AppError } from "../../infra/errors.ts";
import { noticeOf, sessionNotices } from "../../notices/notices.ts";
import { emptyForm, type FormState } from "../../../views/components.tsx";
import { engineChoices, engineChosen, modelChoices, serviceOfChoice } from "./engine-choice.ts";
import {
  BranchOptions,
  EndSessionPage,
  NewSessionPage,
  SessionOutputPage,
  SessionPage,
  type HistoryChoices,
  type SessionRow,
  SessionsPage,
} from "../../../views/session-views.tsx";
import { readLimitNote } from "../../terminal/recording.ts";
import type { PrPanelProps } from "../../../views/pr-views.tsx";
import { SessionTask, type SessionTaskView } from "../../../views/session-task.tsx";
import type { RunView } from "../../../views/run-parts.tsx";
import { SessionRun } from "../../../views/session-run.tsx";
import { sessionRunView } from "./run-views.ts";
import { rateLimitedUntil } from "../session-events.ts";
import { type PageContext, formFailure, pageActor, pageUser, redirectResponse } from "./respond.ts";

/** The form's body as the API takes it: an ACP agent chosen as the engine is engine "acp" with that agent. */
function agentChosen(pier: Pier, body: unknown): unknown {
  const form = (body ?? {}) as { engine?: unknown; model?: unknown };
  return { ...form, ...engineChosen(pier.agents.list(), form.engine, form.model) };
}

/** New Session, the session page, ending and resuming, and the session history. */
export function sessionPages(pier: Pier) {
  const common = { runtime: pier.runtime.kind };

  const newSessionPage = async (ctx: PageContext, viewer: User, form: FormState) => {
    const repos = pier.repos.list();
    const query = new URL(ctx.request.url).searchParams;
    const repoId = form.values.repoId ?? query.get("repoId") ?? repos[0]?.id;
    // A task's page links here with its id, to start a session for it.
    const taskId = form.values.taskId ?? query.get("taskId") ?? "";
    const engine = form.values.engine ?? pier.settings.plain().defaultEngine;
    const agents = pier.agents.list();
    const values = { ...form.values, taskId, engine, ...(repoId ? { repoId } : {}) };
    const branches = repoId && repos.some((r) => r.id === repoId) ? await pier.sessions.branchSuggestions(repoId) : [];
    const tasks = pier.tasks.list(personActor(viewer)).filter((task) => task.status !== "done");
    return (
      <NewSessionPage viewer={viewer} {...common} repos={repos} form={{ ...form, values: { model: pier.settings.plain().defaultModel, ...values } }} branches={branches}
        engines={engineChoices(agents)} models={modelChoices(pier.costs.prices().map((p) => p.model))} service={serviceOfChoice(agents, engine)} tasks={tasks} />
    );
  };

  return new Elysia()
    .get("/sessions", (ctx) => historyPage(pier, ctx))
    .get("/sessions/new", (ctx) => newSessionPage(ctx, pageUser(pier, ctx), emptyForm))
    .get("/sessions/new/branches", async (ctx) => {
      pageUser(pier, ctx);
      const repoId = new URL(ctx.request.url).searchParams.get("repoId") ?? "";
      const known = pier.repos.list().some((r) => r.id === repoId);
      return <BranchOptions branches={known ? await pier.sessions.branchSuggestions(repoId) : []} />;
    })
    .post("/sessions", async (ctx) => {
      const viewer = pageUser(pier, ctx);
      try {
        const session = await pier.sessions.start(pageActor(pier, ctx), readInput(StartSessionInput, agentChosen(pier, ctx.body)));
        return redirectResponse(ctx.request, `/sessions/${session.id}`);
      } catch (error) {
        return newSessionPage(ctx, viewer, formFailure(error, ctx.body, ctx.set));
      }
    })
    .get("/sessions/:id", async (ctx) => {
      const viewer = pageUser(pier, ctx);
      const session = pier.sessions.getFor(personActor(viewer), ctx.params.id);
      const repo = pier.repos.get(session.repoId);
      const dismissed = pier.dismissals.dismissedBy(viewer.id);
      const agentService = session.agent ? (pier.agents.get(session.agent)?.service ?? null) : null;
      const notices = sessionNotices(session, pier.podUrl() !== null, agentService).filter((id) => !dismissed.has(id)).map(noticeOf);
      const environment = session.state === "ended" ? null : await pier.environments.viewOf(repo.id, session.userId).catch(() => null);
      const pod = pier.pods.view(repo.id, session.userId);
      return (
        <SessionPage viewer={viewer} {...common} session={session} repo={repo} pod={pod} dockerEngine={pod && pier.runtime.kind === "docker" ? pier.dockerEngines.find(pod.dockerEngine)?.name : undefined}
          prPanel={await prPanel(pier, viewer, session, repo)} task={sessionTask(pier, viewer, session)} notices={notices}
          claudeCodeNotice={await pier.claudeCode.noticeFor(session)} podMoveNotice={pier.podMoves.noticeFor(session)} run={sessionRun(pier, viewer, session)} environment={environment}
          ownSession={session.userId === viewer.id} previewFramed={pier.previews.framable(pierRequestOf(pier, ctx.request).https)} />
      );
    })
    // The run's panel alone, for the page to draw again when the run changes.
    .get("/sessions/:id/run", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const run = sessionRun(pier, viewer, pier.sessions.getFor(personActor(viewer), ctx.params.id));
      if (!run) throw new AppError(404, "not_found", "The session belongs to no run.");
      return <SessionRun {...run} />;
    })
    .get("/sessions/:id/task", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const session = pier.sessions.getFor(personActor(viewer), ctx.params.id);
      return <SessionTask view={sessionTask(pier, viewer, session)} />;
    })
    // The header's task form without JavaScript; with it, the form goes to PATCH /api/sessions/:id.
    .post("/sessions/:id/task", (ctx) => {
      pier.sessions.linkTask(personActor(pageUser(pier, ctx)), ctx.params.id, readInput(LinkTaskInput, ctx.body));
      return redirectResponse(ctx.request, `/sessions/${ctx.params.id}`);
    })
    // Passing feedback on without JavaScript; with it, the form goes to POST /api/sessions/:id/feedback.
    .post("/sessions/:id/feedback", (ctx) => {
      pier.taskFeedback.passOn(personActor(pageUser(pier, ctx)), ctx.params.id, readInput(PassOnInput, ctx.body));
      return redirectResponse(ctx.request, `/sessions/${ctx.params.id}`);
    })
    .get("/sessions/:id/output", async (ctx) => {
      const viewer = pageUser(pier, ctx);
      const { session, path } = pier.terminals.recordingFor(personActor(viewer), ctx.params.id);
      const hasRecording = await Bun.file(path).exists();
      const limitNote = hasRecording ? readLimitNote(path) : null;
      return <SessionOutputPage viewer={viewer} {...common} session={session} hasRecording={hasRecording} limitNote={limitNote} />;
    })
    .get("/sessions/:id/end", async (ctx) => {
      const viewer = pageUser(pier, ctx);
      const session = pier.sessions.getFor(personActor(viewer), ctx.params.id);
      if (session.state !== "active") return redirectResponse(ctx.request, `/sessions/${session.id}`);
      const { uncommittedFiles, unpushedCommits } = await pier.sessions.changes(personActor(viewer), session.id);
      return <EndSessionPage viewer={viewer} {...common} session={session} uncommittedFiles={uncommittedFiles} unpushedCommits={unpushedCommits} />;
    })
    .post("/sessions/:id/end", async (ctx) => {
      await pier.sessions.end(pageActor(pier, ctx), ctx.params.id);
      return redirectResponse(ctx.request, `/sessions/${ctx.params.id}`);
    })
    // Rebuild from the session page: its own person's pod, made again from the repository's environment now.
    .post("/sessions/:id/environment/rebuild", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const session = pier.sessions.getFor(personActor(viewer), ctx.params.id);
      if (session.userId !== viewer.id) throw new AppError(403, "forbidden", "Only the session's own person can rebuild its pod.");
      pier.environments.rebuild(personActor(viewer), session.repoId);
      return redirectResponse(ctx.request, `/sessions/${session.id}`);
    })
    .post("/sessions/:id/resume", async (ctx) => {
      await pier.sessions.resume(pageActor(pier, ctx), ctx.params.id);
      return redirectResponse(ctx.request, `/sessions/${ctx.params.id}`);
    });
}

/** What the session page's pull request panel shows: the viewer may see the session (checked by the caller). */
export async function prPanel(pier: Pier, viewer: User, session: Session, repo: Repo): Promise<Omit<PrPanelProps, "session" | "repo">> {
  return {
    prs: pier.prs.forSession(personActor(viewer), session.id),
    canOpen: session.state === "active" && session.userId === viewer.id,
    hasToken: (await pier.credentials.githubToken(session.userId)) !== null,
    rateLimitedUntil: rateLimitedUntil(pier.github),
    githubOrigin: pier.repoRules.github.origin,
    isAdmin: viewer.role === "admin",
  };
}

/** The run the session belongs to, with its task's title; the viewer may see the session (checked by the caller). */
function sessionRun(pier: Pier, viewer: User, session: Session): { view: RunView; taskTitle: string | null } | null {
  const view = sessionRunView(pier, personActor(viewer), session);
  return view && { view, taskTitle: pier.tasks.titles([view.run.taskId]).get(view.run.taskId) ?? null };
}

/** The session's task for its header; the viewer may see the session (checked by the caller). */
function sessionTask(pier: Pier, viewer: User, session: Session): SessionTaskView {
  const actor = personActor(viewer);
  let task: SessionTaskView["task"] = null;
  if (session.taskId) {
    try {
      task = pier.tasks.get(actor, session.taskId);
    } catch (error) {
      if (!(error instanceof AppError && error.status === 404)) throw error;
      task = "deleted";
    }
  }
  // Whoever may change the link (Sessions.linkTask): the session's person or an admin.
  const canLink = session.userId === viewer.id || viewer.role === "admin";
  const open = canLink ? pier.tasks.list(actor).filter((choice) => choice.status !== "done" || choice.id === session.taskId) : null;
  return { sessionId: session.id, task, choices: open, feedback: feedbackToPassOn(pier, viewer, session, task) };
}

/** The task's feedback waiting for the session's own person to pass it on (see SessionTaskView). */
function feedbackToPassOn(pier: Pier, viewer: User, session: Session, task: SessionTaskView["task"]): SessionTaskView["feedback"] {
  if (typeof task !== "object" || task === null || task.status === "done") return null;
  const waiting = pier.taskFeedback.waiting(personActor(viewer), session);
  return waiting && { noteId: waiting.note.id, author: waiting.author, body: waiting.note.body };
}

/** Sessions with the names a list shows beside them, and their pull requests. */
/** The history page: the session list's own query (see querySessions), its filters kept in the URL. */
function historyPage(pier: Pier, ctx: PageContext & { set: { status?: number | string } }) {
  const viewer = pageUser(pier, ctx);
  const actor = personActor(viewer);
  const url = new URL(ctx.request.url);
  // An empty field of the form means "any": left out of the query rather than matched.
  const values = Object.fromEntries([...url.searchParams].filter(([, value]) => value !== ""));
  const isAdmin = viewer.role === "admin";
  const choices: HistoryChoices = {
    repos: pier.repos.list().map((repo) => [repo.id, repo.name]),
    people: isAdmin ? pier.users.list(actor).map((user) => [user.id, user.username]) : null,
    tasks: pier.tasks.list(actor).map((task) => [task.id, task.title]),
  };
  const filtered = Object.keys(values).some((key) => key !== "cursor");
  try {
    const page = pier.sessions.query(actor, { limit: "50", ...values });
    let next: string | null = null;
    if (page.next) {
      const link = new URLSearchParams(values);
      link.set("cursor", page.next);
      next = `/sessions?${link}`;
    }
    return <SessionsPage viewer={viewer} runtime={pier.runtime.kind} rows={sessionRows(pier, page.sessions)} form={{ ...emptyForm, values }} choices={choices} next={next} filtered={filtered} />;
  } catch (error) {
    return <SessionsPage viewer={viewer} runtime={pier.runtime.kind} rows={[]} form={formFailure(error, values, ctx.set)} choices={choices} next={null} filtered={filtered} />;
  }
}

export function sessionRows(pier: Pier, sessions: Session[]): SessionRow[] {
  const repoNames = new Map(pier.repos.list().map((r) => [r.id, r.name]));
  const usernames = new Map<string, string>();
  const prs = pier.prs.bySession(sessions.map((session) => session.id));
  const taskTitles = pier.tasks.titles([...new Set(sessions.flatMap((session) => (session.taskId ? [session.taskId] : [])))]);
  return sessions.map((session) => {
    if (!usernames.has(session.userId)) usernames.set(session.userId, pier.users.find(session.userId)?.username ?? "unknown");
    return {
      session,
      repoName: repoNames.get(session.repoId) ?? "removed",
      username: usernames.get(session.userId)!,
      prs: prs.get(session.id) ?? [],
      taskTitle: session.taskId ? (taskTitles.get(session.taskId) ?? null) : null,
    };
  });
}
