// The Tasks page (views/task-views.tsx): cards move between the board's columns by dragging, by
// their "Move to…" menu, or from the keyboard (Shift + → / ← on a card's title). Every move asks
// the API; the card changes column only once the workflow allowed it, and a refusal is shown as
// the server's sentence with the card left where it was. Moves are announced for screen readers.
// The list view's filters are htmx's; this only tells screen readers how many tasks remain.
// Bundled into public/vendor/task-board.js.

import type { PublicTask } from "../tasks/tasks.ts";
import { callApi } from "./api.ts";
import { elementFrom, fetchHtml } from "./live-regions.ts";

/** What a card carries while dragged, so that only cards (not text or links) can be dropped. */
const CARD_TYPE = "application/x-pier-task";

const announcer = document.querySelector<HTMLElement>("[data-board-announce]");
const announce = (text: string) => {
  if (announcer) announcer.textContent = text;
};

const board = document.querySelector<HTMLElement>("[data-board]");
if (board) wireBoard(board);

document.addEventListener("htmx:after:swap", () => {
  const count = document.querySelector("#task-results [data-task-count]");
  if (count) announce(count.textContent ?? "");
});

function wireBoard(board: HTMLElement): void {
  const refusal = document.querySelector<HTMLElement>("[data-board-refusal]");
  const showRefusal = (message: string | null) => {
    if (!refusal) return;
    refusal.textContent = message ?? "";
    refusal.hidden = message === null;
  };
  const columns = () => [...board.querySelectorAll<HTMLElement>("[data-column]")];
  const columnOf = (status: string) => columns().find((column) => column.dataset.column === status);
  const labelOf = (status: string) => columnOf(status)?.querySelector("[data-column-label]")?.textContent ?? status;
  const cardOf = (id: string) => board.querySelector<HTMLElement>(`.task-card[data-task="${CSS.escape(id)}"]`);
  const titleOf = (card: HTMLElement) => card.querySelector(".task-card-title")?.textContent?.trim() ?? "The task";

  const recount = () => {
    for (const column of columns()) {
      const cards = column.querySelectorAll(".task-card").length;
      const count = column.querySelector("[data-column-count]");
      if (count) count.textContent = String(cards);
      const empty = column.querySelector<HTMLElement>(".board-empty");
      if (empty) empty.hidden = cards > 0;
    }
  };

  /** Asks the API to move the card's task to `to`; on success the card is drawn again in its new column. */
  const move = async (card: HTMLElement, to: string) => {
    const id = card.dataset.task!;
    if (card.dataset.status === to || card.getAttribute("aria-busy") === "true") return;
    showRefusal(null);
    card.setAttribute("aria-busy", "true");
    const answer = await callApi<PublicTask>(`/api/tasks/${encodeURIComponent(id)}`, { method: "PATCH", body: JSON.stringify({ status: to }) });
    card.removeAttribute("aria-busy");
    const title = titleOf(card);
    if (!answer.ok) {
      showRefusal(answer.message);
      return;
    }
    const hadFocus = card.contains(document.activeElement);
    // The server draws the card as the new status has it (its Move menu offers the next moves).
    const { html } = await fetchHtml(`/tasks/${encodeURIComponent(id)}/card`);
    const fresh = (html ? elementFrom(html) : null) as HTMLElement | null;
    const placed = fresh ?? card;
    placed.dataset.status = answer.data.status;
    columnOf(answer.data.status)?.querySelector(".board-cards")?.append(placed);
    if (fresh) card.remove();
    recount();
    if (hadFocus) placed.querySelector<HTMLElement>(".task-card-title")?.focus();
    announce(`${title} moved to ${labelOf(answer.data.status)}.`);
  };

  board.addEventListener("dragstart", (event) => {
    const card = (event.target as Element).closest<HTMLElement>(".task-card");
    if (!card || !event.dataTransfer) return;
    event.dataTransfer.setData(CARD_TYPE, card.dataset.task!);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  board.addEventListener("dragend", (event) => {
    (event.target as Element).closest(".task-card")?.classList.remove("dragging");
    for (const column of columns()) column.classList.remove("drop-target");
  });
  for (const column of columns()) {
    column.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes(CARD_TYPE)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", (event) => {
      if (!column.contains(event.relatedTarget as Node | null)) column.classList.remove("drop-target");
    });
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      column.classList.remove("drop-target");
      const card = cardOf(event.dataTransfer?.getData(CARD_TYPE) ?? "");
      if (card) void move(card, column.dataset.column!);
    });
  }

  // Shift + → / ← on a card's title moves it one column along (the workflow may still refuse).
  board.addEventListener("keydown", (event) => {
    if (!event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const target = event.target as Element;
    if (!target.matches(".task-card, .task-card-title")) return;
    const card = target.closest<HTMLElement>(".task-card")!;
    event.preventDefault();
    const order = columns().map((column) => column.dataset.column!);
    const next = order[order.indexOf(card.dataset.status!) + (event.key === "ArrowRight" ? 1 : -1)];
    if (next) void move(card, next);
    else announce(`${titleOf(card)} is already in the ${event.key === "ArrowRight" ? "last" : "first"} column.`);
  });

  // The Move menu: its buttons would post the form to the page; here they ask the API instead.
  board.addEventListener("submit", (event) => {
    const form = (event.target as Element).closest<HTMLFormElement>("[data-move-form]");
    const to = (event.submitter as HTMLButtonElement | null)?.value;
    const card = form?.closest<HTMLElement>(".task-card");
    if (!form || !to || !card) return;
    event.preventDefault();
    const menu = form.closest("details");
    if (menu) menu.open = false;
    void move(card, to);
  });
}
