import { type Actor, personActor } from "../../auth/actor.ts";
import type { User } from "../../auth/user.ts";
import type { Pier } from "../../pier.ts";
import type { Activity, DashboardLiveProps } from "../../../views/dashboard-view.tsx";
import { FINAL_RUN_STATES, RUN_STATES, type RunState } from "../../runs/tables.ts";
import type { DashboardRuns } from "../../../views/dashboard-runs.tsx";
import type { RunView } from "../../../views/run-parts.tsx";
import { runViews } from "./run-views.ts";
import { sessionRows } from "./session-pages.tsx";

const ACTIVITY = 10;

/** What the dashboard shows a person, read in a handful of indexed queries whatever the history's size. */
export function dashboardProps(pier: Pier, viewer: User): DashboardLiveProps {
  const actor: Actor = personActor(viewer);
  const own = { userId: viewer.id, limit: "200" };
  const live = [...pier.sessions.query(actor, { ...own, state: "provisioning" }).sessions, ...pier.sessions.query(actor, { ...own, state: "active" }).sessions].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
  );
  const recent = pier.sessions.query(actor, { userId: viewer.id, limit: String(ACTIVITY) }).sessions;
  const activity: Activity[] = [];
  for (const session of recent) {
    const href = `/sessions/${session.id}`;
    activity.push({ at: session.createdAt, text: `Started “${session.title}”`, href });
    if (session.endedAt) activity.push({ at: session.endedAt, text: `${session.state === "failed" ? "Failed" : "Ended"} “${session.title}”`, href });
  }
  for (const [sessionId, prs] of pier.prs.bySession(recent.map((s) => s.id))) {
    for (const pr of prs) activity.push({ at: new Date(pr.updatedAt), text: `Pull request #${pr.number} ${pr.state}: ${pr.title}`, href: `/sessions/${sessionId}` });
  }
  activity.sort((a, b) => b.at.getTime() - a.at.getTime());
  // Everyone's spending against the budget is an admin's to see, and anyone's warning once crossed.
  const budget = pier.costs.budget();
  return {
    viewer,
    live: sessionRows(pier, live),
    repos: pier.repos.list().map((repo) => ({ repo, pod: pier.pods.view(repo.id, viewer.id) })),
    activity: activity.slice(0, ACTIVITY),
    month: { mineUsd: pier.costs.spentThisMonthBy(viewer.id), budget: viewer.role === "admin" || budget.crossed ? budget : null },
    runs: runsUnderWay(pier, viewer),
  };
}

/** The runs not yet over, a state at a time. */
const UNDER_WAY: RunState[] = RUN_STATES.filter((state) => !FINAL_RUN_STATES.includes(state));

/**
 * The person's own runs under way (an admin sees everyone's elsewhere, as with sessions), newest
 * first: those awaiting their approval or whose agent waits on a tool's approval apart.
 */
function runsUnderWay(pier: Pier, viewer: User): DashboardRuns {
  const actor = personActor(viewer);
  const runs = UNDER_WAY.flatMap((state) => pier.runs.query(actor, { state, limit: "50" }).runs)
    .filter((run) => run.userId === viewer.id)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const titles = pier.tasks.titles([...new Set(runs.map((run) => run.taskId))]);
  const views = runViews(pier, runs).map((view) => ({ ...view, taskTitle: titles.get(view.run.taskId) ?? "A task" }));
  const waits = (view: RunView) => view.run.state === "awaiting_approval" || view.attention === "approval";
  return { waiting: views.filter(waits), inFlight: views.filter((view) => !waits(view)) };
}
