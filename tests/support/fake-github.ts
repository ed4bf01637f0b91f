/**
 * A stand-in for GitHub, for tests: the REST endpoints Pier calls, and git over HTTP.
 *
 * GitHub cannot be reached from the test machine, so tests replace it at the network edge only:
 * Pier, through the real Octokit and the real git, talks HTTP to this server as it would to a GitHub
 * Enterprise host (API under /api/v3, repositories at /<owner>/<name>.git). Repositories are real
 * bare git repositories served by `git http-backend`, so pushes and fetches are real; pull requests,
 * check runs (with their output and their Actions jobs' logs), statuses, reviews with line comments
 * and issue comments live in memory and are answered in GitHub's own shapes, held to GitHub's
 * OpenAPI schemas by the type checker (fake-github/objects.ts, fake-github/webhooks.ts). Tests act
 * "on github.com" through the helpers: open a PR on the web, report CI, review, merge.
 *
 * GitHub behaviours Pier must cope with are kept: `mergeable` is null on the first read after a
 * change, ETags and 304s, rate-limit headers and both kinds of rate-limit refusal, the 422s of
 * opening a PR, a `head` filter without its `owner:` prefix being ignored, a PR's head following its
 * branch while open, job logs behind a one-minute signed redirect, merge's 405s and 409.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, errorAnswer, newRateLimitState, paged, rateLimitAnswer, respond, type Answer, type RateLimitOptions } from "./fake-github/answers.ts";
import { branchTips, git, readCommit, resolveCommit } from "./fake-github/bare-repo.ts";
import { serveGitHttp } from "./fake-github/git-http.ts";
import { diffHunkAt } from "./fake-github/bare-repo.ts";
import { JobLogStore, LOG_STORAGE_PREFIX, stampLog } from "./fake-github/job-logs.ts";
import {
  checkRunObject,
  combinedStatusObject,
  fullRepositoryObject,
  issueCommentObject,
  pullObject,
  pullSimpleObject,
  reviewCommentObject,
  reviewObject,
} from "./fake-github/objects.ts";
import { closePull, knownMergeable, listPulls, mergePull, openPull, readMergeable, syncPulls, type MergeOptions } from "./fake-github/pulls.ts";
import { isoNow, nextNumber, type CheckConclusion, type CheckOutput, type CheckStatus, type Issue, type Pull, type Repo, type ReviewState, type Site, type StatusState } from "./fake-github/state.ts";
import { commentRequest, mergeRequest, updateRequest } from "./fake-github/writes.ts";
import {
  checkRunPayload,
  checkSuitePayload,
  issueCommentPayload,
  issuesLabeledPayload,
  pullRequestPayload,
  pullRequestReviewPayload,
  statusPayload,
  type CheckRunAction,
  type CheckRunEvent,
  type CheckSuiteEvent,
  type IssueCommentCreatedEvent,
  type IssuesLabeledEvent,
  type PullRequestAction,
  type PullRequestEvent,
  type PullRequestReviewAction,
  type PullRequestReviewEvent,
  type StatusEvent,
} from "./fake-github/webhooks.ts";

export { signWebhook } from "./fake-github/webhooks.ts";
export type { RateLimitOptions } from "./fake-github/answers.ts";
export type { CheckConclusion, CheckOutput, CheckStatus, ReviewState, StatusState } from "./fake-github/state.ts";
export type { MergeMethod } from "./fake-github/pulls.ts";

export interface FakeGitHubOptions {
  /** The one token accepted: as `Authorization: token|Bearer` on the API, as the Basic-auth password for git. */
  token: string;
  /** Who the token belongs to: the author of pull requests opened through the API. Default "pier-bot". */
  login?: string;
}

export interface RecordedRequest {
  method: string;
  /** As received: /api/v3/repos/octo/widgets/pulls, /octo/widgets.git/info/refs… */
  path: string;
  query: Record<string, string>;
  status: number;
  /** Answered 304 Not Modified to an If-None-Match. */
  notModified: boolean;
  /** Whether an Authorization header came with it. Its value is never kept. */
  authorization: boolean;
}

