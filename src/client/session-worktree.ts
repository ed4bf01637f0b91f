// A live session page's watch on its worktree (views/session-views.tsx, WorktreeGone): it asks
// GET /api/sessions/:id/worktree when the page opens, whenever it comes back into view and every
// little while as long as it is shown, and when the worktree was deleted by hand says so with the
// offer to restore it from the branch (POST /api/sessions/:id/restore-worktree), whose answer
// says what came back. Bundled into public/vendor/session-worktree.js.

import { callApi } from "./api.ts";

/** How often a page in view asks again: each ask is one small command in the pod. */
const CHECK_EVERY_MS = 15_000;

const gone = document.querySelector<HTMLElement>("[data-worktree-gone]");
if (gone) watchWorktree(gone, gone.dataset.worktreeGone!);

function watchWorktree(gone: HTMLElement, sessionId: string): void {
  const base = `/api/sessions/${encodeURIComponent(sessionId)}`;
  const restored = document.querySelector<HTMLElement>("[data-worktree-restored]")!;
  const error = gone.querySelector<HTMLElement>("[data-restore-worktree-error]")!;
  const button = gone.querySelector<HTMLButtonElement>("[data-restore-worktree]")!;
  let asking = false;

  const check = async () => {
    if (asking || document.visibilityState !== "visible") return;
    asking = true;
    const answer = await callApi<{ present: boolean }>(`${base}/worktree`);
    asking = false;
    // A failed ask (the pod being made again, the network) says nothing either way.
    if (!answer.ok) return;
    const wasHidden = gone.hidden;
    gone.hidden = answer.data.present;
    if (wasHidden && !gone.hidden) restored.hidden = true;
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    const answer = await callApi<{ message: string }>(`${base}/restore-worktree`, { method: "POST", body: "{}" });
    button.disabled = false;
    error.hidden = answer.ok;
    if (!answer.ok) {
      // Someone else restored it meanwhile: there is nothing left to offer.
      if (answer.status === 409) void check();
      error.textContent = answer.message;
      return;
    }
    gone.hidden = true;
    restored.textContent = answer.data.message;
    restored.hidden = false;
  });

  document.addEventListener("visibilitychange", () => void check());
  window.addEventListener("focus", () => void check());
  setInterval(() => void check(), CHECK_EVERY_MS);
  void check();
}
