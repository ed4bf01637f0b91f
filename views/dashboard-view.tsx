import type { BudgetStatus } from "../src/costs/budget.ts";
import type { PodView } from "../src/pods/pods.ts";
import type { Repo } from "../src/repos/repos.ts";
import { formatDate, formatUsd } from "./components.tsx";
import { BudgetWarning } from "./cost-views.tsx";
import { type DashboardRuns, RunsUnderWay } from "./dashboard-runs.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { ATTENTION_LABEL, SessionList, type SessionRow } from "./session-views.tsx";

/** One line of recent activity: something that happened to one of the person's sessions. */
export interface Activity {
  at: Date;
  text: string;
  href: string;
}

export interface DashboardLiveProps {
  viewer: Viewer;
  /** The person's live sessions, newest first. */
  live: SessionRow[];
  repos: Array<{ repo: Repo; pod: PodView | null }>;
  activity: Activity[];
  /** This month's spending: the person's own, and (admins) everyone's against the budget. */
  month: { mineUsd: number; budget: BudgetStatus | null };
  /** The person's runs under way: those waiting for a person, and the rest. */
  runs: DashboardRuns;
}

/**
 * The dashboard: what needs the person, their runs under way, their live sessions (engine, running cost, pull requests
 * with CI, linked task), their repositories' pods, recent activity and this month's spending,
 * with New Session at hand. The live part is also served on its own, so the page can replace it
 * whenever the server says something changed.
 */
export function DashboardPage(props: DashboardLiveProps & { runtime: "docker" | "local" }) {
  return (
    <Layout title="Dashboard" viewer={props.viewer} runtime={props.runtime} current="/" styles={["/public/runs.css"]} scripts={["/public/vendor/dashboard.js", "/public/vendor/push-enable.js"]}>
      <div class="card-head">
        <h1 safe>Hello, {props.viewer.username}</h1>
        <div class="card-actions">
          <button type="button" class="button" data-enable-notifications hidden>
            Turn on notifications
          </button>
          <a href="/sessions/new" class="button primary-link">
            New session
          </a>
        </div>
      </div>
      <p class="muted" role="status" data-notifications-status hidden></p>
      <div id="dashboard-live" data-dashboard-live="/?part=live" aria-live="polite">
        <DashboardLive {...props} />
      </div>
    </Layout>
  );
}

export function DashboardLive(props: DashboardLiveProps) {
  const needing = props.live.filter((row) => row.session.attention);
  const { month } = props;
  return (
    <>
      {month.budget ? <BudgetWarning budget={month.budget} /> : ""}
      <section class="card" aria-labelledby="needs-you-heading">
        <h2 id="needs-you-heading">Needs you</h2>
        <p class="empty" data-needs-you-empty hidden={needing.length > 0}>
          Nothing waits for you. Sessions show here when a turn ends, an approval waits, or their terminal rings or goes quiet while you are elsewhere.
        </p>
        <ul class="list" data-needs-you-list aria-label="Sessions that need you">
          {needing.map(({ session, repoName }) => (
            <li class="list-row">
              <a href={`/sessions/${session.id}`} class="list-title" safe>
                {session.title}
              </a>
              <span class="badge badge-waiting" safe>
                {ATTENTION_LABEL[session.attention!] ?? session.attention}
              </span>
              <span class="muted" safe>
                {repoName}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <RunsUnderWay runs={props.runs} />
      <section class="card">
        <div class="card-head">
          <h2>Active sessions</h2>
          <a href="/sessions">History</a>
        </div>
        <SessionList rows={props.live} empty="No active sessions. Start one to get a terminal and a chat in a worktree." />
      </section>
      <div class="dashboard-grid">
        <section class="card">
          <div class="card-head">
            <h2>This month</h2>
            <a href="/costs">Costs</a>
          </div>
          <p class="figure" safe>
            {formatUsd(month.mineUsd)}
          </p>
          <p class="muted">your sessions and reports</p>
          {month.budget && props.viewer.role === "admin" ? (
            <p class="muted" safe>
              {`Everyone: ${formatUsd(month.budget.spentUsd)}${month.budget.budgetUsd !== null ? ` of a ${formatUsd(month.budget.budgetUsd)} budget` : ""}`}
            </p>
          ) : (
            ""
          )}
        </section>
        <section class="card">
          <h2>Recent activity</h2>
          {props.activity.length === 0 ? (
            <p class="empty">Nothing yet.</p>
          ) : (
            <ul class="activity" aria-label="Recent activity">
              {props.activity.map((item) => (
                <li>
                  <a href={item.href} safe>
                    {item.text}
                  </a>{" "}
                  <span class="muted" safe>
                    {formatDate(item.at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section class="card">
        <div class="card-head">
          <h2>Repositories</h2>
          <a href="/repos" class="button">
            {props.viewer.role === "admin" ? "Manage repositories" : "All repositories"}
          </a>
        </div>
        {props.repos.length === 0 ? (
          <p class="empty">No repositories yet.</p>
        ) : (
          <ul class="list" aria-label="Repositories">
            {props.repos.map(({ repo, pod }) => (
              <li class="list-row">
                <a href={`/repos/${repo.id}`} class="list-title" safe>
                  {repo.name}
                </a>
                <span class={`pill pod-${pod?.state ?? "none"}`}>
                  {pod ? `your pod: ${pod.state}` : "no pod yet"}
                </span>
                <a href={`/sessions/new?repoId=${encodeURIComponent(repo.id)}`} class="small">
                  New session
                </a>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
