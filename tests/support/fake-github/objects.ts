/**
 * GitHub's REST objects, built from the fake's state. Each object `satisfies` its schema from
 * GitHub's own OpenAPI description (@octokit/openapi-types), so the type checker holds every answer
 * to the shape Octokit's callers are written against: same fields, same nullability, the same URL
 * templates GitHub fills in. `satisfies` rather than a return type keeps each field's precise type,
 * which the webhook payloads (whose schemas are stricter in places) are checked against in turn.
 */
import type { components } from "@octokit/openapi-types";
import { defaultBranch } from "./bare-repo.ts";
import {
  combinedState,
  hasUnsettledChecks,
  latestStatuses,
  type CheckRun,
  type CommitStatus,
  type Issue,
  type IssueComment,
  type Pull,
  type Repo,
  type Review,
  type ReviewComment,
  type Site,
} from "./state.ts";

export type Schemas = components["schemas"];

/** GitHub's node ids are opaque base64 strings with a type prefix; these only need to be unique and stable. */
function nodeId(prefix: string, id: number): string {
  return `${prefix}_${btoa(`fake:${id}`).replaceAll("=", "")}`;
}

export function userObject(site: Site, login: string, type: "User" | "Organization" | "Bot" = "User") {
  const id = site.userId(login);
  const api = `${site.apiUrl}/users/${login}`;
  return {
    login,
    id,
    node_id: nodeId("U", id),
    avatar_url: `${site.url}/avatars/u/${id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `${site.url}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    user_view_type: "public",
    site_admin: false,
  } satisfies Schemas["simple-user"];
}

export function repositoryObject(site: Site, repo: Repo) {
  const fullName = `${repo.owner}/${repo.name}`;
  const api = `${site.apiUrl}/repos/${fullName}`;
  const host = new URL(site.url).host;
  const openPulls = repo.pulls.filter((pull) => pull.state === "open").length;
  return {
    id: repo.id,
    node_id: nodeId("R", repo.id),
    name: repo.name,
    full_name: fullName,
    owner: userObject(site, repo.owner),
    private: repo.private,
    visibility: repo.private ? ("private" as const) : ("public" as const),
    html_url: `${site.url}/${fullName}`,
    description: null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://${host}/${fullName}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${new URL(site.url).hostname}:${fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${site.url}/${fullName}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: `${site.url}/${fullName}`,
    homepage: null,
    language: null,
    license: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 0,
    default_branch: defaultBranch(repo.dir),
    open_issues: openPulls,
    open_issues_count: openPulls,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    allow_forking: true,
    web_commit_signoff_required: false,
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
  } satisfies Schemas["repository"];
}

/** GET /repos/{owner}/{repo} adds the merge settings and counts that embedded repositories leave out. */
export function fullRepositoryObject(site: Site, repo: Repo) {
  return {
    ...repositoryObject(site, repo),
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    has_discussions: false,
    allow_merge_commit: true,
    allow_squash_merge: true,
    allow_rebase_merge: true,
    allow_auto_merge: false,
    allow_update_branch: false,
    delete_branch_on_merge: false,
    use_squash_pr_title_as_default: false,
    squash_merge_commit_title: "COMMIT_OR_PR_TITLE",
    squash_merge_commit_message: "COMMIT_MESSAGES",
    merge_commit_title: "MERGE_MESSAGE",
    merge_commit_message: "PR_TITLE",
    temp_clone_token: repo.private ? "" : null,
    network_count: 0,
    subscribers_count: 0,
  } satisfies Schemas["full-repository"];
}

