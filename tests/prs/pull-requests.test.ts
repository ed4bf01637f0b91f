/**
 * Pull requests of sessions, against the suite's fake GitHub (REST with real shapes, ETags, rate
 * limits, and a real git server) and real pods on the host network (so a pod can push to the
 * fake on 127.0.0.1). Found by branch, by links in the terminal and the chat, by webhook and by
 * hand; followed as CI and reviews change; opened from the session.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { type FakeGitHub, signWebhook, startFakeGitHub } from "../support/fake-github.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const TOKEN = `ghp_${"t".repeat(36)}`;
const API_KEY = "sk-ant-test-key-000000000000";
const WEBHOOK_SECRET = "webhook-secret-for-tests";
const HOUR = 3_600_000;

type Pr = {
  number: number;
  title: string;
  state: string;
  headBranch: string;
  headSha: string;
  ciStatus: string;
  checks: { passed: number; failed: number; pending: number };
  failingCheckUrl: string | null;
  reviewStatus: string;
};

describe("pull requests of sessions", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-prs-"));
  let github: FakeGitHub;
  let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let first: SessionJson;
  let firstPr: number;
  const logged: string[] = [];
  const originalConsole = { log: console.log, warn: console.warn, error: console.error };

  const prsOf = async (session: SessionJson): Promise<Pr[]> => (await pier.fetch(`/api/sessions/${session.id}/prs`, { headers: { cookie } })).json() as Promise<Pr[]>;
  const prOf = async (session: SessionJson, number: number) => (await prsOf(session)).find((pr) => pr.number === number)!;
  const inPod = (session: SessionJson, script: string) =>
    pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 60_000 });
  /** Makes every pull request and session due, and polls once, as the job would. */
  const poll = () => pier.pier.prs.poll(Date.now() + HOUR);
  const until = async <T,>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
      await Bun.sleep(100);
    }
  };
  const webhook = (event: string, payload: unknown, secret = WEBHOOK_SECRET) => {
    const body = JSON.stringify(payload);
    return pier.fetch("/api/github/webhook", {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": event, "x-hub-signature-256": signWebhook(secret, body) },
      body,
    });
  };

  beforeAll(async () => {
    // Everything Pier logs, to show the token is never in it.
    for (const level of ["log", "warn", "error"] as const) {
      console[level] = (...args: unknown[]) => {
        logged.push(args.map(String).join(" "));
        originalConsole[level](...args);
      };
    }
    github = await startFakeGitHub({ token: TOKEN });
    await github.createRepo("octo", "widgets", { from: makeRemoteRepo("widgets").path });
    anthropic = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host", GITHUB_API_URL: github.apiUrl, ANTHROPIC_BASE_URL: anthropic.url }, dataDir);
    cookie = await setUpAdmin(pier);
    const saved = await pier.fetch("/api/settings", { ...json({ githubToken: TOKEN, anthropicApiKey: API_KEY, githubWebhookSecret: WEBHOOK_SECRET }, { cookie }), method: "PUT" });
    expect(saved.status).toBe(200);
    repoId = await addRepo(pier, cookie, `${github.url}/octo/widgets.git`, "widgets");
    const repo = (await (await pier.fetch(`/api/repos/${repoId}`, { headers: { cookie } })).json()) as { githubRepo: string };
    expect(repo.githubRepo).toBe("octo/widgets");
  }, 300_000);

  afterAll(async () => {
    Object.assign(console, originalConsole);
    await closeForGood(pier);
    await github.stop();
    await anthropic.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("a pull request opened on GitHub for the session's branch is found within one poll", async () => {
    first = await activeSession(pier, cookie, { repoId });
    const pushed = await inPod(first, "echo feature > feature.txt && git add . && git commit -qm 'A feature' && git push -q origin HEAD 2>&1 && echo pushed");
    expect(pushed.stdout.trim()).toBe("pushed");
    firstPr = await github.openPullRequest("octo", "widgets", { head: first.branch, base: "main", title: "Opened on the web" });
    expect(await prsOf(first)).toEqual([]);
    await poll();
    expect(await prsOf(first)).toEqual([
      expect.objectContaining({ number: firstPr, title: "Opened on the web", state: "open", headBranch: first.branch, ciStatus: "none", reviewStatus: "none" }),
    ]);
  }, 120_000);

  test("links in the terminal (one cut in two writes) and in a chat tool result are recorded once each; another repo's are not", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    await inPod(session, "git commit -q --allow-empty -m one && git push -q origin HEAD:refs/heads/linked-one && git commit -q --allow-empty -m two && git push -q origin HEAD:refs/heads/linked-two");
    const one = await github.openPullRequest("octo", "widgets", { head: "linked-one", base: "main", title: "Printed in the terminal" });
    const two = await github.openPullRequest("octo", "widgets", { head: "linked-two", base: "main", title: "Said in the chat" });

    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    const link = `${github.url}/octo/widgets/pull/${one}`;
    const [head, tail] = [link.slice(0, 30), link.slice(30)];
    await term.run(`printf '%s' '${head}'; sleep 0.5; printf '%s\\n' '${tail}'; echo ${github.url}/octo/gadgets/pull/${one}; echo ${link}; echo done-$((2+3))`, /done-5/);
    term.close();
    await until("the terminal's link", () => prsOf(session), (prs) => prs.length === 1);

    const chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    anthropic.script({ toolUse: { name: "bash", input: { command: `echo 'Opened ${github.url}/octo/widgets/pull/${two}'` } } }, { text: `See ${github.url}/octo/widgets/pull/${two}.` });
    await chat.turn("Open it");
    chat.close();
    // Found at once, then filled in from GitHub.
    const prs = await until("the chat's link", () => prsOf(session), (found) => found.length === 2 && found.every((pr) => pr.headSha !== ""));
    expect(prs.map((pr) => [pr.number, pr.title]).sort()).toEqual([
      [one, "Printed in the terminal"],
      [two, "Said in the chat"],
    ]);
    const links = pier.pier.db.$client.query("SELECT number, found_by FROM session_pull_requests WHERE session_id = ? ORDER BY number").all(session.id);
    expect(links).toEqual([
      { number: one, found_by: "terminal" },
      { number: two, found_by: "chat" },
    ]);
  }, 120_000);

  test("CI and reviews are followed (pending, failing, passing; changes requested, approved), with events; unchanged answers are 304s; a merged PR is left alone", async () => {
    const events: Pr[] = [];
    const stop = pier.pier.bus.subscribe("pr.updated", first.id, (pr) => events.push(pr as Pr));
    const sha = (await prOf(first, firstPr)).headSha;
    await github.setCheckRun("octo", "widgets", sha, { name: "build", status: "in_progress" });
    await poll();
    expect(await prOf(first, firstPr)).toMatchObject({ ciStatus: "pending", checks: { passed: 0, failed: 0, pending: 1 } });

    await github.setCheckRun("octo", "widgets", sha, { name: "build", status: "completed", conclusion: "failure", html_url: `${github.url}/octo/widgets/runs/1` });
    await poll();
    expect(await prOf(first, firstPr)).toMatchObject({ ciStatus: "failing", failingCheckUrl: `${github.url}/octo/widgets/runs/1` });

    await github.setCheckRun("octo", "widgets", sha, { name: "build", status: "completed", conclusion: "success" });
    await github.setStatus("octo", "widgets", sha, { context: "lint", state: "success" });
    await poll();
    expect(await prOf(first, firstPr)).toMatchObject({ ciStatus: "passing", checks: { passed: 2, failed: 0, pending: 0 }, failingCheckUrl: null });

    await github.requestReviewers("octo", "widgets", firstPr, ["ana"]);
    await poll();
    expect((await prOf(first, firstPr)).reviewStatus).toBe("review_required");
    await github.addReview("octo", "widgets", firstPr, { login: "ana", state: "CHANGES_REQUESTED" });
    await poll();
    expect((await prOf(first, firstPr)).reviewStatus).toBe("changes_requested");
    await github.addReview("octo", "widgets", firstPr, { login: "ana", state: "APPROVED" });
    await poll();
    expect((await prOf(first, firstPr)).reviewStatus).toBe("approved");
    expect(events.map((pr) => [pr.ciStatus, pr.reviewStatus])).toEqual([
      ["pending", "none"],
      ["failing", "none"],
      ["passing", "none"],
      ["passing", "review_required"],
      ["passing", "changes_requested"],
      ["passing", "approved"],
    ]);

    // Nothing changes: each poll of this PR is four conditional requests, all answered 304.
    const about = (path: string) => path.includes(`/pulls/${firstPr}`) || path.includes(`/commits/${sha}/`);
    const from = github.requests.length;
    for (let i = 0; i < 3; i++) await poll();
    const unchanged = github.requests.slice(from).filter((r) => about(r.path));
    expect(unchanged).toHaveLength(12);
    expect(unchanged.every((r) => r.status === 304 && r.notModified)).toBe(true);
    originalConsole.log(`[prs] with nothing changing: ${unchanged.length / 3} requests per poll per PR, all 304; every 30 s that is ${(unchanged.length / 3) * 120} requests an hour, none counted against the rate limit`);
    expect(events).toHaveLength(6);

    await github.merge("octo", "widgets", firstPr);
    await poll();
    expect((await prOf(first, firstPr)).state).toBe("merged");
    const afterMerge = github.requests.length;
    await poll();
    expect(github.requests.slice(afterMerge).filter((r) => about(r.path))).toEqual([]);
    stop();
  }, 120_000);

  test("a rate-limit refusal is waited out and asked again, keeping what was known", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    await inPod(session, "git commit -q --allow-empty -m limited && git push -q origin HEAD");
    const number = await github.openPullRequest("octo", "widgets", { head: session.branch, base: "main", title: "Limited" });
    await poll();
    const before = await prOf(session, number);
    expect(before.title).toBe("Limited");
    await github.setCheckRun("octo", "widgets", before.headSha, { name: "build", status: "completed", conclusion: "failure" });
    github.rateLimitNext(1, { kind: "secondary", retryAfterSeconds: 1 });
    const refused = github.requests.length;
    const polling = poll();
    // While GitHub holds Pier back, the limit is known (pages show it); then the request is made again.
    await until("the limit to be noticed", async () => pier.pier.github.rateLimit, (limit) => limit !== null);
    expect(pier.pier.github.rateLimit!.message).toContain("secondary");
    await polling;
    expect(github.requests.slice(refused).filter((r) => r.status === 403)).toHaveLength(1);
    expect(pier.pier.github.rateLimit).toBeNull();
    expect(await prOf(session, number)).toMatchObject({ title: "Limited", ciStatus: "failing" });
  }, 120_000);

  test("a webhook with a bad signature changes nothing; a signed one updates at once and finds a new PR by its branch", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    await inPod(session, "git commit -q --allow-empty -m hooked && git push -q origin HEAD");
    const number = await github.openPullRequest("octo", "widgets", { head: session.branch, base: "main", title: "Announced by webhook" });
    const opened = await github.payloads.pullRequest("octo", "widgets", number, "opened");

    const forged = await webhook("pull_request", opened, "not-the-secret");
    expect(await apiError(forged)).toMatchObject({ status: 401, code: "bad_signature" });
    const unsigned = await pier.fetch("/api/github/webhook", { method: "POST", headers: { "content-type": "application/json", "x-github-event": "pull_request" }, body: JSON.stringify(opened) });
    expect(unsigned.status).toBe(401);
    expect(await prsOf(session)).toEqual([]);

    expect((await webhook("pull_request", opened)).status).toBe(204);
    expect(await prsOf(session)).toEqual([expect.objectContaining({ number, title: "Announced by webhook", state: "open" })]);

    // GitHub's payloads may be far bigger than other requests; this route takes them.
    const big = { ...(await github.payloads.pullRequest("octo", "widgets", number, "synchronize")), padding: "x".repeat(3 * 1024 * 1024) };
    expect((await webhook("pull_request", big)).status).toBe(204);

    await github.close("octo", "widgets", number);
    expect((await webhook("pull_request", await github.payloads.pullRequest("octo", "widgets", number, "closed"))).status).toBe(204);
    expect((await prOf(session, number)).state).toBe("closed");
  }, 120_000);

  test("a link added by hand must be a pull request of the session's repo", async () => {
    const bad = await pier.fetch(`/api/sessions/${first.id}/prs`, json({ url: `${github.url}/octo/gadgets/pull/1` }, { cookie }));
    expect(await apiError(bad)).toMatchObject({ status: 400, code: "invalid_url" });
    expect(await apiError(await pier.fetch(`/api/sessions/${first.id}/prs`, json({ url: "" }, { cookie })))).toMatchObject({ status: 400, code: "invalid_url" });
    const good = await pier.fetch(`/api/sessions/${first.id}/prs`, json({ url: `${github.url}/octo/widgets/pull/${firstPr}` }, { cookie }));
    expect(good.status).toBe(201);
    expect((await prsOf(first)).filter((pr) => pr.number === firstPr)).toHaveLength(1);
  }, 60_000);

  test("Open pull request pushes the session's branch and opens it on GitHub; the token is in no log, URL or file", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    await inPod(session, "echo opened > opened.txt && git add . && git commit -qm 'Work to open'");
    const draft = (await (await pier.fetch(`/api/sessions/${session.id}/pull-request`, { headers: { cookie } })).json()) as { title: string; body: string; base: string };
    expect(draft).toMatchObject({ title: expect.stringContaining("widgets"), base: "main" });
    expect(draft.body).toContain("- Work to open");

    const res = await pier.fetch(`/api/sessions/${session.id}/pull-request`, json({ title: "Opened by Pier", body: draft.body }, { cookie }));
    const pr = (await res.json()) as Pr;
    expect(res.status).toBe(201);
    expect(pr).toMatchObject({ title: "Opened by Pier", state: "open", headBranch: session.branch });
    const head = (await inPod(session, "git rev-parse HEAD")).stdout.trim();
    expect(github.gitAt("octo", "widgets", "rev-parse", `refs/heads/${session.branch}`)).toBe(head);
    expect(await prsOf(session)).toEqual([expect.objectContaining({ number: pr.number })]);

    const again = await apiError(await pier.fetch(`/api/sessions/${session.id}/pull-request`, json({}, { cookie })));
    expect(again).toMatchObject({ status: 422, code: "github_refused" });
    expect(again.message).toContain("A pull request already exists");

    expect(logged.filter((line) => line.includes(TOKEN))).toEqual([]);
    const config = await inPod(session, "git config --get remote.origin.url; grep -rl --exclude-dir=.git " + TOKEN + " . ~ /tmp 2>/dev/null | wc -l");
    expect(config.stdout.trim().split("\n")).toEqual([`${github.url}/octo/widgets.git`, "0"]);
    // On the server's side the token is only ever in the database, sealed.
    const plainFiles = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        if (path.endsWith(".git") || name === "workspaces") return [];
        return statSync(path).isDirectory() ? plainFiles(path) : statSync(path).isFile() ? [path] : [];
      });
    expect(plainFiles(dataDir).filter((file) => readFileSync(file).includes(TOKEN))).toEqual([]);
  }, 120_000);
});
