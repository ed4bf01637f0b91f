import type { TaskStatus } from "../src/tasks/tables.ts";
import type { PublicTask } from "../src/tasks/tasks.ts";
import { BOARD_STATUSES, DueDate, PriorityBadge, STATUS_LABEL, SubtaskProgress, movesFrom } from "./task-parts.tsx";

/** A task as a card or a row shows it: with the names of its repository and its parent. */
export interface TaskItem {
  task: PublicTask;
  repoName: string | null;
  parentTitle: string | null;
}

/**
 * The board: a column per status. Cards move by dragging, by their Move menu, or from the
 * keyboard (src/client/task-board.ts); without JavaScript the menu is a plain form.
 */
export function TaskBoard(props: { items: TaskItem[]; refusal?: string }) {
  return (
    <>
      <p class="hint" id="board-help">
        Move a card by dragging it to another column, with its “Move to…” menu, or by focusing its title and pressing Shift + → or
        Shift + ←.
      </p>
      <p class="form-error board-refusal" role="alert" data-board-refusal hidden={!props.refusal} safe>
        {props.refusal ?? ""}
      </p>
      <div class="board" data-board>
        {BOARD_STATUSES.map((status) => (
          <BoardColumn status={status} items={props.items.filter((item) => item.task.status === status)} />
        ))}
      </div>
    </>
  );
}

function BoardColumn(props: { status: TaskStatus; items: TaskItem[] }) {
  const heading = `column-${props.status}`;
  return (
    <section class="board-column" data-column={props.status} aria-labelledby={heading}>
      <h2 id={heading} class="board-column-head">
        <span data-column-label safe>
          {STATUS_LABEL[props.status]}
        </span>
        <span class="pane-count">
          <span data-column-count safe>
            {String(props.items.length)}
          </span>
          <span class="visually-hidden"> tasks</span>
        </span>
      </h2>
      <ol class="board-cards" aria-labelledby={heading}>
        {props.items.map((item) => (
          <TaskCard item={item} />
        ))}
      </ol>
      <p class="empty board-empty" hidden={props.items.length > 0}>
        No tasks.
      </p>
    </section>
  );
}

/** One card; src/http/pages/task-pages.tsx serves it alone too, for the board to redraw a card after a move. */
export function TaskCard(props: { item: TaskItem }) {
  const { task, repoName, parentTitle } = props.item;
  return (
    <li class="task-card" id={`card-${task.id}`} data-task={task.id} data-status={task.status} draggable="true">
      <a class="task-card-title" href={`/tasks/${task.id}`} draggable="false" aria-describedby="board-help" safe>
        {task.title}
      </a>
      {parentTitle ? (
        <p class="task-card-parent muted" safe>
          {`Subtask of ${parentTitle}`}
        </p>
      ) : (
        ""
      )}
      <div class="task-card-facts">
        <PriorityBadge priority={task.priority} />
        <DueDate task={task} />
        <SubtaskProgress subtasks={task.subtasks} />
        {repoName ? (
          <span class="muted mono" safe>
            {repoName}
          </span>
        ) : (
          ""
        )}
      </div>
      <MoveMenu task={task} />
    </li>
  );
}

/** The moves the workflow allows from the card's column, as buttons; nothing once a task is done. */
function MoveMenu(props: { task: PublicTask }) {
  const moves = movesFrom(props.task.status);
  if (moves.length === 0) return "";
  return (
    <details class="move-menu">
      <summary aria-label={`Move “${props.task.title}” to…`}>Move to…</summary>
      <form method="post" action={`/tasks/${props.task.id}/status`} data-move-form>
        <input type="hidden" name="back" value="board" />
        {moves.map((to) => (
          <button type="submit" name="status" value={to} class="small" safe>
            {STATUS_LABEL[to]}
          </button>
        ))}
      </form>
    </details>
  );
}
