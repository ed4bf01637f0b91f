import { CI_BADGE, webLink } from "../src/prs/badges.ts";
import type { PublicPr } from "../src/prs/pull-requests.ts";
import type { PublicRun } from "../src/runs/runs.ts";
import type { RoundKind, RunState } from "../src/runs/tables.ts";
import { formatDate, formatDuration, formatUsd } from "./components.tsx";

/** A run as the pages show it: the run, its pull request as Pier follows it, and whether its session waits on a person. */
export interface RunView {
  run: PublicRun;
  /** The run's pull request with its CI, once opened and followed. */
  pr: PublicPr | null;
  /** The session's "needs you" reason (approval: its agent waits on a tool's approval). */
  attention: string | null;
}

export const RUN_STATE_LABEL: Record<RunState, string> = {
  queued: "Queued",
  working: "Working",
  waiting_ci: "Waiting on CI",
  fixing: "Fixing",
  waiting_review: "Waiting on review",
  awaiting_approval: "Awaiting approval",
  done: "Done",
  stopped: "Stopped",
  failed: "Failed",
};

const ROUND_LABEL: Record<RoundKind, string> = { ci: "CI", review: "Review", conflict: "Conflict", feedback: "Feedback" };

/** Whether a run is over and never moves again (see FINAL_RUN_STATES). */
export function runIsOver(run: PublicRun): boolean {
  return run.state === "done" || run.state === "stopped" || run.state === "failed";
}

export function RunStatePill(props: { run: PublicRun }) {
  const { run } = props;
  return (
    <span class="run-state-line">
      <span class={`pill run-state run-state-${run.state}`} data-run-state={run.state} safe>
        {RUN_STATE_LABEL[run.state]}
      </span>
      {run.paused && !runIsOver(run) ? <span class="pill run-paused">Paused</span> : ""}
    </span>
  );
}

/** Why a run stopped or failed (or why a done one was not merged), as a sentence; empty when nothing is to be said. */
export function runReason(run: PublicRun): string {
  if (!run.reason) return "";
  if (run.state === "stopped") return run.reason === "budget" ? "Stopped: it reached its budget." : "Stopped by a person.";
  return run.reason;
}

export function RunReason(props: { run: PublicRun }) {
  const reason = runReason(props.run);
  if (!reason) return "";
  return (
    <p class={props.run.state === "failed" ? "run-reason form-error" : "run-reason muted"} data-run-reason safe>
      {reason}
    </p>
  );
}

/** "$1.20 of $10.00" with a meter that warns as the budget runs out. */
export function BudgetUsed(props: { run: PublicRun }) {
  const { costUsd, budgetUsd } = props.run;
  return (
    <span class="run-budget">
      <meter min="0" max={String(budgetUsd)} value={String(Math.min(costUsd, budgetUsd))} low={String(budgetUsd * 0.5)} high={String(budgetUsd * 0.8)}
        optimum="0" aria-label="Budget used" />
      <span class="mono" safe>{`${formatUsd(costUsd)} of ${formatUsd(budgetUsd)}`}</span>
    </span>
  );
}

/** The run's pull request (a link to GitHub) with its CI, or a word on why there is none yet. */
export function RunPullRequest(props: { view: RunView }) {
  const { run, pr } = props.view;
  if (run.prNumber === null) return <span class="muted">{runIsOver(run) ? "None" : "Not opened yet"}</span>;
  const link = webLink(run.prUrl);
  const ci = pr ? CI_BADGE[pr.ciStatus] : null;
  return (
    <span class="run-pr">
      <a href={link ?? undefined} target="_blank" rel="noopener noreferrer" class="mono" safe>
        {`#${run.prNumber}`}
      </a>
      {ci ? (
        <>
          {" "}
          <span class={`badge badge-${ci.tone}`} data-kind="ci" data-ci={pr!.ciStatus} safe>
            {ci.label}
          </span>
        </>
      ) : (
        ""
      )}
    </span>
  );
}

/** How long the run took, or has been going, said as a session's time is. */
export function runDuration(run: PublicRun, now = Date.now()): string {
  return formatDuration(new Date(run.createdAt), run.endedAt ? new Date(run.endedAt) : null, now);
}

/** The fix rounds the run's agent was given, oldest first. */
export function RoundsTimeline(props: { run: PublicRun }) {
  const { rounds } = props.run;
  if (rounds.length === 0) return <p class="empty">No fix rounds yet: CI, reviews, conflicts and a person's feedback each give the agent one.</p>;
  return (
    <ol class="timeline run-rounds" aria-label="Fix rounds">
      {rounds.map((round) => (
        <li class={`run-round run-round-${round.kind}`}>
          <span class="pill" safe>
            {ROUND_LABEL[round.kind]}
          </span>{" "}
          <time class="muted" datetime={round.at} safe>
            {formatDate(new Date(round.at))}
          </time>
          <p class="run-round-summary" safe>
            {round.summary}
          </p>
        </li>
      ))}
    </ol>
  );
}
