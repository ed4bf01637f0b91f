import type { GitHub } from "./client.ts";
import { jobLogTail } from "./job-logs.ts";
import { FAILED_CONCLUSIONS, type GitHubCheckRun, type GitHubCombinedStatus, type GitHubReview, type GitHubReviewComment } from "./pr-status.ts";

/**
 * What a pull request asks of its author, read from GitHub for an unattended run's PR loop (its
 * state, CI and mergeability the pull requests' follower keeps already): the failing checks with
 * their output and the end of their jobs' logs, and the reviews asking for changes with their line
 * comments. Everything here is text written by others (CI, reviewers); callers hand it on only as
 * quoted data.
 */

export interface FailingCheck {
  name: string;
  /** failure, timed_out, cancelled… (for a commit status: failure or error). */
  conclusion: string;
  url: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
  /** The last lines of its job's log, for a GitHub Actions job whose log is there. */
  logTail: string | null;
}

export interface LineComment {
  path: string;
  line: number | null;
  body: string;
  url: string;
}

export interface ChangeRequest {
  reviewId: number;
  reviewer: string;
  body: string;
  url: string | null;
  comments: LineComment[];
}

/** The failing checks whose detail (output, log) a round carries; any more are named only. */
const DETAILED_CHECKS = 4;

function split(fullName: string): { owner: string; repo: string } {
  const [owner, repo] = fullName.split("/") as [string, string];
  return { owner, repo };
}

/**
 * The failing checks of a commit, check runs before commit statuses; the first DETAILED_CHECKS
 * with their output and, for GitHub Actions jobs, the end of their logs (read one at a time).
 */
export async function failingChecks(github: GitHub, token: string, fullName: string, sha: string): Promise<FailingCheck[]> {
  const params = { ...split(fullName), ref: sha, per_page: 100 };
  const [runs, combined] = await Promise.all([
    github.request<{ check_runs: GitHubCheckRun[] }>(token, "GET /repos/{owner}/{repo}/commits/{ref}/check-runs", params),
    github.request<GitHubCombinedStatus>(token, "GET /repos/{owner}/{repo}/commits/{ref}/status", params),
  ]);
  const failing: FailingCheck[] = [];
  for (const run of runs.check_runs) {
    if (run.status !== "completed" || !FAILED_CONCLUSIONS.has(run.conclusion ?? "")) continue;
    const detailed = failing.length < DETAILED_CHECKS;
    const isJob = run.app?.slug === "github-actions" && run.id !== undefined;
    failing.push({
      name: run.name,
      conclusion: run.conclusion!,
      url: run.html_url ?? run.details_url ?? null,
      title: detailed ? (run.output?.title ?? null) : null,
      summary: detailed ? (run.output?.summary ?? null) : null,
      text: detailed ? (run.output?.text ?? null) : null,
      logTail: detailed && isJob ? await jobLogTail(github, token, fullName, run.id!) : null,
    });
  }
  for (const status of combined.statuses) {
    if (status.state !== "failure" && status.state !== "error") continue;
    failing.push({ name: status.context, conclusion: status.state, url: status.target_url, title: null, summary: status.description ?? null, text: null, logTail: null });
  }
  return failing;
}

/**
 * The reviews that ask for changes now: each reviewer's latest review that is not a comment, when
 * it requests changes (the rule reviewStatus follows), oldest first. One request.
 */
export async function reviewsRequestingChanges(github: GitHub, token: string, fullName: string, number: number): Promise<GitHubReview[]> {
  const reviews = await github.request<GitHubReview[]>(token, "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { ...split(fullName), pull_number: number, per_page: 100 });
  const latest = new Map<string, GitHubReview>();
  for (const review of reviews) {
    if (!review.user || review.state === "COMMENTED" || review.state === "PENDING") continue;
    latest.set(review.user.login, review);
  }
  return [...latest.values()].filter((review) => review.state === "CHANGES_REQUESTED" && review.id !== undefined);
}

/** The given reviews with their line comments (one request: the pull request's review comments, up to 100). */
export async function changeRequests(github: GitHub, token: string, fullName: string, number: number, reviews: GitHubReview[]): Promise<ChangeRequest[]> {
  const comments = await github.request<GitHubReviewComment[]>(token, "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments", {
    ...split(fullName),
    pull_number: number,
    per_page: 100,
  });
  return reviews.map((review) => ({
    reviewId: review.id!,
    reviewer: review.user?.login ?? "someone",
    body: review.body ?? "",
    url: review.html_url ?? null,
    comments: comments
      .filter((comment) => comment.pull_request_review_id === review.id)
      .map((comment) => ({ path: comment.path, line: comment.line ?? comment.original_line ?? null, body: comment.body, url: comment.html_url })),
  }));
}