/** Webhook payloads built from the fake's state now; post them to Pier with `signWebhook`. */
export interface WebhookPayloads {
  pullRequest(owner: string, repo: string, number: number, action: PullRequestAction): Promise<PullRequestEvent>;
  checkRun(owner: string, repo: string, checkRunId: number, action: CheckRunAction): Promise<CheckRunEvent>;
  /** `completed` for the suite of every check run on `sha` (they must all be completed). */
  checkSuite(owner: string, repo: string, sha: string): Promise<CheckSuiteEvent>;
  status(owner: string, repo: string, statusId: number): Promise<StatusEvent>;
  pullRequestReview(owner: string, repo: string, number: number, reviewId: number, action: PullRequestReviewAction): Promise<PullRequestReviewEvent>;
  /** `labeled`, as GitHub sends it when `sender` adds `label` to the issue (add it with labelIssue first). */
  issueLabeled(owner: string, repo: string, number: number, label: string, sender: string): Promise<IssuesLabeledEvent>;
  /** `created`, for a comment made with commentOnIssue. */
  issueComment(owner: string, repo: string, commentId: number): Promise<IssueCommentCreatedEvent>;
}

export interface FakeGitHub {
  /** http://127.0.0.1:PORT — the web host: pull request pages, clone URLs. */
  url: string;
  /** `${url}/api/v3`: what Pier gets as GITHUB_API_URL. */
  apiUrl: string;
  /** 127.0.0.1:PORT */
  host: string;
  /** Every request received, in order, API and git alike. */
  requests: RecordedRequest[];

  /** A bare repository served at `${url}/<owner>/<name>.git`, empty on `main` or cloned from a local bare repo; returns that URL. */
  createRepo(owner: string, name: string, options?: { from?: string; private?: boolean }): Promise<string>;
  /** Runs git in the bare repository, for assertions; returns its trimmed output. */
  gitAt(owner: string, name: string, ...args: string[]): string;

  /** As if opened on the web by `login` (default: the repo's owner); returns the PR number. Throws GitHub's 422 messages. */
  openPullRequest(owner: string, repo: string, input: { head: string; base: string; title: string; body?: string; draft?: boolean; login?: string }): Promise<number>;
  /**
   * Adds the check run `name` on `sha`, or updates it; returns its id (its GitHub Actions job's id
   * too). `output` is what the run reports; `log` is its job's log, stamped line by line as GitHub
   * stores it.
   */
  setCheckRun(
    owner: string,
    repo: string,
    sha: string,
    run: { name: string; status: CheckStatus; conclusion?: CheckConclusion; html_url?: string; details_url?: string; output?: Partial<CheckOutput>; log?: string },
  ): Promise<number>;
  /** Adds a commit status (the latest per context counts); returns its id. */
  setStatus(owner: string, repo: string, sha: string, status: { context: string; state: StatusState; target_url?: string; description?: string }): Promise<number>;
  /**
   * Submits a review on the PR's current head, with line comments on lines of the diff's new side
   * (a line outside the diff is refused, as GitHub does); returns its id. A requested reviewer who
   * reviews is no longer requested.
   */
  addReview(
    owner: string,
    repo: string,
    number: number,
    review: { login: string; state: ReviewState; body?: string; comments?: Array<{ path: string; line: number; body: string }> },
  ): Promise<number>;
  requestReviewers(owner: string, repo: string, number: number, logins: string[]): Promise<void>;
  setDraft(owner: string, repo: string, number: number, draft: boolean): Promise<void>;
  /** Merges as GitHub's merge button does (a merge commit unless another method is given); returns the commit the base now points at. */
  merge(owner: string, repo: string, number: number, options?: MergeOptions): Promise<string>;
  close(owner: string, repo: string, number: number): Promise<void>;
  /** As if opened on the web by `login`; returns its number (issues and pull requests share one sequence). */
  openIssue(owner: string, repo: string, input: { title: string; body?: string; login: string }): Promise<number>;
  labelIssue(owner: string, repo: string, number: number, label: string): Promise<void>;
  /** As if `login` commented on the web; returns the comment's id. */
  commentOnIssue(owner: string, repo: string, number: number, input: { login: string; body: string }): Promise<number>;
  /** The comments on an issue or pull request, oldest first. */
  issueComments(owner: string, repo: string, number: number): Promise<Array<{ login: string; body: string }>>;
  /** A pull request as the fake holds it now: whether it is open, merged, and how. */
  pull(owner: string, repo: string, number: number): Promise<{ state: "open" | "closed"; merged: boolean; mergeCommitSha: string | null; headSha: string }>;

