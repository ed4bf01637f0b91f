/**
 * GitHub's side of a run's PR loop, through Pier's own GitHub client (Octokit with its plugins)
 * against the fake GitHub: failing checks with their output and the end of their jobs' logs,
 * reviews asking for changes with their line comments, merging, closing and commenting.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GitHub } from "../../src/github/client.ts";
import { jobLogTail, LOG_TAIL_LINES } from "../../src/github/job-logs.ts";
import { changeRequests, failingChecks, reviewsRequestingChanges } from "../../src/github/pr-feedback.ts";
import { closePullRequest, commentOnIssue, mergePullRequest } from "../../src/github/pull-actions.ts";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";

const TOKEN = `ghp_${"l".repeat(36)}`;
const REPO = "octo/widgets";

describe("GitHub for a run's PR loop", () => {
  let fake: FakeGitHub;
  let github: GitHub;
  let head: string;

  beforeAll(async () => {
    fake = await startFakeGitHub({ token: TOKEN });
    await fake.createRepo("octo", "widgets", { from: makeRemoteRepo("widgets").path });
    github = new GitHub(fake.apiUrl);
    await fake.openPullRequest("octo", "widgets", { head: "feature/login", base: "main", title: "Log in" });
    head = fake.gitAt("octo", "widgets", "rev-parse", "feature/login");
  }, 60_000);
  afterAll(async () => {
    await fake.stop();
  }, 60_000);

  test("failing checks: output, the end of the Actions job's log without its time stamps, failing statuses; passing ones left out", async () => {
    const log = Array.from({ length: 3000 }, (_, i) => `\u001b[32mline ${i}\u001b[0m of a long build`).join("\n");
    await fake.setCheckRun("octo", "widgets", head, {
      name: "test",
      status: "completed",
      conclusion: "failure",
      output: { title: "1 failed", summary: "login.test.ts failed", text: "expected 200, got 500" },
      log: `${log}\nerror: login.test.ts: expected 200, got 500\n##[error]Process completed with exit code 1.\n`,
    });
    await fake.setCheckRun("octo", "widgets", head, { name: "lint", status: "completed", conclusion: "success", log: "all clean" });
    await fake.setStatus("octo", "widgets", head, { context: "ci/deploy-preview", state: "error", description: "Preview build broke", target_url: "https://ci.example/9" });

    const checks = await failingChecks(github, TOKEN, REPO, head);
    expect(checks.map((check) => check.name)).toEqual(["test", "ci/deploy-preview"]);
    const [test_, status] = checks;
    expect(test_).toMatchObject({ conclusion: "failure", title: "1 failed", summary: "login.test.ts failed", text: "expected 200, got 500" });
    const tail = test_!.logTail!.split("\n");
    expect(tail).toHaveLength(LOG_TAIL_LINES);
    expect(tail.at(-1)).toBe("##[error]Process completed with exit code 1.");
    expect(tail.at(-2)).toBe("error: login.test.ts: expected 200, got 500");
    expect(tail.at(-3)).toBe("line 2999 of a long build");
    expect(status).toMatchObject({ conclusion: "error", summary: "Preview build broke", url: "https://ci.example/9", logTail: null });

    // The log came from the signed address, which was sent no token.
    const blobs = fake.requests.filter((request) => request.path.startsWith("/actions-results/"));
    expect(blobs).toHaveLength(1);
    expect(blobs[0]).toMatchObject({ status: 200, authorization: false });
  });

  test("a job without a log (or not an Actions job) has no tail, and that is no error", async () => {
    const id = await fake.setCheckRun("octo", "widgets", head, { name: "queued-job", status: "completed", conclusion: "cancelled" });
    expect(await jobLogTail(github, TOKEN, REPO, id)).toBeNull();
    expect(await jobLogTail(github, TOKEN, REPO, 999_999)).toBeNull();
  });

  test("reviews asking for changes now, with their line comments; an approval after a request clears that reviewer", async () => {
    const alice = await fake.addReview("octo", "widgets", 1, {
      login: "alice",
      state: "CHANGES_REQUESTED",
      body: "Please explain.",
      comments: [{ path: "login.txt", line: 1, body: "What is in progress?" }],
    });
    await fake.addReview("octo", "widgets", 1, { login: "bob", state: "CHANGES_REQUESTED", body: "Nope." });
    await fake.addReview("octo", "widgets", 1, { login: "bob", state: "APPROVED" });
    await fake.addReview("octo", "widgets", 1, { login: "carol", state: "COMMENTED", comments: [{ path: "login.txt", line: 1, body: "Nice." }] });

    const asking = await reviewsRequestingChanges(github, TOKEN, REPO, 1);
    expect(asking.map((review) => review.id)).toEqual([alice]);
    expect(await changeRequests(github, TOKEN, REPO, 1, asking)).toEqual([
      {
        reviewId: alice,
        reviewer: "alice",
        body: "Please explain.",
        url: expect.stringContaining(`#pullrequestreview-${alice}`),
        comments: [{ path: "login.txt", line: 1, body: "What is in progress?", url: expect.stringContaining("#discussion_r") }],
      },
    ]);
  });

  test("merging: a moved head is refused at once with GitHub's sentence; the right head squash-merges", async () => {
    const started = Date.now();
    const refused = await mergePullRequest(github, TOKEN, REPO, 1, "squash", "0".repeat(40)).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain("Head branch was modified");
    // Not retried: Octokit's retry plugin would wait seconds before giving up on a 409.
    expect(Date.now() - started).toBeLessThan(2500);
    expect((await fake.pull("octo", "widgets", 1)).state).toBe("open");

    const merged = await mergePullRequest(github, TOKEN, REPO, 1, "squash", head);
    expect(merged.sha).toBe(fake.gitAt("octo", "widgets", "rev-parse", "main"));
    expect(fake.gitAt("octo", "widgets", "log", "-1", "--format=%s", "main")).toBe("Log in (#1)");
  }, 20_000);

  // Octokit's throttling spaces writes a second apart, as it does for Pier: these take seconds.
  test("closing with a comment, and commenting on a pull request", async () => {
    fake.gitAt("octo", "widgets", "update-ref", "refs/heads/other", fake.gitAt("octo", "widgets", "-c", "user.name=Tester", "-c", "user.email=t@example.com", "commit-tree", "-p", "main", "-m", "Other", "main^{tree}"));
    const number = await fake.openPullRequest("octo", "widgets", { head: "other", base: "main", title: "Other" });
    const comment = await commentOnIssue(github, TOKEN, REPO, number, "Pier opened this for a run.");
    expect(comment.url).toContain(`/octo/widgets/pull/${number}#issuecomment-${comment.id}`);
    await closePullRequest(github, TOKEN, REPO, number, "Another attempt was picked.");
    expect((await fake.pull("octo", "widgets", number)).state).toBe("closed");
    expect(await fake.issueComments("octo", "widgets", number)).toEqual([
      { login: "pier-bot", body: "Pier opened this for a run." },
      { login: "pier-bot", body: "Another attempt was picked." },
    ]);
  }, 20_000);
});
