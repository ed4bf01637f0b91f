import { BudgetUsed, RunPullRequest, RunStatePill, type RunView } from "./run-parts.tsx";

/** A run on the dashboard: the run and its task's title. */
export interface DashboardRun extends RunView {
  taskTitle: string;
}

export interface DashboardRuns {
  /** Awaiting the person's approval, or its agent waiting on a tool's approval. */
  waiting: DashboardRun[];
  /** Every other run not yet over, newest first. */
  inFlight: DashboardRun[];
}

/** Why a run waits for its person, in a few words. */
function waitingFor(view: RunView): string {
  return view.run.state === "awaiting_approval" ? "awaiting your approval" : "its agent waits for a tool's approval";
}

/** The person's runs under way: those waiting for them first, each linked to its task and its session. */
export function RunsUnderWay(props: { runs: DashboardRuns }) {
  const { waiting, inFlight } = props.runs;
  return (
    <section class="card" id="dashboard-runs" aria-labelledby="runs-heading">
      <div class="card-head">
        <h2 id="runs-heading">Runs</h2>
        <a href="/tasks">Tasks</a>
      </div>
      {waiting.length > 0 ? (
        <>
          <h3 class="run-list-head">Waiting for you</h3>
          <ul class="list" aria-label="Runs that need you">
            {waiting.map((view) => (
              <RunRow view={view} why={waitingFor(view)} />
            ))}
          </ul>
        </>
      ) : (
        ""
      )}
      <h3 class="run-list-head">In flight</h3>
      {inFlight.length === 0 ? (
        <p class="empty">No runs under way. A task's page starts one: its agent works unattended, and Pier carries its pull request through CI.</p>
      ) : (
        <ul class="list" aria-label="Runs in flight">
          {inFlight.map((view) => (
            <RunRow view={view} />
          ))}
        </ul>
      )}
    </section>
  );
}

function RunRow(props: { view: DashboardRun; why?: string }) {
  const { run } = props.view;
  // What waits on a tool's approval is answered in the session; everything else on the task's page.
  const href = props.why && run.state !== "awaiting_approval" && run.sessionId ? `/sessions/${run.sessionId}` : `/tasks/${run.taskId}`;
  return (
    <li class="list-row run-row" data-run={run.id} data-state={run.state}>
      <a href={href} class="list-title" safe>
        {props.view.taskTitle}
      </a>
      <span class="muted" safe>{`attempt ${run.attempt}`}</span>
      <RunStatePill run={run} />
      {props.why ? (
        <span class="badge badge-waiting" safe>
          {props.why}
        </span>
      ) : (
        ""
      )}
      <RunPullRequest view={props.view} />
      <BudgetUsed run={run} />
    </li>
  );
}
