import type { Repo } from "../src/repos/repos.ts";
import type { TaskItem } from "./task-board.tsx";
import { BOARD_STATUSES, DueDate, PRIORITIES, PRIORITY_LABEL, PriorityBadge, STATUS_LABEL, SubtaskProgress, TaskStatusPill } from "./task-parts.tsx";

/** What the list is filtered by; an empty value means any. */
export interface TaskFilter {
  status: string;
  priority: string;
  repoId: string;
  /** Words to find in the title. */
  q: string;
}

export const noFilter: TaskFilter = { status: "", priority: "", repoId: "", q: "" };

/**
 * The filters: a GET form that works without JavaScript; with htmx it refreshes the results as
 * the person types or picks, and keeps the address in step so a filtered list can be shared.
 */
/** One of the filters' choices, "Any" first; `options` are [value, label] pairs. */
function FilterSelect(props: { name: string; id?: string; label: string; value: string | undefined; options: Array<[string, string]> }) {
  const id = props.id ?? `filter-${props.name}`;
  return (
    <div class="field">
      <label for={id} safe>
        {props.label}
      </label>
      <select id={id} name={props.name}>
        <option value="">Any</option>
        {props.options.map(([value, label]) => (
          <option value={value} selected={props.value === value} safe>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function TaskFilters(props: { filter: TaskFilter; repos: Repo[] }) {
  const { filter } = props;
  return (
    <form class="task-filters" method="get" action="/tasks" role="search" aria-label="Filter tasks" hx-get="/tasks" hx-include="this"
      hx-trigger="submit, change, input delay:300ms" hx-target="#task-results" hx-select="#task-results" hx-swap="outerHTML"
      hx-push-url="true">
      <input type="hidden" name="view" value="list" />
      <div class="field">
        <label for="filter-q">Title contains</label>
        <input id="filter-q" name="q" type="search" value={filter.q} autocomplete="off" />
      </div>
      <FilterSelect name="status" label="Status" value={filter.status} options={BOARD_STATUSES.map((status) => [status, STATUS_LABEL[status]])} />
      <FilterSelect name="priority" label="Priority" value={filter.priority} options={PRIORITIES.map((priority) => [priority, PRIORITY_LABEL[priority]])} />
      <FilterSelect name="repoId" id="filter-repo" label="Repository" value={filter.repoId} options={props.repos.map((repo) => [repo.id, repo.name])} />
      <button type="submit">Filter</button>
    </form>
  );
}

export function TaskList(props: { items: TaskItem[]; total: number }) {
  return (
    <div id="task-results">
      <p class="muted task-count" data-task-count safe>
        {props.items.length === props.total ? `${props.total} tasks` : `${props.items.length} of ${props.total} tasks`}
      </p>
      {props.items.length === 0 ? (
        <p class="empty">No task matches these filters.</p>
      ) : (
        <ul class="list" aria-label="Tasks">
          {props.items.map(({ task, repoName, parentTitle }) => (
            <li class="list-row" data-task={task.id}>
              <a href={`/tasks/${task.id}`} class="list-title" safe>
                {task.title}
              </a>
              <TaskStatusPill status={task.status} />
              <PriorityBadge priority={task.priority} always />
              <DueDate task={task} />
              <SubtaskProgress subtasks={task.subtasks} />
              {parentTitle ? (
                <span class="muted" safe>
                  {`Subtask of ${parentTitle}`}
                </span>
              ) : (
                ""
              )}
              {repoName ? (
                <span class="muted mono" safe>
                  {repoName}
                </span>
              ) : (
                ""
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
