import type { GitHub } from "../github/client.ts";
import { changeRequests, failingChecks, reviewsRequestingChanges } from "../github/pr-feedback.ts";
import type { GitHubReview } from "../github/pr-status.ts";
import type { Db } from "../infra/db.ts";
import { AppError } from "../infra/errors.ts";
import type { PublicPr } from "../prs/pull-requests.ts";
import { getRepo } from "../repos/repos.ts";
import type { Credentials } from "../settings/credentials.ts";
import type { SettingsStore } from "../settings/settings.ts";
import { ciRoundMessage, ciSummaryLine, conflictRoundMessage, conflictSummaryLine, reviewRoundMessage, reviewSummaryLine } from "./round-words.ts";
import type { Round, RoundKind } from "./tables.ts";

/**
 * A run's fix rounds: once its agent's work is a pull request, what the pull request asks for
 * next. A conflict with the base comes first (CI does not run on a pull request that does not
 * merge), then failing CI; reviews asking for changes that no round has answered yet wait for CI
 * to finish (the agent's fix would restart it). Each is one round, and fix rounds are capped by
 * `maxFixRounds`; past it the run fails with the reason. A person's feedback is a round too, but
 * theirs, not counted here.
 */

/** The rounds that answer the pull request (not a person's feedback), counted against maxFixRounds. */
const FIX_ROUND_KINDS: RoundKind[] = ["ci", "review", "conflict"];
type FixKind = "ci" | "review" | "conflict";

function fixRoundsUsed(past: Round[]): number {
  return past.filter((round) => FIX_ROUND_KINDS.includes(round.kind)).length;
}

/** What the run's loop does next. */
export type LoopStep =
  /** Nothing to answer yet: CI is running (or mergeability being worked out), or a reviewer has yet to look again. */
  | { kind: "wait"; state: "waiting_ci" | "waiting_review" }
  /** CI passed (or there is none) and nothing is asked: a person's approval is next. */
  | { kind: "ready" }
  /** Give the agent this round. */
  | { kind: "round"; round: Round; message: string }
  /** A round is called for but none is left, or the pull request is gone: the run fails with the reason. */
  | { kind: "fail"; reason: string };

/** What the pull request calls for, before its detail is read from GitHub. */
export type Decision = Exclude<LoopStep, { kind: "round" }> | { kind: "fix"; fix: FixKind; reviewIds: number[] };

/** The part of the pull request the decision reads (the pull requests' follower keeps it current). */
export type PrView = Pick<PublicPr, "number" | "state" | "headSha" | "baseBranch" | "ciStatus" | "reviewStatus" | "mergeable">;

/**
 * What the pull request calls for. `unanswered` are the ids of the reviews asking for changes now
 * that no round answered (null when none asks: only read when reviewStatus says some do).
 */
export function decide(pr: PrView, past: Round[], unanswered: number[] | null, maxFixRounds: number): Decision {
  if (pr.state === "merged" || pr.state === "closed") return { kind: "fail", reason: `The pull request was ${pr.state} on GitHub before the run was done.` };
  let fix: { fix: FixKind; reviewIds: number[]; what: string } | null = null;
  if (pr.mergeable === false) fix = { fix: "conflict", reviewIds: [], what: `it still conflicts with ${pr.baseBranch}` };
  else if (pr.ciStatus === "failing") fix = { fix: "ci", reviewIds: [], what: "CI still fails" };
  else if (awaitsCi(pr)) return { kind: "wait", state: "waiting_ci" };
  else if (unanswered && unanswered.length > 0) fix = { fix: "review", reviewIds: unanswered, what: "changes are still requested" };
  if (fix) {
    if (fixRoundsUsed(past) >= maxFixRounds) {
      const cap = maxFixRounds === 0 ? "Fix rounds are off (maxFixRounds is 0)" : maxFixRounds === 1 ? "The one fix round was used" : `All ${maxFixRounds} fix rounds were used`;
      return { kind: "fail", reason: `${cap}, and ${fix.what} on pull request #${pr.number}.` };
    }
    return { kind: "fix", fix: fix.fix, reviewIds: fix.reviewIds };
  }
  if (pr.reviewStatus === "changes_requested") return { kind: "wait", state: "waiting_review" };
  return { kind: "ready" };
}

/** CI is running, or GitHub has not worked out yet whether the pull request merges. */
function awaitsCi(pr: PrView): boolean {
  return pr.ciStatus === "pending" || pr.mergeable === null;
}

/** The reviews a round already answered. */
function answeredReviews(past: Round[]): Set<number> {
  return new Set(past.flatMap((round) => round.reviewIds ?? []));
}

export interface RoundsDeps {
  db: Db;
  github: GitHub;
  credentials: Credentials;
  settings: SettingsStore;
}

/** The run as its rounds see it: whose token reads GitHub, which pull request, what was given before. */
export interface RunForRounds {
  repoId: string;
  userId: string;
  rounds: Round[];
}

export class Rounds {
  constructor(private deps: RoundsDeps) {}

  /**
   * The run's next step for its pull request. GitHub is asked only for what the step needs: the
   * reviews when some ask for changes, and a round's detail (failing checks with their logs, or
   * the reviews' line comments) when a round is given.
   */
  async next(run: RunForRounds, pr: PrView, now = new Date()): Promise<LoopStep> {
    const { github } = this.deps;
    const repo = getRepo(this.deps.db, run.repoId);
    const token = await this.deps.credentials.githubToken(run.userId);
    if (!repo.githubRepo || !token) throw new AppError(400, "no_github_token", "The run's pull request cannot be followed: no GitHub token, or the repository is not on GitHub.");
    let unanswered: GitHubReview[] | null = null;
    // Reviews are read only when they can decide the step (see decide): not while CI runs or fails.
    if (pr.reviewStatus === "changes_requested" && pr.mergeable === true && (pr.ciStatus === "passing" || pr.ciStatus === "none")) {
      const answered = answeredReviews(run.rounds);
      unanswered = (await reviewsRequestingChanges(github, token, repo.githubRepo, pr.number)).filter((review) => !answered.has(review.id!));
    }
    const { maxFixRounds } = this.deps.settings.plain();
    const decision = decide(pr, run.rounds, unanswered?.map((review) => review.id!) ?? null, maxFixRounds);
    if (decision.kind !== "fix") return decision;

    const count = { number: fixRoundsUsed(run.rounds) + 1, max: maxFixRounds };
    const at = now.toISOString();
    if (decision.fix === "conflict") {
      return { kind: "round", round: { kind: "conflict", at, summary: conflictSummaryLine(pr.baseBranch), headSha: pr.headSha }, message: conflictRoundMessage(pr, count) };
    }
    if (decision.fix === "ci") {
      const checks = await failingChecks(github, token, repo.githubRepo, pr.headSha);
      // CI said failing, but the checks read now do not (they re-ran meanwhile): look again later.
      if (checks.length === 0) return { kind: "wait", state: "waiting_ci" };
      return { kind: "round", round: { kind: "ci", at, summary: ciSummaryLine(checks), headSha: pr.headSha }, message: ciRoundMessage(pr, checks, count) };
    }
    const requests = await changeRequests(github, token, repo.githubRepo, pr.number, unanswered ?? []);
    return {
      kind: "round",
      round: { kind: "review", at, summary: reviewSummaryLine(requests), headSha: pr.headSha, reviewIds: decision.reviewIds },
      message: reviewRoundMessage(pr, requests, count),
    };
  }
}
