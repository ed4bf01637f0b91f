import { BudgetUsed, RunPullRequest, RunReason, RunStatePill, type RunView, RoundsTimeline, runDuration, runIsOver } from "./run-parts.tsx";

/**
 * The run a session belongs to, on its page: where it stands, its pull request's CI, its budget
 * used and the timeline of its fix rounds; its buttons are on its task's page. Drawn again from
 * the server whenever the run changes (src/client/session-run.ts).
 */
export function SessionRun(props: { view: RunView; taskTitle: string | null }) {
  const { run } = props.view;
  return (
    <section id="session-run" class="card run-panel" data-session-run={run.sessionId ?? ""} data-state={run.state} aria-labelledby="session-run-heading">
      <div class="card-head">
        <h2 id="session-run-heading" safe>{`Unattended run, attempt ${run.attempt}`}</h2>
        <RunStatePill run={run} />
      </div>
      <RunReason run={run} />
      {props.view.attention === "approval" ? <p class="badge badge-waiting">Its agent waits for a tool's approval below</p> : ""}
      <dl class="run-facts">
        <div>
          <dt>Task</dt>
          <dd>
            <a href={`/tasks/${run.taskId}`} safe>
              {props.taskTitle ?? "Its task"}
            </a>
          </dd>
        </div>
        <div>
          <dt>Pull request</dt>
          <dd>
            <RunPullRequest view={props.view} />
          </dd>
        </div>
        <div>
          <dt>Budget used</dt>
          <dd>
            <BudgetUsed run={run} />
          </dd>
        </div>
        <div>
          <dt>{runIsOver(run) ? "Took" : "Running for"}</dt>
          <dd safe>{runDuration(run)}</dd>
        </div>
      </dl>
      <details class="run-rounds-fold" id="session-run-rounds" open={run.rounds.length > 0}>
        <summary safe>{`Fix rounds (${run.rounds.length})`}</summary>
        <RoundsTimeline run={run} />
      </details>
    </section>
  );
}
