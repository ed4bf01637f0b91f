import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verify } from "@octokit/webhooks-methods";
import { Octokit } from "octokit";
import { signWebhook, startFakeGitHub, type FakeGitHub } from "../support/fake-github.ts";
import { requestFailure } from "../support/request-failure.ts";
import { makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";

// The fake is only worth something if the real Octokit and the real git accept it as GitHub, so every
// check goes through one of them.

const TOKEN = "ghp_fakeGitHubTestToken0123456789";
const OWNER = "octo";
const REPO = "widgets";
const REF = { owner: OWNER, repo: REPO };

/**
 * The real Octokit with its plugins, minus throttling: the throttling plugin spaces every write a
 * second apart across the process, which would make these tests slow. The rate-limit tests turn it on.
 */
function octokit(fake: FakeGitHub, options: ConstructorParameters<typeof Octokit>[0] = {}): Octokit {
  return new Octokit({ baseUrl: fake.apiUrl, auth: TOKEN, throttle: { enabled: false }, ...options });
}

/**
 * Runs git with no credential helper but those given, and never a prompt. Asynchronously: the fake
 * serves from this same process, so a synchronous spawn talking to it would wait forever.
 */
async function git(cwd: string, args: string[], env: Record<string, string> = {}) {
  // An askpass program would be asked for credentials even with terminal prompts off.
  const { GIT_ASKPASS, SSH_ASKPASS, ...inherited } = process.env;
  const child = Bun.spawn(["git", "-c", "credential.helper=", ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...inherited,
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Tester",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "Tester",
      GIT_COMMITTER_EMAIL: "t@example.com",
      ...env,
    },
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { ok: exitCode === 0, stdout: stdout.trim(), stderr };
}

/**
 * A credential helper that answers from the environment, so the token is in neither the URL nor
 * any process's arguments.
 */
const HELPER = ["-c", 'credential.helper=!f() { test "$1" = get && printf "username=x-access-token\\npassword=%s\\n" "$FAKE_GITHUB_TOKEN"; }; f'];

describe("fake GitHub", () => {
  let remote: RemoteRepo;
  let fake: FakeGitHub;
  let gh: Octokit;

  beforeAll(() => {
    // main, feature/login (one commit ahead) and fix/typo (one empty commit ahead).
    remote = makeRemoteRepo(REPO);
    remote.git("checkout", "--quiet", "-b", "fix/typo", "main");
    remote.git("commit", "--quiet", "--allow-empty", "-m", "Fix a typo");
    remote.git("push", "--quiet", "origin", "fix/typo");
    remote.git("checkout", "--quiet", "main");
  });
  beforeEach(async () => {
    fake = await startFakeGitHub({ token: TOKEN });
    await fake.createRepo(OWNER, REPO, { from: remote.path });
    gh = octokit(fake);
  }, 60_000);
  afterEach(async () => {
    await fake.stop();
  }, 60_000);

  test("addresses: the API in its GitHub Enterprise form, repositories on the web host", async () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.apiUrl).toBe(`${fake.url}/api/v3`);
    expect(fake.host).toBe(fake.url.replace("http://", ""));

    const { data } = await gh.rest.repos.get(REF);
    expect(data).toMatchObject({
      full_name: "octo/widgets",
      default_branch: "main",
      private: false,
      html_url: `${fake.url}/octo/widgets`,
      clone_url: `${fake.url}/octo/widgets.git`,
      owner: { login: OWNER },
    });
  });

  test("a pull request opened through the API is answered in full, and mergeable is null until computed", async () => {
    const created = await gh.rest.pulls.create({ ...REF, head: "feature/login", base: "main", title: "Log in", body: "Adds login." });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${fake.apiUrl}/repos/octo/widgets/pulls/1`);
    expect(created.data).toMatchObject({
      number: 1,
      html_url: `${fake.url}/octo/widgets/pull/1`,
      url: `${fake.apiUrl}/repos/octo/widgets/pulls/1`,
      title: "Log in",
      body: "Adds login.",
      state: "open",
      draft: false,
      merged: false,
      merged_at: null,
      mergeable: null,
      user: { login: "pier-bot" },
      head: { ref: "feature/login", label: "octo:feature/login", sha: fake.gitAt(OWNER, REPO, "rev-parse", "feature/login") },
      base: { ref: "main", label: "octo:main", sha: fake.gitAt(OWNER, REPO, "rev-parse", "main"), repo: { full_name: "octo/widgets" } },
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
    });

    // GitHub computes mergeability in the background: the first read says null, a later one knows.
    const first = await gh.rest.pulls.get({ ...REF, pull_number: 1 });
    expect(first.data).toMatchObject({ mergeable: null, mergeable_state: "unknown" });
    const second = await gh.rest.pulls.get({ ...REF, pull_number: 1 });
    expect(second.data).toMatchObject({ mergeable: true, mergeable_state: "clean" });
  });

  test("the list filters by state, owner:branch head and base, and pages with a Link header, as GitHub does", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    await fake.openPullRequest(OWNER, REPO, { head: "fix/typo", base: "main", title: "Typo" });
    await fake.close(OWNER, REPO, 2);

    const numbers = async (query: Record<string, string | number>) =>
      (await gh.rest.pulls.list({ ...REF, ...query })).data.map((pull) => pull.number);
    expect(await numbers({})).toEqual([1]);
    expect(await numbers({ state: "closed" })).toEqual([2]);
    expect(await numbers({ state: "all" })).toEqual([2, 1]);
    expect(await numbers({ state: "all", head: "octo:fix/typo" })).toEqual([2]);
    expect(await numbers({ state: "all", head: "someone-else:fix/typo" })).toEqual([]);
    // A head without its owner is ignored by GitHub, not matched against the branch.
    expect(await numbers({ state: "all", head: "fix/typo" })).toEqual([2, 1]);
    expect(await numbers({ state: "all", base: "develop" })).toEqual([]);

    const page = await gh.rest.pulls.list({ ...REF, state: "all", per_page: 1 });
    expect(page.data.map((pull) => pull.number)).toEqual([2]);
    expect(page.headers.link).toContain('rel="next"');
    const all = await gh.paginate(gh.rest.pulls.list, { ...REF, state: "all", per_page: 1 });
    expect(all.map((pull) => pull.number)).toEqual([2, 1]);
  });

  test("opening a pull request is refused with GitHub's 422s", async () => {
    const errorsOf = async (head: string) => {
      const error = await requestFailure(gh.rest.pulls.create({ ...REF, head, base: "main", title: "T" }));
      expect(error.status).toBe(422);
      expect(error.response?.data).toMatchObject({ message: "Validation Failed", documentation_url: expect.stringContaining("create-a-pull-request") });
      return (error.response?.data as { errors: unknown[] }).errors;
    };

    expect(await errorsOf("no-such-branch")).toEqual([{ resource: "PullRequest", code: "invalid", field: "head" }]);

    fake.gitAt(OWNER, REPO, "branch", "same-as-main", "main");
    expect(await errorsOf("same-as-main")).toEqual([{ resource: "PullRequest", code: "custom", message: "No commits between main and same-as-main" }]);

    await gh.rest.pulls.create({ ...REF, head: "feature/login", base: "main", title: "Log in" });
    expect(await errorsOf("octo:feature/login")).toEqual([
      { resource: "PullRequest", code: "custom", message: "A pull request already exists for octo:feature/login." },
    ]);
    // Octokit puts the errors into the message, as callers usually log it.
    const error = await requestFailure(gh.rest.pulls.create({ ...REF, head: "feature/login", base: "main", title: "Again" }));
    expect(error.message).toContain("A pull request already exists for octo:feature/login.");
  });

  test("check runs: added and updated by name, listed by sha or branch, linked to open pull requests", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    const sha = fake.gitAt(OWNER, REPO, "rev-parse", "feature/login");
    const build = await fake.setCheckRun(OWNER, REPO, sha, { name: "build", status: "in_progress" });
    await fake.setCheckRun(OWNER, REPO, sha, { name: "test", status: "completed", conclusion: "failure", html_url: "https://ci.example/1" });
    expect(await fake.setCheckRun(OWNER, REPO, sha, { name: "build", status: "completed", conclusion: "success" })).toBe(build);

    const { data } = await gh.rest.checks.listForRef({ ...REF, ref: "feature/login" });
    expect(data.total_count).toBe(2);
    expect(data.check_runs[0]).toMatchObject({
      id: build,
      name: "build",
      head_sha: sha,
      status: "completed",
      conclusion: "success",
      started_at: expect.any(String),
      completed_at: expect.any(String),
      html_url: `${fake.url}/octo/widgets/runs/${build}`,
      app: { slug: "github-actions" },
      pull_requests: [{ number: 1, head: { ref: "feature/login", sha } }],
    });
    expect(data.check_runs[1]).toMatchObject({ name: "test", conclusion: "failure", html_url: "https://ci.example/1", details_url: "https://ci.example/1" });
    expect((await gh.rest.checks.listForRef({ ...REF, ref: sha, check_name: "test" })).data.total_count).toBe(1);

    // A failing check makes the PR "unstable" once mergeability is known.
    await gh.rest.pulls.get({ ...REF, pull_number: 1 });
    expect((await gh.rest.pulls.get({ ...REF, pull_number: 1 })).data.mergeable_state).toBe("unstable");

    const unknown = await requestFailure(gh.rest.checks.listForRef({ ...REF, ref: "no-such-ref" }));
    expect(unknown.status).toBe(422);
    expect(unknown.message).toStartWith("No commit found for SHA: no-such-ref");
  });

  test("the combined status is the latest status per context, rolled up as GitHub does", async () => {
    const sha = fake.gitAt(OWNER, REPO, "rev-parse", "main");
    const combined = async () => (await gh.rest.repos.getCombinedStatusForRef({ ...REF, ref: "main" })).data;
    expect(await combined()).toMatchObject({ state: "pending", total_count: 0, statuses: [], sha });

    await fake.setStatus(OWNER, REPO, sha, { context: "ci/lint", state: "pending" });
    await fake.setStatus(OWNER, REPO, sha, { context: "ci/deploy", state: "success", target_url: "https://deploy.example/7" });
    expect((await combined()).state).toBe("pending");

    const lint = await fake.setStatus(OWNER, REPO, sha, { context: "ci/lint", state: "success", description: "clean" });
    const now = await combined();
    expect(now).toMatchObject({ state: "success", total_count: 2, repository: { full_name: "octo/widgets" } });
    expect(now.statuses).toEqual([
      expect.objectContaining({ id: lint, context: "ci/lint", state: "success", description: "clean", target_url: null }),
      expect.objectContaining({ context: "ci/deploy", state: "success", target_url: "https://deploy.example/7" }),
    ]);

    await fake.setStatus(OWNER, REPO, sha, { context: "ci/deploy", state: "error" });
    expect((await combined()).state).toBe("failure");
  });

  test("reviews and requested reviewers", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    await fake.requestReviewers(OWNER, REPO, 1, ["alice", "bob"]);
    const requested = async () => (await gh.rest.pulls.get({ ...REF, pull_number: 1 })).data.requested_reviewers?.map((user) => user.login);
    expect(await requested()).toEqual(["alice", "bob"]);

    const approval = await fake.addReview(OWNER, REPO, 1, { login: "alice", state: "APPROVED" });
    await fake.addReview(OWNER, REPO, 1, { login: "carol", state: "CHANGES_REQUESTED", body: "Needs tests." });
    // A requested reviewer who reviews is no longer pending.
    expect(await requested()).toEqual(["bob"]);

    const { data } = await gh.rest.pulls.listReviews({ ...REF, pull_number: 1 });
    expect(data).toHaveLength(2);
    expect(data[0]).toMatchObject({
      id: approval,
      user: { login: "alice" },
      state: "APPROVED",
      commit_id: fake.gitAt(OWNER, REPO, "rev-parse", "feature/login"),
      submitted_at: expect.any(String),
      html_url: `${fake.url}/octo/widgets/pull/1#pullrequestreview-${approval}`,
    });
    expect(data[1]).toMatchObject({ user: { login: "carol" }, state: "CHANGES_REQUESTED", body: "Needs tests." });
  });

  test("merge and close, as on the web", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in", draft: true });
    expect((await gh.rest.pulls.get({ ...REF, pull_number: 1 })).data.draft).toBe(true);
    await fake.setDraft(OWNER, REPO, 1, false);

    const head = fake.gitAt(OWNER, REPO, "rev-parse", "feature/login");
    const mergeCommit = await fake.merge(OWNER, REPO, 1);
    expect(fake.gitAt(OWNER, REPO, "rev-parse", "main")).toBe(mergeCommit);
    expect(fake.gitAt(OWNER, REPO, "log", "-1", "--format=%P %s", "main")).toEndWith(`${head} Merge pull request #1 from octo/feature/login`);

    const { data } = await gh.rest.pulls.get({ ...REF, pull_number: 1 });
    expect(data).toMatchObject({ state: "closed", draft: false, merged: true, merge_commit_sha: mergeCommit, mergeable: null, merged_by: { login: OWNER } });
    expect(data.merged_at).toBe(data.closed_at);

    await fake.openPullRequest(OWNER, REPO, { head: "fix/typo", base: "main", title: "Typo" });
    await fake.close(OWNER, REPO, 2);
    expect((await gh.rest.pulls.get({ ...REF, pull_number: 2 })).data).toMatchObject({ state: "closed", merged: false, merged_at: null });
  });

  test("ETags: a caller sends If-None-Match, gets a 304 (a RequestError in Octokit) until the answer changes", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    const get = (etag?: string) => gh.rest.pulls.get({ ...REF, pull_number: 1, headers: etag ? { "if-none-match": etag } : {} });

    const first = await get();
    expect(first.headers.etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
    // The body changed in between: mergeable went from null to true.
    const second = await get(first.headers.etag);
    expect(second.status).toBe(200);
    expect(second.data.mergeable).toBe(true);
    const etag = second.headers.etag!;
    expect(etag).not.toBe(first.headers.etag);

    const notModified = await requestFailure(get(etag));
    expect(notModified.status).toBe(304);
    expect(notModified.response?.headers.etag).toBe(etag);
    // A 304 costs nothing against the rate limit.
    expect(notModified.response?.headers["x-ratelimit-used"]).toBe(second.headers["x-ratelimit-used"]);
    expect(fake.requests.at(-1)).toMatchObject({ path: "/api/v3/repos/octo/widgets/pulls/1", status: 304, notModified: true, authorization: true });

    await fake.requestReviewers(OWNER, REPO, 1, ["alice"]);
    const changed = await get(etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(fake.requests.filter((request) => request.notModified)).toHaveLength(1);
  });

  test("every API answer carries GitHub's rate-limit headers", async () => {
    const { headers } = await gh.rest.repos.get(REF);
    expect(headers["x-ratelimit-limit"]).toBe("5000");
    expect(Number(headers["x-ratelimit-remaining"]) + Number(headers["x-ratelimit-used"])).toBe(5000);
    expect(headers["x-ratelimit-resource"]).toBe("core");
    expect(Number(headers["x-ratelimit-reset"])).toBeGreaterThan(Date.now() / 1000);
  });

  test("no token or a wrong one is refused with 401, and the token is never recorded", async () => {
    const anonymous = await requestFailure(new Octokit({ baseUrl: fake.apiUrl, throttle: { enabled: false } }).rest.repos.get(REF));
    expect(anonymous.status).toBe(401);
    expect(anonymous.response?.data).toMatchObject({ message: "Requires authentication", documentation_url: expect.any(String) });

    const wrong = await requestFailure(octokit(fake, { auth: "ghp_wrong" }).rest.pulls.list(REF));
    expect(wrong.status).toBe(401);
    expect(wrong.message).toStartWith("Bad credentials");

    // Both header forms GitHub accepts.
    for (const scheme of ["token", "Bearer"]) {
      const res = await fetch(`${fake.apiUrl}/repos/octo/widgets`, { headers: { authorization: `${scheme} ${TOKEN}` } });
      expect(res.status).toBe(200);
    }
    expect(fake.requests.slice(0, 2).map((r) => [r.status, r.authorization])).toEqual([
      [401, false],
      [401, true],
    ]);
    expect(JSON.stringify(fake.requests)).not.toContain(TOKEN);
  });

  describe("rate limits, as Octokit's throttling plugin sees them", () => {
    const seen: Array<{ kind: string; retryAfter: number }> = [];
    let throttled: Octokit;
    beforeEach(() => {
      seen.length = 0;
      throttled = octokit(fake, {
        throttle: {
          // The plugin waits retryAfter × this many ms; 1000 in production, 10 here to keep the test fast.
          retryAfterBaseValue: 10,
          onSecondaryRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
            seen.push({ kind: "secondary", retryAfter });
            return retryCount === 0;
          },
          onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
            seen.push({ kind: "primary", retryAfter });
            return retryCount === 0;
          },
        },
      });
    });

    test("a secondary limit is recognised, waited out for retry-after and retried", async () => {
      fake.rateLimitNext(1, { retryAfterSeconds: 3 });
      const { data } = await throttled.rest.pulls.list(REF);
      expect(data).toEqual([]);
      expect(seen).toEqual([{ kind: "secondary", retryAfter: 3 }]);
      expect(fake.requests.map((r) => r.status)).toEqual([403, 200]);
    });

    test("a primary limit is recognised by its exhausted quota and retried after the reset", async () => {
      fake.rateLimitNext(1, { kind: "primary", retryAfterSeconds: 1 });
      await throttled.rest.repos.get(REF);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.kind).toBe("primary");
      expect(seen[0]!.retryAfter).toBeGreaterThanOrEqual(1);
      expect(fake.requests.map((r) => r.status)).toEqual([403, 200]);
    });

    test("when the handler gives up, the caller gets GitHub's 403 and message", async () => {
      fake.rateLimitNext(2, { retryAfterSeconds: 1 });
      const error = await requestFailure(throttled.rest.repos.get(REF));
      expect(error.status).toBe(403);
      expect(error.response?.headers["retry-after"]).toBe("1");
      expect(error.message).toStartWith("You have exceeded a secondary rate limit.");
      expect(seen).toHaveLength(2);
    });
  });

  describe("git over HTTP", () => {
    let work: string;
    beforeEach(() => {
      work = mkdtempSync(join(tmpdir(), "fake-github-client-"));
    });
    afterEach(() => {
      rmSync(work, { recursive: true, force: true });
    });

    test("clone needs no credentials; push asks the credential helper and moves the PR's head", async () => {
      const cloneUrl = `${fake.url}/octo/widgets.git`;
      const clone = await git(work, ["clone", "--quiet", cloneUrl, "widgets"]);
      expect(clone.stderr).toBe("");
      expect(clone.ok).toBe(true);
      const dir = join(work, "widgets");
      expect((await git(dir, ["branch", "-r"])).stdout).toContain("origin/feature/login");
      expect(fake.requests.every((r) => !r.authorization)).toBe(true);

      await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
      const head = fake.gitAt(OWNER, REPO, "rev-parse", "feature/login");
      await git(dir, ["checkout", "--quiet", "feature/login"]);
      await git(dir, ["commit", "--quiet", "--allow-empty", "-m", "More login work"]);
      const pushed = await git(dir, [...HELPER, "push", "--quiet", "origin", "feature/login"], { FAKE_GITHUB_TOKEN: TOKEN });
      expect(pushed.stderr).toBe("");
      expect(pushed.ok).toBe(true);

      const newHead = (await git(dir, ["rev-parse", "HEAD"])).stdout;
      expect(fake.gitAt(OWNER, REPO, "rev-parse", "feature/login")).toBe(newHead);
      // The token reached the server only through the helper, after GitHub's challenge.
      expect((await git(dir, ["remote", "get-url", "origin"])).stdout).toBe(cloneUrl);
      const receive = fake.requests.filter((r) => r.query.service === "git-receive-pack" || r.path.endsWith("/git-receive-pack"));
      expect(receive.map((r) => [r.method, r.status, r.authorization])).toEqual([
        ["GET", 401, false],
        ["GET", 200, true],
        ["POST", 200, true],
      ]);

      const { data } = await gh.rest.pulls.get({ ...REF, pull_number: 1 });
      expect(data.head.sha).toBe(newHead);
      expect(data.commits).toBe(2);
      expect(data.mergeable).toBeNull();
      expect(await fake.payloads.pullRequest(OWNER, REPO, 1, "synchronize")).toMatchObject({ before: head, after: newHead });
    });

    test("a push bigger than git's post buffer arrives whole, though sent chunked without a length", async () => {
      await git(work, ["clone", "--quiet", `${fake.url}/octo/widgets.git`, "widgets"]);
      const dir = join(work, "widgets");
      await Bun.write(join(dir, "noise.bin"), crypto.getRandomValues(new Uint8Array(64 * 1024)));
      await git(dir, ["add", "noise.bin"]);
      await git(dir, ["commit", "--quiet", "-m", "Add noise"]);
      const pushed = await git(dir, [...HELPER, "-c", "http.postBuffer=4096", "push", "--quiet", "origin", "main"], { FAKE_GITHUB_TOKEN: TOKEN });
      expect(pushed.ok).toBe(true);
      expect(fake.gitAt(OWNER, REPO, "rev-parse", "main")).toBe((await git(dir, ["rev-parse", "HEAD"])).stdout);
      expect(fake.gitAt(OWNER, REPO, "cat-file", "-s", "main:noise.bin")).toBe(String(64 * 1024));
    });

    test("push without a credential is refused and changes nothing", async () => {
      const before = fake.gitAt(OWNER, REPO, "rev-parse", "main");
      await git(work, ["clone", "--quiet", `${fake.url}/octo/widgets.git`, "widgets"]);
      const dir = join(work, "widgets");
      await git(dir, ["commit", "--quiet", "--allow-empty", "-m", "Sneaky"]);
      const pushed = await git(dir, ["push", "--quiet", "origin", "main"]);
      expect(pushed.ok).toBe(false);
      expect(pushed.stderr).toContain("could not read Username");

      const wrong = await git(dir, [...HELPER, "push", "--quiet", "origin", "main"], { FAKE_GITHUB_TOKEN: "ghp_wrong" });
      expect(wrong.ok).toBe(false);
      expect(wrong.stderr).toContain("Authentication failed");
      expect(fake.gitAt(OWNER, REPO, "rev-parse", "main")).toBe(before);
    });

    test("a private repository needs the credential for fetching too", async () => {
      await fake.createRepo(OWNER, "secret", { from: remote.path, private: true });
      const url = `${fake.url}/octo/secret.git`;
      expect((await git(work, ["ls-remote", url])).ok).toBe(false);
      expect((await git(work, [...HELPER, "ls-remote", url, "main"], { FAKE_GITHUB_TOKEN: TOKEN })).stdout).toEndWith("refs/heads/main");
    });

    test("a closed pull request keeps its head when the branch moves on; deleting its branch closes an open one", async () => {
      await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
      const head = fake.gitAt(OWNER, REPO, "rev-parse", "feature/login");
      await fake.close(OWNER, REPO, 1);
      fake.gitAt(OWNER, REPO, "update-ref", "refs/heads/feature/login", fake.gitAt(OWNER, REPO, "rev-parse", "fix/typo"));
      expect((await gh.rest.pulls.get({ ...REF, pull_number: 1 })).data.head.sha).toBe(head);

      await fake.openPullRequest(OWNER, REPO, { head: "fix/typo", base: "main", title: "Typo" });
      fake.gitAt(OWNER, REPO, "branch", "--delete", "--force", "fix/typo");
      expect((await gh.rest.pulls.get({ ...REF, pull_number: 2 })).data).toMatchObject({ state: "closed", merged: false });
    });
  });

  test("webhooks: the signature @octokit/webhooks verifies, and payloads in GitHub's shapes", async () => {
    const body = JSON.stringify({ zen: "Keep it logically awesome." });
    const signature = signWebhook("s3cret", body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(await verify("s3cret", body, signature)).toBe(true);
    expect(await verify("other", body, signature)).toBe(false);

    const number = await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    const sha = fake.gitAt(OWNER, REPO, "rev-parse", "feature/login");
    const pr = await fake.payloads.pullRequest(OWNER, REPO, number, "opened");
    expect(pr).toMatchObject({
      action: "opened",
      number,
      pull_request: { number, state: "open", head: { ref: "feature/login", sha }, html_url: `${fake.url}/octo/widgets/pull/1` },
      repository: { full_name: "octo/widgets", owner: { login: OWNER } },
      sender: { login: OWNER },
    });

    const run = await fake.setCheckRun(OWNER, REPO, sha, { name: "build", status: "completed", conclusion: "failure" });
    expect(await fake.payloads.checkRun(OWNER, REPO, run, "completed")).toMatchObject({
      action: "completed",
      check_run: { id: run, head_sha: sha, conclusion: "failure", check_suite: { head_sha: sha, conclusion: "failure" }, pull_requests: [{ number }] },
      repository: { full_name: "octo/widgets" },
      sender: { login: "github-actions[bot]", type: "Bot" },
    });
    expect(await fake.payloads.checkSuite(OWNER, REPO, sha)).toMatchObject({
      action: "completed",
      check_suite: { head_sha: sha, head_branch: "feature/login", status: "completed", conclusion: "failure", head_commit: { id: sha, message: "Start the login feature" } },
    });

    const status = await fake.setStatus(OWNER, REPO, sha, { context: "ci/lint", state: "success" });
    expect(await fake.payloads.status(OWNER, REPO, status)).toMatchObject({
      id: status,
      sha,
      name: "octo/widgets",
      context: "ci/lint",
      state: "success",
      branches: [{ name: "feature/login" }],
      commit: { sha, commit: { message: "Start the login feature" } },
    });

    const review = await fake.addReview(OWNER, REPO, number, { login: "alice", state: "APPROVED" });
    // GitHub writes the review state in lower case in webhooks.
    expect(await fake.payloads.pullRequestReview(OWNER, REPO, number, review, "submitted")).toMatchObject({
      action: "submitted",
      review: { id: review, state: "approved", user: { login: "alice" }, commit_id: sha },
      pull_request: { number },
      sender: { login: "alice" },
    });
  });
});
