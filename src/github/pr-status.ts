/**
 * GitHub's answers about a pull request, normalised to what Pier shows: its state, CI from check
 * runs and commit statuses together, and the review decision. Pure functions of GitHub's shapes.
 */

/** The fields of GitHub's pull request object Pier reads. */
export interface GitHubPull {
  number: number;
  html_url: string;
  title: string;
  state: "open" | "closed";
  draft?: boolean;
  merged?: boolean;
  merged_at: string | null;
  mergeable?: boolean | null;
  updated_at: string;
  head: { ref: string; sha: string };
  base: { ref: string };
  requested_reviewers?: Array<{ login: string }> | null;
}

export interface GitHubCheckRun {
  id?: number;
  name: string;
  status: string;
  conclusion: string | null;
  html_url: string | null;
  details_url?: string | null;
  /** What the run reports on its page. */
  output?: { title: string | null; summary: string | null; text?: string | null };
  /** The app that made it; "github-actions" runs are jobs whose logs can be read. */
  app?: { slug?: string } | null;
}

export interface GitHubCombinedStatus {
  statuses: Array<{ context: string; state: string; target_url: string | null; description?: string | null }>;
}

export interface GitHubReview {
  id?: number;
  user: { login: string } | null;
  state: string;
  body?: string | null;
  html_url?: string;
  submitted_at?: string | null;
}

/** A line comment of a review (GET /pulls/{n}/comments). */
export interface GitHubReviewComment {
  pull_request_review_id: number | null;
  path: string;
  /** The line of the file it is on; absent on a comment whose line is no longer in the diff. */
  line?: number | null;
  original_line?: number | null;
  body: string;
  html_url: string;
}

export type PrState = "open" | "draft" | "merged" | "closed";
export type CiStatus = "none" | "pending" | "passing" | "failing";
export type ReviewStatus = "none" | "review_required" | "approved" | "changes_requested";

export interface CiSummary {
  ciStatus: CiStatus;
  checks: { passed: number; failed: number; pending: number };
  failingCheckUrl: string | null;
}

export function prState(pull: Pick<GitHubPull, "state" | "draft" | "merged" | "merged_at">): PrState {
  if (pull.merged || pull.merged_at) return "merged";
  if (pull.state === "closed") return "closed";
  return pull.draft ? "draft" : "open";
}

/** Check run conclusions that fail CI. */
export const FAILED_CONCLUSIONS = new Set(["failure", "timed_out", "cancelled", "action_required", "startup_failure"]);
const FAILED_STATUSES = new Set(["failure", "error"]);

/**
 * CI from check runs and commit statuses together: failing if any failed, else pending if any is
 * still going, else passing; none when there are neither. The first failure's link is kept.
 */
export function ciSummary(checkRuns: GitHubCheckRun[], combined: GitHubCombinedStatus | null): CiSummary {
  const checks = { passed: 0, failed: 0, pending: 0 };
  let failingCheckUrl: string | null = null;
  const fail = (url: string | null | undefined) => {
    checks.failed++;
    failingCheckUrl ??= url ?? null;
  };
  for (const run of checkRuns) {
    if (run.status !== "completed") checks.pending++;
    else if (FAILED_CONCLUSIONS.has(run.conclusion ?? "")) fail(run.html_url ?? run.details_url);
    else checks.passed++;
  }
  for (const status of combined?.statuses ?? []) {
    if (status.state === "pending") checks.pending++;
    else if (FAILED_STATUSES.has(status.state)) fail(status.target_url);
    else checks.passed++;
  }
  const ciStatus: CiStatus = checks.failed > 0 ? "failing" : checks.pending > 0 ? "pending" : checks.passed > 0 ? "passing" : "none";
  return { ciStatus, checks, failingCheckUrl };
}

/**
 * The review decision: each reviewer's latest review that is not a comment counts; any
 * "changes requested" wins, then any approval; with none, a requested reviewer means a review is
 * required.
 */
export function reviewStatus(reviews: GitHubReview[], requestedReviewers: Array<{ login: string }> | null | undefined): ReviewStatus {
  const latest = new Map<string, string>();
  for (const review of reviews) {
    if (!review.user || review.state === "COMMENTED" || review.state === "PENDING") continue;
    latest.set(review.user.login, review.state);
  }
  const states = [...latest.values()];
  if (states.includes("CHANGES_REQUESTED")) return "changes_requested";
  if (states.includes("APPROVED")) return "approved";
  return (requestedReviewers?.length ?? 0) > 0 ? "review_required" : "none";
}
