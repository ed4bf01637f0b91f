// The unattended run on its session's page (views/session-run.tsx), drawn again from the server
// whenever the session's events (src/http/session-events.ts) say the run moved on, spent or saw
// its pull request change, with a new state told to screen readers. Part of session-task.js,
// which already follows the session's events: one stream per page is enough.

import type { SessionStreamEvent } from "../http/session-events.ts";
import { elementFrom, fetchHtml, replaceRegion, serialRunner } from "./live-regions.ts";

/** What to do with each of the session's events for its run's panel; null when the page has none. */
export function runPanelFollower(sessionId: string): ((event: SessionStreamEvent | null) => void) | null {
  if (!document.getElementById("session-run")) return null;
  const current = () => document.getElementById("session-run");
  const stateShown = () => current()?.querySelector(".run-state")?.textContent ?? "";

  const refresh = serialRunner(async () => {
    const before = stateShown();
    const { html } = await fetchHtml(`/sessions/${encodeURIComponent(sessionId)}/run`);
    const fresh = html ? elementFrom(html) : null;
    const shown = current();
    if (!fresh || !shown) return;
    replaceRegion(shown, fresh);
    const now = stateShown();
    const announcer = document.getElementById("session-run-announce");
    if (announcer && now && now !== before) announcer.textContent = `The run is now ${now}.`;
  });

  // null: the stream (re)opened, and what changed meanwhile came as no event.
  return (event) => {
    if (event === null || event.type === "run" || event.type === "cost" || event.type === "pr" || event.type === "state") refresh();
  };
}
