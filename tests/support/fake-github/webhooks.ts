/**
 * Webhook deliveries as GitHub sends them: the signature header and the payloads of the events Pier
 * listens to, built from the fake's state. Each payload's type is the event's schema from GitHub's
 * webhook OpenAPI description (@octokit/openapi-webhooks-types, what @octokit/webhooks types
 * events with), so the type checker holds them to GitHub's shape.
 */
import { createHmac } from "node:crypto";
import type { components } from "@octokit/openapi-webhooks-types";
import type { CommitInfo } from "./bare-repo.ts";
import { actionsApp, checkRunObject, issueCommentObject, issueObject, labelObject, pullObject, pullSimpleObject, repositoryObject, reviewObject, userObject } from "./objects.ts";
import { suiteOutcome, type CommitStatus, type Issue, type IssueComment, type Pull, type Repo, type Review, type Site } from "./state.ts";

type Events = components["schemas"];

/** The X-Hub-Signature-256 header value: `sha256=` and the hex HMAC-SHA256 of the raw body under the webhook secret. */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export type PullRequestEvent =
  | Events["webhook-pull-request-opened"]
  | Events["webhook-pull-request-reopened"]
  | Events["webhook-pull-request-closed"]
  | Events["webhook-pull-request-synchronize"]
  | Events["webhook-pull-request-ready-for-review"]
  | Events["webhook-pull-request-converted-to-draft"];
export type PullRequestAction = PullRequestEvent["action"];

export type CheckRunEvent = Events["webhook-check-run-created"] | Events["webhook-check-run-completed"] | Events["webhook-check-run-rerequested"];
export type CheckRunAction = CheckRunEvent["action"];

export type CheckSuiteEvent = Events["webhook-check-suite-completed"];

export type StatusEvent = Events["webhook-status"];

export type PullRequestReviewEvent = Events["webhook-pull-request-review-submitted"] | Events["webhook-pull-request-review-dismissed"];
export type PullRequestReviewAction = PullRequestReviewEvent["action"];

/** The account that reports check runs and suites. */
function actionsBot(site: Site) {
  return userObject(site, "github-actions[bot]", "Bot");
}

/** `mergeable` as known right now: GitHub sends what it has computed, often still null. */
export function pullRequestPayload(site: Site, repo: Repo, pull: Pull, action: PullRequestAction, mergeable: boolean | null): PullRequestEvent {
  const common = {
    number: pull.number,
    pull_request: pullObject(site, repo, pull, mergeable),
    repository: repositoryObject(site, repo),
    sender: userObject(site, pull.mergedBy ?? pull.author),
  };
  if (action === "synchronize") {
    return { action, ...common, before: pull.previousHeadSha ?? pull.headSha, after: pull.headSha };
  }
  return { action, ...common };
}

export function checkRunPayload(site: Site, repo: Repo, runId: number, action: CheckRunAction): CheckRunEvent {
  const run = repo.checkRuns.find((candidate) => candidate.id === runId);
  if (!run) throw new Error(`fake-github: no check run ${runId} in ${repo.owner}/${repo.name}`);
  const suiteRuns = repo.checkRuns.filter((candidate) => candidate.suiteId === run.suiteId);
  const { status, conclusion } = suiteOutcome(suiteRuns);
  const checkRun = checkRunObject(site, repo, run);
  return {
    action,
    check_run: {
      ...checkRun,
      // The payload embeds the run's suite, where the REST answer has only its id.
      check_suite: {
        id: run.suiteId,
        head_sha: run.sha,
        status,
        conclusion,
        app: actionsApp(site),
        pull_requests: checkRun.pull_requests,
        url: `${site.apiUrl}/repos/${repo.owner}/${repo.name}/check-suites/${run.suiteId}`,
      },
    },
    repository: repositoryObject(site, repo),
    sender: actionsBot(site),
  };
}

/** `headBranch` is the branch whose tip the commit is, as GitHub names it (null when none is). */
export function checkSuitePayload(site: Site, repo: Repo, commit: CommitInfo, headBranch: string | null): CheckSuiteEvent {
  const suiteId = repo.checkSuites.get(commit.sha);
  if (suiteId === undefined) throw new Error(`fake-github: no check runs on ${commit.sha} in ${repo.owner}/${repo.name}`);
  const runs = repo.checkRuns.filter((run) => run.suiteId === suiteId);
  const { status, conclusion } = suiteOutcome(runs);
  if (status !== "completed") throw new Error(`fake-github: check suite ${suiteId} has runs still ${status}; GitHub sends check_suite only when it completes`);
  const firstRun = runs[0]!;
  const url = `${site.apiUrl}/repos/${repo.owner}/${repo.name}/check-suites/${suiteId}`;
  return {
    action: "completed",
    check_suite: {
      id: suiteId,
      node_id: `CS_${suiteId}`,
      head_branch: headBranch,
      head_sha: commit.sha,
      status,
      conclusion,
      url,
      before: commit.parents[0] ?? null,
      after: commit.sha,
      pull_requests: checkRunObject(site, repo, firstRun).pull_requests,
      app: actionsApp(site),
      created_at: firstRun.startedAt,
      updated_at: runs.map((run) => run.completedAt ?? run.startedAt).sort().at(-1)!,
      latest_check_runs_count: runs.length,
      check_runs_url: `${url}/check-runs`,
      head_commit: {
        id: commit.sha,
        tree_id: commit.tree,
        message: commit.message,
        timestamp: commit.committer.date,
        author: { name: commit.author.name, email: commit.author.email },
        committer: { name: commit.committer.name, email: commit.committer.email },
      },
      rerequestable: true,
      runs_rerequestable: true,
    },
    repository: repositoryObject(site, repo),
    sender: actionsBot(site),
  };
}

