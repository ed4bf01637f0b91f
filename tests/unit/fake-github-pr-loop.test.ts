import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Octokit } from "octokit";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github.ts";
import { requestFailure } from "../support/request-failure.ts";
import { makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";

// What an unattended run reads and does on GitHub, as the real Octokit sees the fake answer it:
// failing checks' output and their jobs' logs, reviews' line comments, merging, closing, commenting.

const TOKEN = "ghp_fakeGitHubTestToken0123456789";
const OWNER = "octo";
const REPO = "widgets";
const REF = { owner: OWNER, repo: REPO };

describe("fake GitHub: the pull request loop", () => {
  let remote: RemoteRepo;
  let fake: FakeGitHub;
  let gh: Octokit;

  beforeAll(() => {
    // main; feature/login (adds login.txt); two branches that each rewrite README.md their own way.
    remote = makeRemoteRepo(REPO);
    for (const [branch, text] of [["readme/ours", "ours"], ["readme/theirs", "theirs"]] as const) {
      remote.git("checkout", "--quiet", "-b", branch, "main");
      remote.git("commit", "--quiet", "--allow-empty", "-m", `Prepare ${text}`);
      Bun.spawnSync(["bash", "-c", `printf '# widgets\\n\\n${text}\\n' > README.md`], { cwd: remote.git("rev-parse", "--show-toplevel") });
      remote.git("commit", "--quiet", "-am", `README: ${text}`);
      remote.git("push", "--quiet", "origin", branch);
    }
    remote.git("checkout", "--quiet", "main");
  });
  beforeEach(async () => {
    fake = await startFakeGitHub({ token: TOKEN });
    await fake.createRepo(OWNER, REPO, { from: remote.path });
    // No retries: Octokit's retry plugin tries a 405 or 409 again, which only slows the refusals down here.
    gh = new Octokit({ baseUrl: fake.apiUrl, auth: TOKEN, throttle: { enabled: false }, retry: { enabled: false } });
  }, 60_000);
  afterEach(async () => {
    await fake.stop();
  }, 60_000);

  test("a check run's output, and its job's log behind a signed redirect that needs no token", async () => {
    const sha = fake.gitAt(OWNER, REPO, "rev-parse", "feature/login");
    const id = await fake.setCheckRun(OWNER, REPO, sha, {
      name: "test",
      status: "completed",
      conclusion: "failure",
      output: { title: "1 test failed", summary: "login.test.ts: expected 200, got 500", text: "Details here." },
      log: "##[group]Run bun test\nbun test v1.4.5\nerror: expected 200, got 500\n##[error]Process completed with exit code 1.",
    });
    const { data } = await gh.rest.checks.listForRef({ ...REF, ref: sha });
    expect(data.check_runs[0]!.output).toMatchObject({ title: "1 test failed", summary: "login.test.ts: expected 200, got 500", text: "Details here." });

    // Followed, as Octokit does by default: the text, each line stamped as GitHub stores it.
    const followed = await gh.rest.actions.downloadJobLogsForWorkflowRun({ ...REF, job_id: id });
    const lines = String(followed.data).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z error: expected 200, got 500$/);

    // Not followed: GitHub's 302 and the one-minute address, which answers without a token.
    const redirect = await gh.request("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", { ...REF, job_id: id, request: { redirect: "manual" } });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.location!);
    expect(location.origin).toBe(fake.url);
    expect(location.searchParams.get("sig")).toBeTruthy();
    const blob = await fetch(location);
    expect(blob.headers.get("content-type")).toStartWith("text/plain");
    expect(await blob.text()).toContain("##[error]Process completed with exit code 1.");
    expect(fake.requests.at(-1)).toMatchObject({ path: location.pathname, status: 200, authorization: false });

    location.searchParams.set("sig", "forged");
    expect((await fetch(location)).status).toBe(403);
    const noLog = await fake.setCheckRun(OWNER, REPO, sha, { name: "lint", status: "completed", conclusion: "success" });
    expect((await requestFailure(gh.rest.actions.downloadJobLogsForWorkflowRun({ ...REF, job_id: noLog }))).status).toBe(404);
  });

  test("review line comments: path, line and body, with their review's id and the diff above them", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    const review = await fake.addReview(OWNER, REPO, 1, {
      login: "alice",
      state: "CHANGES_REQUESTED",
      body: "A few things.",
      comments: [{ path: "login.txt", line: 1, body: "Say what is in progress." }],
    });
    const { data } = await gh.rest.pulls.listReviewComments({ ...REF, pull_number: 1 });
    expect(data).toEqual([
      expect.objectContaining({
        pull_request_review_id: review,
        path: "login.txt",
        line: 1,
        side: "RIGHT",
        body: "Say what is in progress.",
        user: expect.objectContaining({ login: "alice" }),
        commit_id: fake.gitAt(OWNER, REPO, "rev-parse", "feature/login"),
        diff_hunk: "@@ -0,0 +1 @@\n+login work in progress",
      }),
    ]);
    expect((await gh.rest.pulls.get({ ...REF, pull_number: 1 })).data.review_comments).toBe(1);
    // GitHub refuses a comment on a line the pull request does not change.
    await expect(fake.addReview(OWNER, REPO, 1, { login: "bob", state: "COMMENTED", comments: [{ path: "README.md", line: 1, body: "?" }] })).rejects.toThrow(
      "not part of the diff",
    );
    expect((await gh.rest.pulls.listReviews({ ...REF, pull_number: 1 })).data).toHaveLength(1);
  });

  test("merging through the API: squash by default here, GitHub's 409 for a moved head and 405 for conflicts or a closed PR", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    const baseBefore = fake.gitAt(OWNER, REPO, "rev-parse", "main");
    const stale = await requestFailure(gh.rest.pulls.merge({ ...REF, pull_number: 1, merge_method: "squash", sha: baseBefore }));
    expect(stale.status).toBe(409);
    expect(stale.message).toContain("Head branch was modified");

    const sha = fake.gitAt(OWNER, REPO, "rev-parse", "feature/login");
    const merged = await gh.rest.pulls.merge({ ...REF, pull_number: 1, merge_method: "squash", sha });
    expect(merged.data).toEqual({ sha: fake.gitAt(OWNER, REPO, "rev-parse", "main"), merged: true, message: "Pull Request successfully merged" });
    // One commit, on the old base alone, with the pull request's title and number.
    expect(fake.gitAt(OWNER, REPO, "log", "-1", "--format=%P|%s|%an", "main")).toBe(`${baseBefore}|Log in (#1)|${OWNER}`);
    expect(fake.gitAt(OWNER, REPO, "show", "main:login.txt")).toBe("login work in progress");
    expect((await gh.rest.pulls.get({ ...REF, pull_number: 1 })).data).toMatchObject({ state: "closed", merged: true, merge_commit_sha: merged.data.sha });
    expect((await requestFailure(gh.rest.pulls.merge({ ...REF, pull_number: 1 }))).status).toBe(405);

    // Two pull requests that rewrite the same line: once one is in, the other conflicts.
    await fake.openPullRequest(OWNER, REPO, { head: "readme/ours", base: "main", title: "Ours" });
    await fake.openPullRequest(OWNER, REPO, { head: "readme/theirs", base: "main", title: "Theirs" });
    await gh.rest.pulls.merge({ ...REF, pull_number: 3, merge_method: "merge" });
    expect(fake.gitAt(OWNER, REPO, "log", "-1", "--format=%s", "main")).toBe("Merge pull request #3 from octo/readme/theirs");
    await gh.rest.pulls.get({ ...REF, pull_number: 2 });
    expect((await gh.rest.pulls.get({ ...REF, pull_number: 2 })).data).toMatchObject({ mergeable: false, mergeable_state: "dirty" });
    const conflict = await requestFailure(gh.rest.pulls.merge({ ...REF, pull_number: 2, merge_method: "squash" }));
    expect(conflict.status).toBe(405);
    expect(conflict.message).toContain("Pull Request is not mergeable");
  });

  test("rebase and merge replays the commits onto the base with their authors", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "readme/ours", base: "main", title: "Ours" });
    const base = fake.gitAt(OWNER, REPO, "rev-parse", "main");
    const { data } = await gh.rest.pulls.merge({ ...REF, pull_number: 1, merge_method: "rebase" });
    expect(fake.gitAt(OWNER, REPO, "log", "--format=%s|%an|%cn", `${base}..main`)).toBe("README: ours|Fixture|GitHub\nPrepare ours|Fixture|GitHub");
    expect(fake.gitAt(OWNER, REPO, "rev-parse", "main")).toBe(data.sha);
  });

  test("closing by PATCH, and comments on the pull request as an issue", async () => {
    await fake.openPullRequest(OWNER, REPO, { head: "feature/login", base: "main", title: "Log in" });
    const comment = await gh.rest.issues.createComment({ ...REF, issue_number: 1, body: "Another attempt was picked." });
    expect(comment.status).toBe(201);
    expect(comment.data).toMatchObject({ body: "Another attempt was picked.", user: { login: "pier-bot" }, html_url: expect.stringContaining("/octo/widgets/pull/1#issuecomment-") });
    expect(comment.headers.location).toBe(comment.data.url);
    const closed = await gh.rest.pulls.update({ ...REF, pull_number: 1, state: "closed" });
    expect(closed.data).toMatchObject({ state: "closed", merged: false, comments: 1 });
    expect(await fake.issueComments(OWNER, REPO, 1)).toEqual([{ login: "pier-bot", body: "Another attempt was picked." }]);
    expect((await gh.rest.issues.listComments({ ...REF, issue_number: 1 })).data.map((c) => c.body)).toEqual(["Another attempt was picked."]);

    const empty = await requestFailure(gh.rest.issues.createComment({ ...REF, issue_number: 1, body: "" }));
    expect(empty.status).toBe(422);
    expect((await requestFailure(gh.rest.issues.createComment({ ...REF, issue_number: 99, body: "x" }))).status).toBe(404);
  });
});