/** The pull request as GET /pulls lists it: everything but the merge state and the diff numbers. */
export function pullSimpleObject(site: Site, repo: Repo, pull: Pull) {
  const fullName = `${repo.owner}/${repo.name}`;
  const api = `${site.apiUrl}/repos/${fullName}`;
  const self = `${api}/pulls/${pull.number}`;
  const html = `${site.url}/${fullName}/pull/${pull.number}`;
  const repository = repositoryObject(site, repo);
  const owner = userObject(site, repo.owner);
  const end = (ref: string, sha: string) => ({ label: `${repo.owner}:${ref}`, ref, sha, user: owner, repo: repository });
  return {
    url: self,
    id: pull.id,
    node_id: nodeId("PR", pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    commits_url: `${self}/commits`,
    review_comments_url: `${self}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userObject(site, pull.author),
    body: pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: pull.requestedReviewers.map((login) => userObject(site, login)),
    requested_teams: [],
    head: end(pull.headRef, pull.headSha),
    base: end(pull.baseRef, pull.baseSha),
    _links: {
      self: { href: self },
      html: { href: html },
      issue: { href: `${api}/issues/${pull.number}` },
      comments: { href: `${api}/issues/${pull.number}/comments` },
      review_comments: { href: `${self}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${self}/commits` },
      statuses: { href: `${api}/statuses/${pull.headSha}` },
    },
    author_association: associationOf(repo, pull.author),
    auto_merge: null,
    draft: pull.draft,
  } satisfies Schemas["pull-request-simple"];
}

/**
 * The full pull request (GET, POST, webhook payloads). `mergeable` is passed in because GitHub
 * computes it lazily: null until computed, and always null once the PR is closed.
 */
export function pullObject(site: Site, repo: Repo, pull: Pull, mergeable: boolean | null) {
  return {
    ...pullSimpleObject(site, repo, pull),
    merged: pull.mergedAt !== null,
    mergeable,
    rebaseable: mergeable,
    mergeable_state: mergeableState(repo, pull, mergeable),
    merged_by: pull.mergedBy ? userObject(site, pull.mergedBy) : null,
    comments: repo.issueComments.filter((comment) => comment.number === pull.number).length,
    review_comments: pull.reviewComments.length,
    maintainer_can_modify: false,
    commits: pull.commits,
    additions: pull.additions,
    deletions: pull.deletions,
    changed_files: pull.changedFiles,
  } satisfies Schemas["pull-request"];
}

/**
 * GitHub's mergeable_state, without branch protection (so never "blocked" or "behind"):
 * unknown while not computed, dirty on conflicts, draft, unstable while checks are pending or
 * failing, else clean.
 */
function mergeableState(repo: Repo, pull: Pull, mergeable: boolean | null): string {
  if (pull.state === "closed" || mergeable === null) return "unknown";
  if (!mergeable) return "dirty";
  if (pull.draft) return "draft";
  return hasUnsettledChecks(repo, pull.headSha) ? "unstable" : "clean";
}

function associationOf(repo: Repo, login: string): Schemas["author-association"] {
  return login === repo.owner ? "OWNER" : "COLLABORATOR";
}

/** The pull requests a check run lists: open ones whose head is the run's commit. */
function pullsMinimal(site: Site, repo: Repo, sha: string): Schemas["pull-request-minimal"][] {
  const repoRef = { id: repo.id, url: `${site.apiUrl}/repos/${repo.owner}/${repo.name}`, name: repo.name };
  return repo.pulls
    .filter((pull) => pull.state === "open" && pull.headSha === sha)
    .map((pull) => ({
      id: pull.id,
      number: pull.number,
      url: `${repoRef.url}/pulls/${pull.number}`,
      head: { ref: pull.headRef, sha: pull.headSha, repo: repoRef },
      base: { ref: pull.baseRef, sha: pull.baseSha, repo: repoRef },
    }));
}

/** Typed as the names themselves, which webhook schemas require, not just strings. */
const ACTIONS_EVENTS: Array<"check_run" | "check_suite" | "pull_request" | "push" | "status"> = ["check_run", "check_suite", "pull_request", "push", "status"];

/** Check runs in the fake all come from one app, as most CI on GitHub does today. */
export function actionsApp(site: Site) {
  return {
    id: 15368,
    slug: "github-actions",
    node_id: "MDM6QXBwMTUzNjg=",
    owner: userObject(site, "github", "Organization"),
    name: "GitHub Actions",
    description: "Automate your workflow from idea to production",
    external_url: "https://help.github.com/en/actions",
    html_url: `${site.url}/apps/github-actions`,
    created_at: "2018-07-30T09:30:17Z",
    updated_at: "2024-04-10T20:33:16Z",
    permissions: { actions: "write", checks: "write", contents: "write", metadata: "read", pull_requests: "write", statuses: "write" } as const,
    events: ACTIONS_EVENTS,
  } satisfies NonNullable<Schemas["integration"]>;
}

export function checkRunObject(site: Site, repo: Repo, run: CheckRun) {
  const url = `${site.apiUrl}/repos/${repo.owner}/${repo.name}/check-runs/${run.id}`;
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId("CR", run.id),
    head_sha: run.sha,
    external_id: "",
    url,
    html_url: run.htmlUrl,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: { ...run.output, annotations_count: 0, annotations_url: `${url}/annotations` },
    check_suite: { id: run.suiteId },
    app: actionsApp(site),
    pull_requests: pullsMinimal(site, repo, run.sha),
  } satisfies Schemas["check-run"];
}

export function commitStatusObject(site: Site, repo: Repo, status: CommitStatus) {
  return {
    url: `${site.apiUrl}/repos/${repo.owner}/${repo.name}/statuses/${status.sha}`,
    avatar_url: `${site.url}/avatars/u/${site.userId("github")}?v=4`,
    id: status.id,
    node_id: nodeId("SC", status.id),
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
  } satisfies Schemas["simple-commit-status"];
}

export function combinedStatusObject(site: Site, repo: Repo, sha: string) {
  const statuses = latestStatuses(repo, sha);
  const api = `${site.apiUrl}/repos/${repo.owner}/${repo.name}`;
  return {
    state: combinedState(statuses),
    statuses: statuses.map((status) => commitStatusObject(site, repo, status)),
    sha,
    total_count: statuses.length,
    // Embedded here in its minimal form, whose schema types `license` differently; it is null either way.
    repository: { ...repositoryObject(site, repo), license: null },
    commit_url: `${api}/commits/${sha}`,
    url: `${api}/commits/${sha}/status`,
  } satisfies Schemas["combined-commit-status"];
}

export function reviewObject(site: Site, repo: Repo, pull: Pull, review: Review) {
  const html = `${site.url}/${repo.owner}/${repo.name}/pull/${pull.number}#pullrequestreview-${review.id}`;
  const pullUrl = `${site.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}`;
  return {
    id: review.id,
    node_id: nodeId("PRR", review.id),
    user: userObject(site, review.login),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: pullUrl,
    author_association: associationOf(repo, review.login),
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
    submitted_at: review.submittedAt,
    commit_id: review.commitId,
  } satisfies Schemas["pull-request-review"];
}

/** A line comment as GET /pulls/{n}/comments lists it: on the new side of the diff, one line. */
export function reviewCommentObject(site: Site, repo: Repo, pull: Pull, comment: ReviewComment) {
  const api = `${site.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const self = `${api}/pulls/comments/${comment.id}`;
  const html = `${site.url}/${repo.owner}/${repo.name}/pull/${pull.number}#discussion_r${comment.id}`;
  const pullUrl = `${api}/pulls/${pull.number}`;
  return {
    url: self,
    pull_request_review_id: comment.reviewId,
    id: comment.id,
    node_id: nodeId("PRRC", comment.id),
    diff_hunk: comment.diffHunk,
    path: comment.path,
    commit_id: comment.commitId,
    original_commit_id: comment.commitId,
    user: userObject(site, comment.login),
    body: comment.body,
    created_at: comment.createdAt,
    updated_at: comment.createdAt,
    html_url: html,
    pull_request_url: pullUrl,
    author_association: associationOf(repo, comment.login),
    _links: { self: { href: self }, html: { href: html }, pull_request: { href: pullUrl } },
    start_line: null,
    original_start_line: null,
    start_side: null,
    line: comment.line,
    original_line: comment.line,
    side: "RIGHT" as const,
    subject_type: "line" as const,
  } satisfies Schemas["pull-request-review-comment"];
}

export function issueCommentObject(site: Site, repo: Repo, comment: IssueComment) {
  const api = `${site.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const isPull = repo.pulls.some((pull) => pull.number === comment.number);
  return {
    id: comment.id,
    node_id: nodeId("IC", comment.id),
    url: `${api}/issues/comments/${comment.id}`,
    body: comment.body,
    html_url: `${site.url}/${repo.owner}/${repo.name}/${isPull ? "pull" : "issues"}/${comment.number}#issuecomment-${comment.id}`,
    user: userObject(site, comment.login),
    created_at: comment.createdAt,
    updated_at: comment.createdAt,
    issue_url: `${api}/issues/${comment.number}`,
    author_association: associationOf(repo, comment.login),
    performed_via_github_app: null,
  } satisfies Schemas["issue-comment"];
}

/** A label as GitHub shows one; the fake keeps only names, so the colour is GitHub's default grey. */
export function labelObject(site: Site, repo: Repo, name: string) {
  const id = site.labelId(`${repo.owner}/${repo.name}:${name}`);
  return {
    id,
    node_id: nodeId("LA", id),
    url: `${site.apiUrl}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(name)}`,
    name,
    description: null,
    color: "ededed",
    default: false,
  } satisfies Schemas["label"];
}

export function issueObject(site: Site, repo: Repo, issue: Issue) {
  const api = `${site.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const comments = repo.issueComments.filter((comment) => comment.number === issue.number).length;
  return {
    id: issue.id,
    node_id: nodeId("I", issue.id),
    url: `${api}/issues/${issue.number}`,
    repository_url: api,
    labels_url: `${api}/issues/${issue.number}/labels{/name}`,
    comments_url: `${api}/issues/${issue.number}/comments`,
    events_url: `${api}/issues/${issue.number}/events`,
    html_url: `${site.url}/${repo.owner}/${repo.name}/issues/${issue.number}`,
    number: issue.number,
    state: "open" as const,
    state_reason: null,
    title: issue.title,
    body: issue.body,
    user: userObject(site, issue.author),
    labels: issue.labels.map((name) => labelObject(site, repo, name)),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments,
    closed_at: null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: associationOf(repo, issue.author),
    reactions: { url: `${api}/issues/${issue.number}/reactions`, total_count: 0, "+1": 0, "-1": 0, laugh: 0, confused: 0, heart: 0, hooray: 0, eyes: 0, rocket: 0 },
    timeline_url: `${api}/issues/${issue.number}/timeline`,
    performed_via_github_app: null,
  } satisfies Schemas["issue"];
}