/** `branches` are those whose tip is the commit. */
export function statusPayload(site: Site, repo: Repo, status: CommitStatus, commit: CommitInfo, branches: string[]): StatusEvent {
  const api = `${site.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const signature = { date: commit.author.date, email: commit.author.email, name: commit.author.name };
  return {
    id: status.id,
    sha: status.sha,
    name: `${repo.owner}/${repo.name}`,
    target_url: status.targetUrl,
    avatar_url: null,
    context: status.context,
    description: status.description,
    state: status.state,
    commit: {
      sha: commit.sha,
      node_id: `C_${commit.sha}`,
      url: `${api}/commits/${commit.sha}`,
      html_url: `${site.url}/${repo.owner}/${repo.name}/commit/${commit.sha}`,
      comments_url: `${api}/commits/${commit.sha}/comments`,
      author: null,
      committer: null,
      parents: commit.parents.map((sha) => ({ sha, url: `${api}/commits/${sha}`, html_url: `${site.url}/${repo.owner}/${repo.name}/commit/${sha}` })),
      commit: {
        author: signature,
        committer: { date: commit.committer.date, email: commit.committer.email, name: commit.committer.name },
        message: commit.message,
        tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
        url: `${api}/git/commits/${commit.sha}`,
        comment_count: 0,
        verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
      },
    },
    branches: branches.map((name) => ({ name, commit: { sha: commit.sha, url: `${api}/commits/${commit.sha}` }, protected: false })),
    created_at: status.createdAt,
    updated_at: status.createdAt,
    repository: repositoryObject(site, repo),
    sender: userObject(site, repo.owner),
  };
}

/**
 * GitHub writes the review's state in lower case in these payloads ("approved"), unlike the REST
 * API ("APPROVED"); consumers meet both, so the fake sends both as GitHub does.
 */
export function pullRequestReviewPayload(site: Site, repo: Repo, pull: Pull, review: Review, action: PullRequestReviewAction): PullRequestReviewEvent {
  const common = {
    review: { ...reviewObject(site, repo, pull, review), state: review.state.toLowerCase() },
    pull_request: pullSimpleObject(site, repo, pull),
    repository: repositoryObject(site, repo),
    // The reviewer submits; someone with write access (here the owner) dismisses.
    sender: userObject(site, action === "submitted" ? review.login : repo.owner),
  };
  if (action === "submitted") return { action, ...common };
  if (review.state !== "DISMISSED") throw new Error(`fake-github: review ${review.id} is ${review.state}, not dismissed`);
  return { action, ...common, review: { ...common.review, state: "dismissed" } };
}

export type IssuesLabeledEvent = Events["webhook-issues-labeled"];
export type IssueCommentCreatedEvent = Events["webhook-issue-comment-created"];

export function issuesLabeledPayload(site: Site, repo: Repo, issue: Issue, label: string, sender: string): IssuesLabeledEvent {
  return {
    action: "labeled",
    issue: issueObject(site, repo, issue),
    label: labelObject(site, repo, label),
    repository: repositoryObject(site, repo),
    sender: userObject(site, sender),
  };
}

/** The payload's comment carries what the REST answer leaves out unless asked: its (here no) reactions and app. */
function withReactions<T extends { url: string }>(comment: T) {
  const none = { total_count: 0, "+1": 0, "-1": 0, laugh: 0, confused: 0, heart: 0, hooray: 0, eyes: 0, rocket: 0 };
  return { ...comment, performed_via_github_app: null, reactions: { url: `${comment.url}/reactions`, ...none } };
}

export function issueCommentPayload(site: Site, repo: Repo, issue: Issue, comment: IssueComment): IssueCommentCreatedEvent {
  return {
    action: "created",
    issue: issueObject(site, repo, issue),
    comment: withReactions(issueCommentObject(site, repo, comment)),
    repository: repositoryObject(site, repo),
    sender: userObject(site, comment.login),
  };
}
