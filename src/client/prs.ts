// The session page's pull requests panel (views/pr-views.tsx), kept up to date from the session's
// server-sent events (src/http/session-events.ts): each change of a pull request is redrawn in
// place, GitHub's rate limit is shown while it lasts, and news goes to a browser notification
// when the person asked for them. Bundled into public/vendor/prs.js.

import type { SessionStreamEvent } from "../http/session-events.ts";
import { resumeTime } from "../prs/badges.ts";
import type { PublicPr } from "../prs/pull-requests.ts";
import { wireAddPrForm, wireOpenPrForm } from "./pr-forms.ts";
import { PrList } from "./pr-list.ts";
import { PrNotifications } from "./pr-notify.ts";
import { showSessionCost } from "./session-cost.ts";

declare global {
  interface Window {
    /** For the browser tests: how many pull request updates arrived live. */
    pierPrs?: { updates(): number };
  }
}

const root = document.querySelector<HTMLElement>("[data-prs]");
if (root) startPrPanel(root, root.dataset.prs ?? "");

function startPrPanel(root: HTMLElement, sessionId: string): void {
  const list = new PrList(root, document.querySelector<HTMLElement>("#pane-prs [data-pane-count]"));
  const notifications = new PrNotifications(
    root.querySelector<HTMLButtonElement>("[data-pr-notify]")!,
    root.querySelector<HTMLElement>("[data-pr-notify-state]")!,
  );
  const rateLimit = rateLimitNotice(root.querySelector<HTMLElement>("[data-pr-rate-limit]")!);
  const announcer = root.querySelector<HTMLElement>("[data-pr-announce]");
  const announce = (text: string) => {
    if (announcer) announcer.textContent = text;
  };

  // What the person did here themself is no news to notify them of. The event stream carries every
  // change in order and has usually drawn the pull request already; the answer to the form only
  // stands in for it when it has not, so it never draws over something newer.
  const showOwn = (pr: PublicPr) => {
    if (!list.has(pr.number)) list.apply(pr);
  };
  wireOpenPrForm(root, sessionId, (pr) => {
    showOwn(pr);
    announce(`Pull request #${pr.number} opened.`);
    root.querySelector<HTMLElement>(`[data-pr="${pr.number}"] .pr-title`)?.focus();
  });
  wireAddPrForm(root, sessionId, (pr) => {
    showOwn(pr);
    announce(`Pull request #${pr.number} added.`);
  });

  let updates = 0;
  window.pierPrs = { updates: () => updates };
  const source = new EventSource(`/api/sessions/${sessionId}/events`);
  let interrupted = false;
  source.onmessage = (message) => {
    const event = JSON.parse(message.data) as SessionStreamEvent;
    if (event.type === "github") rateLimit(event.rateLimitedUntil);
    // The page's one stream of session events carries the cost too (Claude Code's, through the gateway).
    if (event.type === "cost") showSessionCost(event.sessionCostUsd);
    if (event.type !== "pr") return;
    updates++;
    const before = list.apply(event.pr);
    if (before) notifications.tell(before, event.pr);
  };
  source.onerror = () => {
    interrupted = true;
  };
  // The browser reconnects by itself; what changed in between is caught up with quietly.
  source.onopen = async () => {
    if (!interrupted) return;
    interrupted = false;
    const response = await fetch(`/api/sessions/${sessionId}/prs`, { headers: { accept: "application/json" } }).catch(() => null);
    if (!response?.ok) return;
    for (const pr of (await response.json()) as PublicPr[]) list.apply(pr);
  };
}

/** Shows when checks resume while GitHub limits the rate, and hides itself once that time has come. */
function rateLimitNotice(notice: HTMLElement): (until: string | null) => void {
  const time = notice.querySelector("time")!;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const show = (until: string | null) => {
    clearTimeout(timer);
    notice.hidden = until === null;
    if (until === null) return;
    time.dateTime = until;
    time.textContent = resumeTime(until);
    timer = setTimeout(() => show(null), Math.max(0, Date.parse(until) - Date.now()));
  };
  return show;
}
