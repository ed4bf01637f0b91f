import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import type { User } from "../../auth/users.ts";
import { asInput, readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { listRepos } from "../../repos/repos.ts";
import { NewTaskInput, type PublicTask, TaskChangesInput } from "../../tasks/tasks.ts";
import type { FormState } from "../../../views/components.tsx";
import { TaskCard, type TaskItem } from "../../../views/task-board.tsx";
import { NewTaskPage } from "../../../views/task-form.tsx";
import { type TaskFilter, noFilter } from "../../../views/task-list.tsx";
import { TasksPage } from "../../../views/task-pages.tsx";
import { type PageContext, formFailure, pageUser, redirectResponse } from "./respond.ts";

/** The Tasks page (board and list), and New task. */
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
        repos={listRepos(pier.db)} refusal={refusal} />
    );
  };
  const newTaskPage = (viewer: User, form: FormState) => (
    <NewTaskPage viewer={viewer} {...common} form={form} repos={listRepos(pier.db)} tasks={pier.tasks.list(personActor(viewer))} />
  );

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
        pier.tasks.create(personActor(viewer), readInput(NewTaskInput, ctx.body));
        return redirectResponse(ctx.request, "/tasks");
      } catch (error) {
        return newTaskPage(viewer, formFailure(error, ctx.body, ctx.set));
      }
    })
    .get("/tasks/:id/card", (ctx) => {
      const actor = personActor(pageUser(pier, ctx));
      const task = pier.tasks.get(actor, ctx.params.id);
      return <TaskCard item={taskItems(pier, pier.tasks.list(actor), [task])[0]!} />;
    })
    // The board's Move menu without JavaScript: back to the board, with the refusal if any.
    .post("/tasks/:id/status", (ctx) => {
      const viewer = pageUser(pier, ctx);
      try {
        pier.tasks.update(personActor(viewer), ctx.params.id, statusChange(ctx.body));
        return redirectResponse(ctx.request, "/tasks");
      } catch (error) {
        return tasksPage(ctx, viewer, formFailure(error, ctx.body, ctx.set).error?.message);
      }
    });
}

/** Only the status: the Move forms carry nothing else the task should take. */
function statusChange(body: unknown) {
  return readInput(TaskChangesInput, { status: asInput(body).status });
}

/** `tasks` with the names a card or row shows beside them; `all` is where parents are found. */
function taskItems(pier: Pier, all: PublicTask[], tasks: PublicTask[]): TaskItem[] {
  const repoNames = new Map(listRepos(pier.db).map((repo) => [repo.id, repo.name]));
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
