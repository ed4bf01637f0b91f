// The task in a session page's header (views/session-task.tsx): linking or changing it goes to
// PATCH /api/sessions/:id, and the entry is drawn again from the server after that and whenever
// the session's events (src/http/session-events.ts) say its task changed, so its status stays
// current while the agent works; the panel of the run the session belongs to follows the same
// events (session-run.ts). Bundled into public/vendor/session-task.js.

import type { SessionStreamEvent } from "../http/session-events.ts";
import { callApi } from "./api.ts";
import { elementFrom, fetchHtml, replaceRegion, serialRunner } from "./live-regions.ts";
import { runPanelFollower } from "./session-run.ts";

const entry = document.querySelector<HTMLElement>("[data-session-task]");
if (entry) startSessionTask(entry.dataset.sessionTask!);

function startSessionTask(sessionId: string): void {
  const current = () => document.getElementById("session-task");
  const statusShown = () => current()?.querySelector(".task-status")?.textContent ?? "";
  const say = (text: string) => {
    const announcer = document.getElementById("session-task-announce");
    if (announcer) announcer.textContent = text;
  };

  const refresh = serialRunner(async () => {
    const before = statusShown();
    const { html } = await fetchHtml(`/sessions/${encodeURIComponent(sessionId)}/task`);
    const fresh = html ? elementFrom(html) : null;
    const shown = current();
    if (!fresh || !shown) return;
    replaceRegion(shown, fresh);
    const now = statusShown();
    if (now && before && now !== before) say(`The session's task is now ${now}.`);
  });

  document.addEventListener("submit", async (event) => {
    const form = (event.target as Element).closest<HTMLFormElement>("[data-link-task]");
    if (!form) return;
    event.preventDefault();
    const error = form.querySelector<HTMLElement>("[data-link-task-error]")!;
    const taskId = (form.elements.namedItem("taskId") as HTMLSelectElement).value;
    const answer = await callApi(`/api/sessions/${encodeURIComponent(sessionId)}`, { method: "PATCH", body: JSON.stringify({ taskId }) });
    error.textContent = answer.ok ? "" : answer.message;
    error.hidden = answer.ok;
    if (!answer.ok) return;
    const { html } = await fetchHtml(`/sessions/${encodeURIComponent(sessionId)}/task`);
    const fresh = html ? elementFrom(html) : null;
    const shown = current();
    if (!fresh || !shown) return;
    shown.replaceWith(fresh);
    fresh.querySelector<HTMLElement>("summary")?.focus();
    say(taskId ? `Linked to ${fresh.querySelector("dd a")?.textContent ?? "the task"}.` : "The session is no longer linked to a task.");
  });

  // Another member's feedback goes to the agent only when the person passes it on, as their message.
  document.addEventListener("submit", async (event) => {
    const form = (event.target as Element).closest<HTMLFormElement>("[data-pass-on]");
    if (!form) return;
    event.preventDefault();
    const error = form.querySelector<HTMLElement>("[data-pass-on-error]")!;
    const noteId = (form.elements.namedItem("noteId") as HTMLInputElement).value;
    const answer = await callApi(`/api/sessions/${encodeURIComponent(sessionId)}/feedback`, { method: "POST", body: JSON.stringify({ noteId }) });
    error.textContent = answer.ok ? "" : answer.message;
    error.hidden = answer.ok;
    if (!answer.ok) return;
    form.querySelector("button")?.remove();
    const done = document.createElement("p");
    done.className = "muted";
    done.textContent = "Passed on to the agent.";
    form.append(done);
    say("The feedback was passed on to the agent.");
  });

  const followRun = runPanelFollower(sessionId);
  const source = new EventSource(`/api/sessions/${encodeURIComponent(sessionId)}/events`);
  // What changed between the page being made and the stream opening (or while it was down) came
  // as no event: looked at once each time it opens.
  source.onopen = () => {
    refresh();
    followRun?.(null);
  };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data) as SessionStreamEvent;
    if (event.type === "task") refresh();
    followRun?.(event);
  };
}