  /** The next `count` API requests that pass authentication are refused with GitHub's rate-limit answer. */
  rateLimitNext(count: number, options?: RateLimitOptions): void;
  payloads: WebhookPayloads;
  stop(): Promise<void>;
}

const API_PREFIX = "/api/v3";
const CREATE_PULL_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";

/** Starts the fake on a free port of 127.0.0.1, with no repositories yet. */
export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  /** Holds `<owner>/<name>.git`, the layout git http-backend serves from. */
  const root = mkdtempSync(join(tmpdir(), "fake-github-"));
  /** By lower-cased full name: GitHub's owner and repo names are case-insensitive. */
  const repos = new Map<string, Repo>();
  const requests: RecordedRequest[] = [];
  const tokenOwner = options.login ?? "pier-bot";
  const rate = newRateLimitState();

  let lastId = 1000;
  const userIds = new Map<string, number>();
  const labelIds = new Map<string, number>();

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  const url = `http://127.0.0.1:${server.port}`;
  const site: Site = {
    url,
    apiUrl: `${url}${API_PREFIX}`,
    userId(login) {
      if (!userIds.has(login)) userIds.set(login, ++lastId);
      return userIds.get(login)!;
    },
    nextId: () => ++lastId,
    labelId(key) {
      if (!labelIds.has(key)) labelIds.set(key, ++lastId);
      return labelIds.get(key)!;
    },
  };
  const jobLogs = new JobLogStore(site);

  async function handle(request: Request): Promise<Response> {
    const requestUrl = new URL(request.url);
    const entry: RecordedRequest = {
      method: request.method,
      path: requestUrl.pathname,
      query: Object.fromEntries(requestUrl.searchParams),
      status: 0,
      notModified: false,
      authorization: request.headers.has("authorization"),
    };
    requests.push(entry);
    const isApi = requestUrl.pathname === API_PREFIX || requestUrl.pathname.startsWith(`${API_PREFIX}/`);
    const response = isApi
      ? await api(request, requestUrl)
      : requestUrl.pathname.startsWith(LOG_STORAGE_PREFIX)
        ? jobLogs.serve(requestUrl, findCheckRun)
        : await gitHttp(request, requestUrl);
    entry.status = response.status;
    entry.notModified = response.status === 304;
    return response;
  }

  // ---- REST API ----

  async function api(request: Request, requestUrl: URL): Promise<Response> {
    let answer: Answer;
    try {
      answer = await route(request, requestUrl);
    } catch (error) {
      if (!(error instanceof ApiError)) {
        // A bug in the fake or a test's misuse: said loudly, not dressed up as a plausible GitHub answer.
        console.error("fake-github:", error);
        return Response.json({ message: `fake-github: ${String(error)}` }, { status: 500 });
      }
      answer = errorAnswer(error);
    }
    return respond(request, answer, rate);
  }

  async function route(request: Request, requestUrl: URL): Promise<Answer> {
    const presented = apiToken(request.headers.get("authorization"));
    if (presented === null) throw new ApiError(401, "Requires authentication");
    if (presented !== options.token) throw new ApiError(401, "Bad credentials");

    const refusal = rate.refusals.shift();
    if (refusal) return rateLimitAnswer(refusal, site.userId(tokenOwner));

    const path = requestUrl.pathname.slice(API_PREFIX.length);
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!match) throw new ApiError(404, "Not Found");
    const [, owner, name, rest = ""] = match;
    const repo = findRepo(owner!, name!);
    if (!repo) throw new ApiError(404, "Not Found");
    await syncPulls(repo);
    const query = requestUrl.searchParams;
    const listUrl = `${url}${requestUrl.pathname}`;
    const get = request.method === "GET";
    let parts: RegExpExecArray | null;

    if (get && rest === "") return { status: 200, body: fullRepositoryObject(site, repo) };
    if (get && rest === "/pulls") return paged(listPulls(repo, query).map((pull) => pullSimpleObject(site, repo, pull)), query, listUrl);
    if (request.method === "POST" && rest === "/pulls") return createPull(repo, request);
    if (get && (parts = /^\/pulls\/(\d+)$/.exec(rest))) {
      const pull = findPull(repo, Number(parts[1]));
      return { status: 200, body: pullObject(site, repo, pull, await readMergeable(repo, pull)) };
    }
    if (request.method === "PATCH" && (parts = /^\/pulls\/(\d+)$/.exec(rest))) {
      return updateRequest(site, repo, findPull(repo, Number(parts[1])), request);
    }
    if (request.method === "PUT" && (parts = /^\/pulls\/(\d+)\/merge$/.exec(rest))) {
      const answer = await mergeRequest(repo, findPull(repo, Number(parts[1])), request, tokenOwner);
      // The base moved: other pull requests against it see that at once.
      await syncPulls(repo);
      return answer;
    }
    if (get && (parts = /^\/pulls\/(\d+)\/reviews$/.exec(rest))) {
      const pull = findPull(repo, Number(parts[1]));
      return paged(pull.reviews.map((review) => reviewObject(site, repo, pull, review)), query, listUrl);
    }
    if (get && (parts = /^\/pulls\/(\d+)\/comments$/.exec(rest))) {
      const pull = findPull(repo, Number(parts[1]));
      return paged(pull.reviewComments.map((comment) => reviewCommentObject(site, repo, pull, comment)), query, listUrl);
    }
    if (get && (parts = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const number = Number(parts[1]);
      findPull(repo, number);
      const comments = repo.issueComments.filter((comment) => comment.number === number);
      return paged(comments.map((comment) => issueCommentObject(site, repo, comment)), query, listUrl);
    }
    if (request.method === "POST" && (parts = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      return commentRequest(site, repo, Number(parts[1]), request, tokenOwner);
    }
    if (get && (parts = /^\/actions\/jobs\/(\d+)\/logs$/.exec(rest))) {
      // For GitHub Actions a check run's id is its job's id.
      const run = repo.checkRuns.find((candidate) => candidate.id === Number(parts![1]));
      if (!run?.log) throw new ApiError(404, "Not Found");
      return { status: 302, body: undefined, headers: { location: jobLogs.link(repo, run) } };
    }
    if (get && (parts = /^\/commits\/(.+)\/check-runs$/.exec(rest))) {
      return listCheckRuns(repo, await commitOf(repo, decodeURIComponent(parts[1]!)), query, listUrl);
    }
    if (get && (parts = /^\/commits\/(.+)\/status$/.exec(rest))) {
      return { status: 200, body: combinedStatusObject(site, repo, await commitOf(repo, decodeURIComponent(parts[1]!))) };
    }
    throw new ApiError(404, "Not Found");
  }

  async function createPull(repo: Repo, request: Request): Promise<Answer> {
    let input: unknown;
    try {
      input = await request.json();
    } catch {
      throw new ApiError(400, "Problems parsing JSON", CREATE_PULL_DOCS);
    }
    const result = await openPull(site, repo, (input ?? {}) as Record<string, unknown>, tokenOwner);
    if (Array.isArray(result)) throw new ApiError(422, "Validation Failed", CREATE_PULL_DOCS, result);
    const body = pullObject(site, repo, result, null);
    return { status: 201, body, headers: { location: body.url } };
  }

  function listCheckRuns(repo: Repo, sha: string, query: URLSearchParams, listUrl: string): Answer {
    const name = query.get("check_name");
    const status = query.get("status");
    const runs = repo.checkRuns.filter((run) => run.sha === sha && (!name || run.name === name) && (!status || run.status === status));
    const page = paged(runs.map((run) => checkRunObject(site, repo, run)), query, listUrl);
    return { ...page, body: { total_count: runs.length, check_runs: page.body } };
  }

  async function commitOf(repo: Repo, ref: string): Promise<string> {
    const sha = await resolveCommit(repo.dir, ref);
    if (!sha) throw new ApiError(422, `No commit found for SHA: ${ref}`);
    return sha;
  }

  function findCheckRun(repoId: number, runId: number) {
    return [...repos.values()].find((repo) => repo.id === repoId)?.checkRuns.find((run) => run.id === runId);
  }

  function findRepo(owner: string, name: string): Repo | undefined {
    return repos.get(`${owner}/${name}`.toLowerCase());
  }

  function findPull(repo: Repo, number: number): Pull {
    const pull = repo.pulls.find((candidate) => candidate.number === number);
    if (!pull) throw new ApiError(404, "Not Found");
    return pull;
  }

  // ---- what the helpers share: a thrown Error naming what the test got wrong ----

  async function helperRepo(owner: string, name: string): Promise<Repo> {
    const repo = findRepo(owner, name);
    if (!repo) throw new Error(`fake-github: no repository ${owner}/${name}; call createRepo first`);
    await syncPulls(repo);
    return repo;
  }

  async function helperPull(owner: string, name: string, number: number): Promise<{ repo: Repo; pull: Pull }> {
    const repo = await helperRepo(owner, name);
    const pull = repo.pulls.find((candidate) => candidate.number === number);
    if (!pull) throw new Error(`fake-github: no pull request #${number} in ${owner}/${name}`);
    return { repo, pull };
  }

  function helperIssue(repo: Repo, number: number): Issue {
    const issue = repo.issues.find((candidate) => candidate.number === number);
    if (!issue) throw new Error(`fake-github: no issue #${number} in ${repo.owner}/${repo.name}`);
    return issue;
  }

  async function helperCommit(repo: Repo, sha: string): Promise<string> {
    const resolved = /^[0-9a-f]{40}$/.test(sha) ? await resolveCommit(repo.dir, sha) : null;
    if (resolved !== sha) throw new Error(`fake-github: ${sha} is not the full sha of a commit in ${repo.owner}/${repo.name}`);
    return sha;
  }

  // ---- git over HTTP ----

  /**
   * Smart HTTP only (GitHub serves no dumb HTTP). Reading needs no credentials on a public repo;
   * pushing, or reading a private one, needs HTTP Basic auth whose password is the token. Without
   * it the answer is GitHub's 401 challenge, which makes git ask its credential helper.
   */
  async function gitHttp(request: Request, requestUrl: URL): Promise<Response> {
    const match = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(requestUrl.pathname);
    const repo = match ? findRepo(match[1]!, match[2]!) : undefined;
    if (!match || !repo) return new Response("Repository not found.\n", { status: 404 });
    const endpoint = match[3]!;
    const push = endpoint === "git-receive-pack" || requestUrl.searchParams.get("service") === "git-receive-pack";

    const credentials = basicCredentials(request.headers.get("authorization"));
    const authorized = credentials !== null && credentials.password === options.token;
    if (credentials !== null && !authorized) {
      return challenge("Invalid username or token. Password authentication is not supported for Git operations.\n");
    }
    if ((push || repo.private) && !authorized) return challenge("");

    return serveGitHttp(request, {
      projectRoot: root,
      pathInfo: `/${repo.owner}/${repo.name}.git/${endpoint}`,
      remoteUser: authorized ? credentials.username : null,
    });
  }

  return {
    url,
    apiUrl: site.apiUrl,
    host: `127.0.0.1:${server.port}`,
    requests,

    async createRepo(owner, name, { from, private: isPrivate = false } = {}) {
      if (findRepo(owner, name)) throw new Error(`fake-github: ${owner}/${name} already exists`);
      mkdirSync(join(root, owner), { recursive: true });
      const dir = join(root, owner, `${name}.git`);
      if (from) await git(root, ["clone", "--quiet", "--bare", "--", from, dir]);
      else await git(root, ["init", "--quiet", "--bare", "--initial-branch=main", dir]);
      repos.set(`${owner}/${name}`.toLowerCase(), {
        id: site.nextId(),
        owner,
        name,
        dir,
        private: isPrivate,
        createdAt: isoNow(),
        pulls: [],
        checkRuns: [],
        statuses: [],
        checkSuites: new Map(),
        issueComments: [],
        issues: [],
      });
      return `${url}/${owner}/${name}.git`;
    },

    gitAt(owner, name, ...args) {
      const repo = findRepo(owner, name);
      if (!repo) throw new Error(`fake-github: no repository ${owner}/${name}`);
      const result = Bun.spawnSync(["git", ...args], { cwd: repo.dir });
      if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${owner}/${name}: ${result.stderr.toString()}`);
      return result.stdout.toString().trim();
    },

    async openPullRequest(owner, name, { login, ...input }) {
      const repo = await helperRepo(owner, name);
      const result = await openPull(site, repo, input, login ?? repo.owner);
      if (Array.isArray(result)) throw new Error(`fake-github: GitHub would refuse this pull request (422): ${JSON.stringify(result)}`);
      return result.number;
    },

    async setCheckRun(owner, name, sha, { name: runName, status, conclusion, html_url, details_url, output, log }) {
      const repo = await helperRepo(owner, name);
      await helperCommit(repo, sha);
      if ((status === "completed") !== (conclusion !== undefined)) {
        throw new Error("fake-github: a check run has a conclusion exactly when its status is completed");
      }
      const now = isoNow();
      let run = repo.checkRuns.find((candidate) => candidate.sha === sha && candidate.name === runName);
      if (!run) {
        let suiteId = repo.checkSuites.get(sha);
        if (suiteId === undefined) repo.checkSuites.set(sha, (suiteId = site.nextId()));
        const id = site.nextId();
        const page = `${url}/${repo.owner}/${repo.name}/runs/${id}`;
        run = {
          id,
          suiteId,
          sha,
          name: runName,
          status,
          conclusion: null,
          htmlUrl: page,
          detailsUrl: page,
          startedAt: now,
          completedAt: null,
          output: { title: null, summary: null, text: null },
          log: null,
        };
        repo.checkRuns.push(run);
      }
      Object.assign(run, {
        status,
        conclusion: conclusion ?? null,
        completedAt: status === "completed" ? now : null,
        htmlUrl: html_url ?? run.htmlUrl,
        detailsUrl: details_url ?? html_url ?? run.detailsUrl,
        output: { ...run.output, ...output },
        log: log === undefined ? run.log : stampLog(log),
      });
      return run.id;
    },

    async setStatus(owner, name, sha, { context, state, target_url, description }) {
      const repo = await helperRepo(owner, name);
      await helperCommit(repo, sha);
      const id = site.nextId();
      repo.statuses.push({ id, sha, context, state, targetUrl: target_url ?? null, description: description ?? null, createdAt: isoNow() });
      return id;
    },

    async addReview(owner, name, number, { login, state, body = "", comments = [] }) {
      const { repo, pull } = await helperPull(owner, name, number);
      const id = site.nextId();
      const submittedAt = isoNow();
      const lineComments = [];
      for (const comment of comments) {
        const diffHunk = await diffHunkAt(repo.dir, pull.baseSha, pull.headSha, comment.path, comment.line);
        if (diffHunk === null) throw new Error(`fake-github: GitHub would refuse this comment (422): ${comment.path} line ${comment.line} is not part of the diff`);
        lineComments.push({ id: site.nextId(), reviewId: id, login, ...comment, commitId: pull.headSha, diffHunk, createdAt: submittedAt });
      }
      pull.reviewComments.push(...lineComments);
      pull.reviews.push({ id, login, state, body, commitId: pull.headSha, submittedAt });
      pull.requestedReviewers = pull.requestedReviewers.filter((requested) => requested !== login);
      pull.updatedAt = isoNow();
      return id;
    },

    async requestReviewers(owner, name, number, logins) {
      const { pull } = await helperPull(owner, name, number);
      pull.requestedReviewers = [...new Set([...pull.requestedReviewers, ...logins])];
      pull.updatedAt = isoNow();
    },

    async setDraft(owner, name, number, draft) {
      const { pull } = await helperPull(owner, name, number);
      pull.draft = draft;
      pull.updatedAt = isoNow();
    },

    async merge(owner, name, number, options) {
      const { repo, pull } = await helperPull(owner, name, number);
      const commit = await mergePull(repo, pull, repo.owner, options);
      if (commit === null) throw new Error(`fake-github: #${number} cannot be merged into ${pull.baseRef} (conflicts)`);
      return commit;
    },

    async close(owner, name, number) {
      const { pull } = await helperPull(owner, name, number);
      if (pull.state !== "open") throw new Error(`fake-github: #${number} is already closed`);
      closePull(pull);
    },

    async issueComments(owner, name, number) {
      const repo = await helperRepo(owner, name);
      return repo.issueComments.filter((comment) => comment.number === number).map(({ login, body }) => ({ login, body }));
    },

    async pull(owner, name, number) {
      const { pull } = await helperPull(owner, name, number);
      return { state: pull.state, merged: pull.mergedAt !== null, mergeCommitSha: pull.mergeCommitSha, headSha: pull.headSha };
    },

    rateLimitNext(count, { kind = "secondary", retryAfterSeconds = 60 } = {}) {
      for (let i = 0; i < count; i++) rate.refusals.push({ kind, retryAfterSeconds });
    },

    async openIssue(owner, name, { title, body, login }) {
      const repo = await helperRepo(owner, name);
      const now = isoNow();
      const number = nextNumber(repo);
      repo.issues.push({ id: site.nextId(), number, title, body: body ?? null, author: login, labels: [], createdAt: now, updatedAt: now });
      return number;
    },

    async labelIssue(owner, name, number, label) {
      const issue = helperIssue(await helperRepo(owner, name), number);
      if (!issue.labels.includes(label)) issue.labels.push(label);
      issue.updatedAt = isoNow();
    },

    async commentOnIssue(owner, name, number, { login, body }) {
      const repo = await helperRepo(owner, name);
      helperIssue(repo, number);
      const comment = { id: site.nextId(), number, login, body, createdAt: isoNow() };
      repo.issueComments.push(comment);
      return comment.id;
    },

    payloads: {
      async issueLabeled(owner, name, number, label, sender) {
        const repo = await helperRepo(owner, name);
        const issue = helperIssue(repo, number);
        if (!issue.labels.includes(label)) throw new Error(`fake-github: #${number} has no label ${label}; call labelIssue first`);
        return issuesLabeledPayload(site, repo, issue, label, sender);
      },
      async issueComment(owner, name, commentId) {
        const repo = await helperRepo(owner, name);
        const comment = repo.issueComments.find((candidate) => candidate.id === commentId);
        if (!comment) throw new Error(`fake-github: no comment ${commentId} in ${owner}/${name}`);
        return issueCommentPayload(site, repo, helperIssue(repo, comment.number), comment);
      },
      async pullRequest(owner, name, number, action) {
        const { repo, pull } = await helperPull(owner, name, number);
        return pullRequestPayload(site, repo, pull, action, knownMergeable(pull));
      },
      async checkRun(owner, name, checkRunId, action) {
        return checkRunPayload(site, await helperRepo(owner, name), checkRunId, action);
      },
      async checkSuite(owner, name, sha) {
        const repo = await helperRepo(owner, name);
        const tips = await branchTips(repo.dir);
        const headBranch = [...tips].find(([, tip]) => tip === sha)?.[0] ?? null;
        return checkSuitePayload(site, repo, await readCommit(repo.dir, await helperCommit(repo, sha)), headBranch);
      },
      async status(owner, name, statusId) {
        const repo = await helperRepo(owner, name);
        const status = repo.statuses.find((candidate) => candidate.id === statusId);
        if (!status) throw new Error(`fake-github: no status ${statusId} in ${owner}/${name}`);
        const tips = await branchTips(repo.dir);
        const branches = [...tips].filter(([, tip]) => tip === status.sha).map(([branch]) => branch);
        return statusPayload(site, repo, status, await readCommit(repo.dir, status.sha), branches);
      },
      async pullRequestReview(owner, name, number, reviewId, action) {
        const { repo, pull } = await helperPull(owner, name, number);
        const review = pull.reviews.find((candidate) => candidate.id === reviewId);
        if (!review) throw new Error(`fake-github: no review ${reviewId} on #${number}`);
        return pullRequestReviewPayload(site, repo, pull, review, action);
      },
    },

    async stop() {
      await server.stop(true);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** `Authorization: token X` or `Bearer X`: the token, "" for anything else, null for no header. */
function apiToken(header: string | null): string | null {
  if (header === null) return null;
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
  return match ? match[1]! : "";
}

function basicCredentials(header: string | null): { username: string; password: string } | null {
  const match = header ? /^basic\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString();
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** GitHub's answer to git without (good) credentials: the Basic challenge that makes git ask its credential helper. */
function challenge(body: string): Response {
  return new Response(body, { status: 401, headers: { "www-authenticate": 'Basic realm="GitHub"' } });
}
