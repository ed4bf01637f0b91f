import { Elysia } from "elysia";
import { type Actor, personActor } from "../../auth/actor.ts";
import type { User } from "../../auth/user.ts";
import { AppError } from "../../infra/errors.ts";
import { asInput, readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { NewTaskInput, NoteInput, type PublicTask, RejectInput, TaskChangesInput } from "../../tasks/tasks.ts";
import type { PublicVerification } from "../../tasks/verification.ts";
import type { FormState } from "../../../views/components.tsx";
import { TaskCard, type TaskItem } from "../../../views/task-board.tsx";
import { type NoteView, type TaskDetail, type TaskFormName, TaskPage } from "../../../views/task-detail.tsx";
import type { RunFormChoices } from "../../../views/task-runs.tsx";
import { NewTaskPage } from "../../../views/task-form.tsx";
import { type TaskFilter, noFilter } from "../../../views/task-list.tsx";
import { TasksPage } from "../../../views/task-views.tsx";
import { type PageContext, formFailure, isHtmx, pageUser, redirectResponse } from "./respond.ts";
import { engineChoices, modelChoices } from "./engine-choice.ts";
import { locateRunFormError, readRunForm } from "./run-form.ts";
import { taskRunBatches } from "./run-views.ts";
import { sessionRows } from "./session-pages.tsx";

/** The Tasks page (board and list), New task, and each task's page with its forms. */
export function taskPages(pier: Pier) {
  const common = { runtime: pier.runtime.kind };

  const tasksPage = (ctx: PageContext, viewer: User, refusal?: string) => {
    const query = new URL(ctx.request.url).searchParams;
    const view = query.get("view") === "list" ? "list" : "board";
    const all = pier.tasks.list(personActor(viewer));
    const filter: TaskFilter =
      view === "list"
        ? { status: query.get("status") ?? "", priority: query.get("priority") ?? "", repoId: query.get("repoId") ?? "", q: query.get("q") ?? "" }
        : noFilter;
    return (
      <TasksPage viewer={viewer} {...common} view={view} items={taskItems(pier, all, all.filter(matches(filter)))} total={all.length} filter={filter}
        repos={pier.repos.list()} refusal={refusal} />
    );
  };
  const newTaskPage = (viewer: User, form: FormState) => (
    <NewTaskPage viewer={viewer} {...common} form={form} repos={pier.repos.list()} tasks={pier.tasks.list(personActor(viewer))} />
  );
  const taskPage = async (viewer: User, id: string, failed?: { form: TaskFormName; state: FormState }) => {
    const detail = taskDetail(pier, viewer, id);
    const runs = await taskRunBatches(pier, personActor(viewer), id);
    return <TaskPage viewer={viewer} {...common} detail={detail} runs={runs} runChoices={runFormChoices(pier, detail.task)} failed={failed} />;
  };

  /**
   * Runs one of the task page's forms: htmx gets the page drawn again in place (its event stream
   * stays open), a plain form a redirect to it; a refusal shows the page with the form's error.
   */
  type FormContext = PageContext & { params: { id: string }; body: unknown; set: { status?: number | string } };
  const taskForm = async (ctx: FormContext, form: TaskFormName, act: (actor: Actor) => unknown) => {
    const viewer = pageUser(pier, ctx);
    try {
      await act(personActor(viewer));
    } catch (error) {
      return taskPage(viewer, ctx.params.id, { form, state: formFailure(error, ctx.body, ctx.set) });
    }
    return isHtmx(ctx.request) ? taskPage(viewer, ctx.params.id) : redirectResponse(ctx.request, `/tasks/${ctx.params.id}`);
  };

  return new Elysia()
    .get("/tasks", (ctx) => tasksPage(ctx, pageUser(pier, ctx)))
    .get("/tasks/new", (ctx) => {
      const viewer = pageUser(pier, ctx);
      const query = new URL(ctx.request.url).searchParams;
      const parentId = query.get("parentId") ?? "";
      // A subtask's work usually happens where its parent's does.
      const parent = parentId ? pier.tasks.list(personActor(viewer)).find((task) => task.id === parentId) : undefined;
      return newTaskPage(viewer, { values: { parentId, repoId: query.get("repoId") ?? parent?.repoId ?? "" } });
    })
    .post("/tasks", (ctx) => {
      const viewer = pageUser(pier, ctx);
      try {
        const task = pier.tasks.create(personActor(viewer), readInput(NewTaskInput, ctx.body));
        return redirectResponse(ctx.request, `/tasks/${task.id}`);
      } catch (error) {
        return newTaskPage(viewer, formFailure(error, ctx.body, ctx.set));
      }
    })
    .get("/tasks/:id", (ctx) => taskPage(pageUser(pier, ctx), ctx.params.id))
    .get("/tasks/:id/card", (ctx) => {
      const actor = personActor(pageUser(pier, ctx));
      const task = pier.tasks.get(actor, ctx.params.id);
      return <TaskCard item={taskItems(pier, pier.tasks.list(actor), [task])[0]!} />;
    })
    .post("/tasks/:id/status", (ctx) => {
      // The board's Move menu, without JavaScript, comes back to the board (with the refusal, if any).
      if (asInput(ctx.body).back !== "board") return taskForm(ctx, "action", (actor) => pier.tasks.update(actor, ctx.params.id, statusChange(ctx.body)));
      const viewer = pageUser(pier, ctx);
      try {
        pier.tasks.update(personActor(viewer), ctx.params.id, statusChange(ctx.body));
        return redirectResponse(ctx.request, "/tasks");
      } catch (error) {
        return tasksPage(ctx, viewer, formFailure(error, ctx.body, ctx.set).error?.message);
      }
    })
    .post("/tasks/:id/edit", (ctx) => taskForm(ctx, "edit", (actor) => pier.tasks.update(actor, ctx.params.id, editChanges(ctx.body))))
    .post("/tasks/:id/notes", (ctx) => taskForm(ctx, "note", (actor) => pier.tasks.addNote(actor, ctx.params.id, readInput(NoteInput, ctx.body))))
    .post("/tasks/:id/approve", (ctx) => taskForm(ctx, "review", (actor) => pier.tasks.approve(actor, ctx.params.id)))
    .post("/tasks/:id/reject", (ctx) => taskForm(ctx, "review", (actor) => pier.tasks.reject(actor, ctx.params.id, readInput(RejectInput, ctx.body))))
    .post("/tasks/:id/verification", (ctx) => taskForm(ctx, "action", (actor) => pier.verifications.retry(actor, ctx.params.id)))
    // Run, and each run's buttons, without JavaScript or through htmx (the API's routes do the same for scripts).
    .post("/tasks/:id/runs", (ctx) =>
      taskForm(ctx, "run", async (actor) => {
        try {
          await pier.runs.start(actor, ctx.params.id, readRunForm(ctx.body, pier.agents.list()));
        } catch (error) {
          throw locateRunFormError(error, ctx.body, pier.costs.prices().map((price) => price.model), pier.agents.list());
        }
      }),
    )
    .post("/tasks/:id/runs/:runId/stop", (ctx) => taskForm(ctx, "runs", (actor) => pier.runs.stop(actor, ctx.params.runId)))
    .post("/tasks/:id/runs/:runId/pause", (ctx) => taskForm(ctx, "runs", (actor) => pier.runs.setPaused(actor, ctx.params.runId, true)))
    .post("/tasks/:id/runs/:runId/resume", (ctx) => taskForm(ctx, "runs", (actor) => pier.runs.setPaused(actor, ctx.params.runId, false)))
    .post("/tasks/:id/runs/:runId/pick", (ctx) => taskForm(ctx, "runs", (actor) => pier.runs.pick(actor, ctx.params.runId)))
    .post("/tasks/:id/delete", (ctx) => {
      pier.tasks.remove(personActor(pageUser(pier, ctx)), ctx.params.id);
      return redirectResponse(ctx.request, "/tasks");
    });
}

/** Only the status: the Move forms carry nothing else the task should take. */
function statusChange(body: unknown) {
  return readInput(TaskChangesInput, { status: asInput(body).status });
}

/** The edit form's fields (never the status, which moves only through the workflow's buttons). */
function editChanges(body: unknown) {
  const { title, description, priority, dueDate } = asInput(body);
  return readInput(TaskChangesInput, { title, description, priority, dueDate });
}

/** `tasks` with the names a card or row shows beside them; `all` is where parents are found. */
function taskItems(pier: Pier, all: PublicTask[], tasks: PublicTask[]): TaskItem[] {
  const repoNames = new Map(pier.repos.list().map((repo) => [repo.id, repo.name]));
  const titles = new Map(all.map((task) => [task.id, task.title]));
  return tasks.map((task) => ({
    task,
    repoName: task.repoId ? (repoNames.get(task.repoId) ?? null) : null,
    parentTitle: task.parentId ? (titles.get(task.parentId) ?? null) : null,
  }));
}

function matches(filter: TaskFilter): (task: PublicTask) => boolean {
  const words = filter.q.trim().toLowerCase();
  return (task) =>
    (!filter.status || task.status === filter.status) &&
    (!filter.priority || task.priority === filter.priority) &&
    (!filter.repoId || task.repoId === filter.repoId) &&
    (!words || task.title.toLowerCase().includes(words));
}

/** Everything the task page shows, as the viewer may see it. */
function taskDetail(pier: Pier, viewer: User, id: string): TaskDetail {
  const actor = personActor(viewer);
  const task = pier.tasks.get(actor, id);
  const visible = pier.sessions.list(actor);
  const sessionTitles = new Map(visible.map((session) => [session.id, session.title]));
  const usernames = new Map<string, string>();
  const nameOf = (userId: string | null) => {
    if (!userId) return "someone";
    if (!usernames.has(userId)) usernames.set(userId, pier.users.find(userId)?.username ?? "a former user");
    return usernames.get(userId)!;
  };
  const notes: NoteView[] = pier.tasks.notes(actor, id).map((note) => ({
    note,
    author: note.author === "agent" ? "Agent" : nameOf(note.userId),
    session: note.sessionId ? { id: note.sessionId, title: sessionTitles.get(note.sessionId) ?? null } : null,
  }));
  const everyone = viewer.role === "admin";
  return {
    task,
    parent: task.parentId ? pier.tasks.get(actor, task.parentId) : null,
    subtasks: pier.tasks.list(actor, { parentId: id }),
    repo: pier.repos.list().find((repo) => repo.id === task.repoId) ?? null,
    notes,
    sessions: sessionRows(pier, visible.filter((session) => session.taskId === id)),
    verification: reportOf(pier, actor, id),
    canWriteReport: pier.verifications.mayStart(actor, id),
    spent: { usd: pier.costs.report(actor, { groupBy: "task" }).find((row) => row.key === id)?.costUsd ?? 0, everyone },
    canDelete: task.createdBy === viewer.id || everyone,
  };
}

/** What the Run form offers the viewer on the task: null once the task is done. */
function runFormChoices(pier: Pier, task: PublicTask): RunFormChoices | null {
  if (task.status === "done") return null;
  const plain = pier.settings.plain();
  return {
    repos: task.repoId ? null : pier.repos.list(),
    engines: engineChoices(pier.agents.list()),
    models: modelChoices(pier.costs.prices().map((price) => price.model)),
    defaults: { engine: plain.defaultEngine, model: plain.defaultModel, budgetUsd: plain.runBudgetUsd === null ? "" : String(plain.runBudgetUsd), autoMerge: plain.autoMerge },
  };
}

/** The task's verification report, or null when none was written yet. */
function reportOf(pier: Pier, actor: Actor, taskId: string): PublicVerification | null {
  try {
    return pier.verifications.get(actor, taskId);
  } catch (error) {
    if (error instanceof AppError && error.status === 404) return null;
    throw error;
  }
}
