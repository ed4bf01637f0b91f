// A task's page (views/task-detail.tsx): its Markdown rendered and sanitised, and its live
// regions (its runs among them) drawn again from the server whenever the task's events
// (src/http/task-events.ts) say something changed, with the news told to screen readers. Also asks for a new verification
// report through the API, and counts how long one has been in the writing.
// Bundled into public/vendor/task-page.js.

import type { TaskStreamEvent } from "../http/task-events.ts";
import { callApi } from "./api.ts";
import { renderMarkdown } from "./chat-markdown.ts";
import { fetchHtml, replaceRegions, serialRunner } from "./live-regions.ts";

declare global {
  interface Window {
    /** For the browser tests: how many times the page was drawn again from its events. */
    pierTask?: { refreshes(): number };
  }
}

/** The raw Markdown the server put in the page (as text) becomes sanitised HTML, once. */
function renderMarkdownIn(root: ParentNode): void {
  for (const element of root.querySelectorAll<HTMLElement>("[data-markdown]:not([data-rendered])")) {
    element.replaceChildren(renderMarkdown(element.textContent ?? ""));
    element.dataset.rendered = "";
  }
}

/** "for 12 s" beside a report being written, counted from when it started. */
function tickElapsed(): void {
  for (const time of document.querySelectorAll<HTMLElement>("[data-elapsed-since]")) {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(time.dataset.elapsedSince!)) / 1000));
    time.textContent = seconds < 120 ? `for ${seconds} s` : `for ${Math.round(seconds / 60)} min`;
  }
}

const page = document.querySelector<HTMLElement>("[data-task-events]");
if (page) startTaskPage(page.dataset.taskEvents!);

function startTaskPage(eventsUrl: string): void {
  renderMarkdownIn(document);
  // htmx draws the whole page again after each of its forms; its Markdown needs rendering too.
  new MutationObserver(() => renderMarkdownIn(document)).observe(document.body, { childList: true, subtree: true });
  tickElapsed();
  setInterval(tickElapsed, 1000);

  const announce = (text: string) => {
    const announcer = document.querySelector<HTMLElement>("[data-task-announce]");
    if (announcer) announcer.textContent = text;
  };
  const statusShown = () => document.querySelector<HTMLElement>("#task-head")?.dataset.status;
  const statusLabel = () => document.querySelector("#task-head .task-status")?.textContent ?? "";
  const reportShown = () => document.querySelector<HTMLElement>("#task-verification")?.dataset.verification;
  /** Each run's attempt and state label, as the page shows them. */
  const runsShown = () =>
    new Map(
      [...document.querySelectorAll<HTMLElement>("#task-runs [data-run]")].map((run) => [
        run.dataset.run!,
        { attempt: run.getAttribute("aria-label") ?? "A run", state: run.querySelector(".run-state")?.textContent ?? "" },
      ]),
    );

  const source = new EventSource(eventsUrl);
  const gone = () => {
    source.close();
    const notice = document.createElement("p");
    notice.className = "notice-warn";
    notice.setAttribute("role", "alert");
    notice.textContent = "This task was deleted.";
    document.querySelector(".task-page")?.prepend(notice);
  };

  let refreshes = 0;
  window.pierTask = { refreshes: () => refreshes };
  const refresh = serialRunner(async () => {
    const [status, report, runs] = [statusShown(), reportShown(), runsShown()];
    const { status: code, html } = await fetchHtml(window.location.pathname);
    if (code === 404) return gone();
    if (!html) return;
    replaceRegions(html, ".task-page [data-live][id]");
    refreshes++;
    tickElapsed();
    const news = [
      statusShown() !== status ? `The task is now ${statusLabel()}.` : "",
      reportShown() !== report ? (REPORT_NEWS[reportShown() ?? ""] ?? "") : "",
      ...[...runsShown()].map(([id, now]) => (runs.get(id)?.state === now.state ? "" : `${now.attempt} is ${now.state}.`)),
    ];
    if (news.some(Boolean)) announce(news.filter(Boolean).join(" "));
  });

  // The stream starts with the task as it stands (again after each reconnection), so whatever
  // changed since the page was drawn is caught up by the same refresh as any news.
  source.onmessage = (message) => {
    const event = JSON.parse(message.data) as TaskStreamEvent;
    if (event.type === "task" && event.task === null) return gone();
    refresh();
  };

  document.addEventListener("submit", async (event) => {
    const form = (event.target as Element).closest<HTMLFormElement>("form[data-api-post]");
    if (!form) return;
    event.preventDefault();
    const error = form.querySelector<HTMLElement>("[data-api-error]");
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button) button.disabled = true;
    const answer = await callApi(form.dataset.apiPost!, { method: "POST" });
    if (button) button.disabled = false;
    if (error) {
      error.textContent = answer.ok ? "" : answer.message;
      error.hidden = answer.ok;
    }
    if (answer.ok) refresh();
  });
}

const REPORT_NEWS: Record<string, string> = {
  pending: "The verification report is being written.",
  ready: "The verification report is ready.",
  failed: "The verification report could not be written.",
};
