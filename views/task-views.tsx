import type { Repo } from "../src/repos/repos.ts";
import { Layout, type Viewer } from "./layout.tsx";
import { TaskBoard, type TaskItem } from "./task-board.tsx";
import { type TaskFilter, TaskFilters, TaskList } from "./task-list.tsx";

export type TasksView = "board" | "list";

interface TasksPageProps {
  viewer: Viewer;
  runtime: "docker" | "local";
  view: TasksView;
  /** Every task (the board), or those the filter keeps (the list). */
  items: TaskItem[];
  /** How many tasks there are in all, for "3 of 12 tasks". */
  total: number;
  filter: TaskFilter;
  repos: Repo[];
  /** Why the workflow refused a move made without JavaScript. */
  refusal?: string;
}

/** The Tasks page: the board by status, or the filterable list. */
export function TasksPage(props: TasksPageProps) {
  const views: Array<{ view: TasksView; href: string; label: string }> = [
    { view: "board", href: "/tasks", label: "Board" },
    { view: "list", href: "/tasks?view=list", label: "List" },
  ];
  return (
    <Layout title="Tasks" viewer={props.viewer} runtime={props.runtime} current="/tasks" styles={["/public/tasks.css"]}
      scripts={["/public/vendor/task-board.js"]}>
      <div class="card-head">
        <h1>Tasks</h1>
        <a href="/tasks/new" class="button primary-link">
          New task
        </a>
      </div>
      <nav class="filters" aria-label="Show tasks as">
        {views.map((item) => (
          <a href={item.href} aria-current={props.view === item.view ? "page" : undefined} safe>
            {item.label}
          </a>
        ))}
      </nav>
      <p class="visually-hidden" role="status" aria-live="polite" data-board-announce />
      {props.view === "board" ? (
        <TaskBoard items={props.items} refusal={props.refusal} />
      ) : (
        <>
          <section class="card">
            <TaskFilters filter={props.filter} repos={props.repos} />
          </section>
          <section class="card">
            <TaskList items={props.items} total={props.total} />
          </section>
        </>
      )}
    </Layout>
  );
}
