// The review page of a session: its conversation, shown as the chat pane shows it but read-only,
// and comments on the lines of its diff, kept in the tray until they are sent to the agent as one
// message (POST /api/sessions/:id/review). Bundled into public/vendor/review.js.

import { type ChatItem, eventOf } from "../chat/protocol.ts";
import { callApi } from "./api.ts";
import { ChatLog } from "./chat-log.ts";
import { showItem } from "./chat-items.ts";
import { el } from "./dom.ts";

declare global {
  interface Window {
    /** For the browser tests: the conversation's items shown, once the transcript is in. */
    pierReview?: { transcriptItems(): number | null };
  }
}

/** A comment as the review API answers it. */
interface Comment {
  id: string;
  path: string;
  line: number;
  body: string;
  sentAt: string | null;
}

let transcriptItems: number | null = null;
window.pierReview = { transcriptItems: () => transcriptItems };

const transcript = document.querySelector<HTMLElement>("[data-transcript]");
if (transcript) void showTranscript(transcript, transcript.dataset.transcript ?? "");
const diff = document.querySelector<HTMLElement>("[data-review]");
if (diff) startComments(diff, diff.dataset.review ?? "");

/** The stored conversation, replayed through the chat's own log; approval cards cannot be answered here. */
async function showTranscript(host: HTMLElement, url: string): Promise<void> {
  const answer = await callApi<ChatItem[]>(url);
  if (!answer.ok) {
    host.replaceChildren(el("p", { class: "form-error", role: "alert" }, answer.message));
    return;
  }
  const log = new ChatLog(async () => "This is the review of the session; answer approvals in the session itself.");
  host.replaceChildren(log.element);
  for (const item of answer.data) showItem(log, eventOf(item), { live: false, announce: false });
  log.settleApprovals([]);
  log.unqueue(0);
  transcriptItems = log.count();
}

/** Choosing a line number opens a comment form under the line; a comment added is kept and shown in the tray. */
function startComments(diff: HTMLElement, api: string): void {
  const tray = document.querySelector<HTMLElement>("#review-comments");
  const waiting = tray?.querySelector<HTMLOListElement>(".review-waiting");
  const none = tray?.querySelector<HTMLElement>(".review-none");
  const sendForm = tray?.querySelector<HTMLFormElement>(".review-send");
  const sendButton = sendForm?.querySelector<HTMLButtonElement>("button");
  const trayError = tray?.querySelector<HTMLElement>(".review-error");

  const trayChanged = () => {
    const count = waiting?.childElementCount ?? 0;
    if (none) none.hidden = count > 0;
    if (sendButton) sendButton.disabled = count === 0;
  };

  diff.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("[data-comment-line]");
    if (!button) return;
    const row = button.closest("tr");
    const file = button.closest<HTMLElement>("[data-path]");
    if (!row || !file) return;
    openForm(row, file.dataset.path ?? "", Number(button.dataset.commentLine));
  });

  const openForm = (row: HTMLTableRowElement, path: string, line: number) => {
    const open = row.nextElementSibling;
    if (open?.classList.contains("diff-comment-form")) {
      open.querySelector("textarea")?.focus();
      return;
    }
    const text = el("textarea", { rows: "3", "aria-label": `Comment on ${path} line ${line}`, maxlength: "2000", placeholder: "What should change here?" });
    const error = el("p", { class: "form-error", role: "alert", hidden: true });
    const add = el("button", { type: "submit", class: "primary small" }, "Add comment");
    const cancel = el("button", { type: "button", class: "small" }, "Cancel");
    const form = el("form", { class: "review-form", "aria-label": `Comment on ${path} line ${line}` }, text, error, el("div", { class: "actions" }, add, cancel));
    const formRow = el("tr", { class: "diff-comment-form" }, el("td", { colspan: "3" }, form));
    row.after(formRow);
    text.focus();
    cancel.addEventListener("click", () => formRow.remove());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      add.disabled = true;
      const answer = await callApi<{ comments: Comment[] }>(api, { method: "POST", body: JSON.stringify({ comments: [{ path, line, body: text.value }] }) });
      add.disabled = false;
      if (!answer.ok) {
        error.textContent = answer.message;
        error.hidden = false;
        return;
      }
      const comment = answer.data.comments[0]!;
      formRow.replaceWith(el("tr", { class: "diff-comments" }, el("td", { colspan: "3" }, commentCard(comment, false))));
      waiting?.append(el("li", {}, commentCard(comment, true)));
      trayChanged();
    });
  };

  // A kept comment can be taken back from the tray.
  waiting?.addEventListener("click", async (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("[data-delete-comment]");
    if (!button) return;
    const id = button.dataset.deleteComment ?? "";
    const response = await fetch(`${api}/comments/${encodeURIComponent(id)}`, { method: "DELETE" }).catch(() => null);
    if (!response || response.status !== 204) {
      showTrayError(response ? `The comment could not be deleted (HTTP ${response.status}).` : "Pier could not be reached.");
      return;
    }
    for (const card of document.querySelectorAll(`[data-comment="${CSS.escape(id)}"]`)) (card.closest(".diff-comments, li") ?? card).remove();
    trayChanged();
  });
  for (const item of waiting?.querySelectorAll<HTMLElement>("[data-comment]") ?? []) item.append(deleteButton(item.dataset.comment ?? ""));

  // Sending goes through the API, which says why when it cannot; then to the session, where the chat shows the message.
  sendForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sendButton) sendButton.disabled = true;
    const answer = await callApi<{ sent: boolean }>(api, { method: "POST", body: JSON.stringify({ comments: [], send: true }) });
    if (!answer.ok) {
      if (sendButton) sendButton.disabled = false;
      showTrayError(answer.message);
      return;
    }
    window.location.href = api.replace(/^\/api/, "").replace(/\/review$/, "");
  });

  function showTrayError(message: string): void {
    if (!trayError) return;
    trayError.textContent = message;
    trayError.hidden = false;
  }
  trayChanged();
}

function commentCard(comment: Comment, inTray: boolean): HTMLElement {
  const meta = el("p", { class: "review-comment-meta muted" });
  if (inTray) meta.append(el("a", { class: "mono", href: `#comment-${comment.id}` }, `${comment.path}:${comment.line}`), " ");
  meta.append(el("span", {}, comment.sentAt ? "sent" : "waiting to be sent"));
  const card = el("article", { class: "review-comment", "data-comment": comment.id, "data-state": comment.sentAt ? "sent" : "kept" }, meta, el("p", { class: "review-comment-body" }, comment.body));
  if (inTray) card.append(deleteButton(comment.id));
  else card.id = `comment-${comment.id}`;
  return card;
}

function deleteButton(id: string): HTMLButtonElement {
  return el("button", { type: "button", class: "small link-button", "data-delete-comment": id }, "Delete");
}
