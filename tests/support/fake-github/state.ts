/**
 * What the fake GitHub remembers beside the git data itself (which lives in bare repositories):
 * pull requests, check runs and their jobs' logs, commit statuses, reviews with their line
 * comments and issue comments, plus GitHub's rules that read them.
 */

/** Where the fake is reachable and how it numbers things; every object builder needs it. */
export interface Site {
  /** http://127.0.0.1:PORT — the web host: html_url, clone URLs. */
  url: string;
  /** `${url}/api/v3`, the GitHub Enterprise form of the API's address. */
  apiUrl: string;
  /** A user's numeric id, the same for a login every time. */
  userId(login: string): number;
  /** A fresh id. GitHub numbers each kind of object apart; one counter for all is stricter and simpler. */
  nextId(): number;
  /** A label's id (`owner/name:label`), the same for a label every time. */
  labelId(key: string): number;
}

export interface Repo {
  id: number;
  owner: string;
  name: string;
  /** The bare repository on disk. */
  dir: string;
  private: boolean;
  createdAt: string;
  pulls: Pull[];
  checkRuns: CheckRun[];
  /** Every status ever set; the combined status reads the latest per context. */
  statuses: CommitStatus[];
  /** The check suite of each commit that has check runs (one app, so one suite per commit). */
  checkSuites: Map<string, number>;
  /** Comments on issues and pull requests (a pull request is an issue on GitHub), oldest first. */
  issueComments: IssueComment[];
  /** Issues (not pull requests); they share one sequence of numbers with pull requests, as on GitHub. */
  issues: Issue[];
}

export interface Issue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  author: string;
  labels: string[];
  createdAt: string;
  updatedAt: string;
}

/** The next number of an issue or pull request in the repository: GitHub numbers both in one sequence. */
export function nextNumber(repo: Repo): number {
  return Math.max(0, ...repo.pulls.map((pull) => pull.number), ...repo.issues.map((issue) => issue.number)) + 1;
}

export interface Pull {
  id: number;
  number: number;
  title: string;
  body: string | null;
  author: string;
  state: "open" | "closed";
  draft: boolean;
  headRef: string;
  baseRef: string;
  /** Branch tips as last seen: they follow the branches while the PR is open and stay put once it closes. */
  headSha: string;
  baseSha: string;
  /** The head before the last change seen, for the `before` of a synchronize payload. */
  previousHeadSha: string | null;
  commits: number;
  additions: number;
  deletions: number;
  changedFiles: number;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  requestedReviewers: string[];
  reviews: Review[];
  /** Line comments, each submitted with a review. */
  reviewComments: ReviewComment[];
  /**
   * GitHub works out mergeability in the background after the head or base moves, so the first
   * read after a change answers `mergeable: null`. `of` names the base...head pair it was computed for.
   */
  mergeability: { of: string; mergeable: boolean } | null;
}

export type CheckStatus = "queued" | "in_progress" | "completed";
export type CheckConclusion = "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required";

export interface CheckRun {
  id: number;
  suiteId: number;
  sha: string;
  name: string;
  status: CheckStatus;
  conclusion: CheckConclusion | null;
  htmlUrl: string;
  detailsUrl: string;
  startedAt: string;
  completedAt: string | null;
  /** What the run reports on its page: a title, a Markdown summary and details. */
  output: CheckOutput;
  /** Its GitHub Actions job's log, as GitHub stores it (each line stamped with its time); null before the job wrote one. */
  log: string | null;
}

export interface CheckOutput {
  title: string | null;
  summary: string | null;
  text: string | null;
}

export type StatusState = "pending" | "success" | "failure" | "error";

export interface CommitStatus {
  id: number;
  sha: string;
  context: string;
  state: StatusState;
  targetUrl: string | null;
  description: string | null;
  createdAt: string;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";

export interface Review {
  id: number;
  login: string;
  state: ReviewState;
  body: string;
  commitId: string;
  submittedAt: string;
}

/** A comment on one line of the pull request's diff (the new side), made as part of a review. */
export interface ReviewComment {
  id: number;
  reviewId: number;
  login: string;
  path: string;
  line: number;
  body: string;
  commitId: string;
  /** The lines of the diff up to the commented one, as GitHub shows above the comment. */
  diffHunk: string;
  createdAt: string;
}

export interface IssueComment {
  id: number;
  /** The issue's (or pull request's) number. */
  number: number;
  login: string;
  body: string;
  createdAt: string;
}

/** The latest status of each context on a commit, in the order the contexts first appeared. */
export function latestStatuses(repo: Repo, sha: string): CommitStatus[] {
  const latest = new Map<string, CommitStatus>();
  for (const status of repo.statuses) {
    if (status.sha === sha) latest.set(status.context, status);
  }
  return [...latest.values()];
}

/** GitHub's combined state: failure if any context failed or errored, pending if none or any pending, else success. */
export function combinedState(statuses: CommitStatus[]): "pending" | "success" | "failure" {
  if (statuses.some((s) => s.state === "failure" || s.state === "error")) return "failure";
  if (statuses.length === 0 || statuses.some((s) => s.state === "pending")) return "pending";
  return "success";
}

/** A check suite's status and conclusion, from its runs as GitHub rolls them up. */
export function suiteOutcome(runs: CheckRun[]): { status: CheckStatus; conclusion: CheckConclusion | null } {
  if (runs.some((run) => run.status !== "completed")) {
    return { status: runs.some((run) => run.status === "in_progress") ? "in_progress" : "queued", conclusion: null };
  }
  for (const conclusion of ["action_required", "cancelled", "timed_out", "failure"] as const) {
    if (runs.some((run) => run.conclusion === conclusion)) return { status: "completed", conclusion };
  }
  // Neutral and skipped runs do not fail a suite; only a suite made of nothing else takes their name.
  const first = runs[0]?.conclusion ?? "success";
  return { status: "completed", conclusion: runs.every((run) => run.conclusion === first) ? first : "success" };
}

/** Whether anything reported on a commit is pending or failing: GitHub's "unstable" mergeable_state. */
export function hasUnsettledChecks(repo: Repo, sha: string): boolean {
  const runs = repo.checkRuns.filter((run) => run.sha === sha);
  const okConclusions = new Set<CheckConclusion | null>(["success", "neutral", "skipped"]);
  if (runs.some((run) => run.status !== "completed" || !okConclusions.has(run.conclusion))) return true;
  const statuses = latestStatuses(repo, sha);
  return statuses.length > 0 && combinedState(statuses) !== "success";
}

/** GitHub's timestamps: ISO 8601, whole seconds, UTC. */
export function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}
