/**
 * A session's pull requests in the browser, against the suite's fake GitHub (Pier sees it as a
 * GitHub Enterprise host): one added by its link shows in the session's pane with its badges, at
 * desktop and phone sizes; CI turning failing on GitHub redraws it live (after a poll) and, once
 * the person allowed it, notifies them; the lists of sessions show it too; opening a pull request
 * shows GitHub's refusal beside the form and keeps what was typed. Sessions run on the local
 * runtime: nothing here needs a pod's isolation.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, showPane, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const TOKEN = `ghp_${"b".repeat(36)}`;
/** Every pull request and session due at once, as if an hour had passed. */
const HOUR = 3_600_000;

let github: FakeGitHub;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let session: SessionJson;
let number: number;
let headSha: string;

beforeAll(async () => {
  github = await startFakeGitHub({ token: TOKEN });
  await github.createRepo("octo", "widgets", { from: makeRemoteRepo("widgets").path });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", GITHUB_API_URL: github.apiUrl });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ githubToken: TOKEN }, { cookie }), method: "PUT" });
  const repoId = await addRepo(pier, cookie, `${github.url}/octo/widgets.git`, "widgets");
  session = await activeSession(pier, cookie, { repoId, title: "Log in with a form" });
  number = await github.openPullRequest("octo", "widgets", { head: "feature/login", base: "main", title: "Add the <login> form" });
  headSha = github.gitAt("octo", "widgets", "rev-parse", "feature/login");
  await github.setCheckRun("octo", "widgets", headSha, { name: "build", status: "completed", conclusion: "success" });
  await github.setCheckRun("octo", "widgets", headSha, { name: "lint", status: "in_progress" });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await github?.stop();
}, 60_000);

/** Stands in for the browser's notifications: permission is granted when asked, and each one shown is kept. */
function recordNotifications(page: Page) {
  return page.addInitScript(() => {
    const shown: string[] = [];
    class RecordingNotification extends EventTarget {
      static permission: NotificationPermission = "default";
      static async requestPermission(): Promise<NotificationPermission> {
        RecordingNotification.permission = "granted";
        return "granted";
      }
      constructor(title: string) {
        super();
        shown.push(title);
      }
      close() {}
    }
    Object.assign(window, { Notification: RecordingNotification, shownNotifications: shown });
  });
}

const prRow = (page: Page) => page.getByRole("list", { name: "Pull requests of this session" }).locator(`li[data-pr="${number}"]`);

test("a pull request added by its link shows with its badges, and CI turning failing redraws it live", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page, { consoleErrors: false });
  await recordNotifications(page);
  await page.goto(`${pier.url}/sessions/${session.id}`);

  // No pull requests yet: the pane is folded, and says how many it holds.
  const pane = page.locator("#pane-prs");
  expect(await pane.locator("[data-pane-count]").textContent()).toBe("0");
  await pane.getByRole("button", { name: "Show" }).click();

  // Another repository's link is refused with a sentence, and what was typed stays.
  const link = pane.getByRole("textbox", { name: "Add a pull request by its link" });
  await link.fill("https://example.com/other/place/pull/1");
  await pane.getByRole("button", { name: "Add", exact: true }).click();
  await pane.getByRole("alert").filter({ hasText: "not a pull request of octo/widgets" }).waitFor();
  expect(await link.inputValue()).toBe("https://example.com/other/place/pull/1");

  await link.fill(`${github.url}/octo/widgets/pull/${number}`);
  await pane.getByRole("button", { name: "Add", exact: true }).click();
  // First as a placeholder while GitHub is asked, then as GitHub describes it.
  const row = prRow(page);
  await row.locator(".pr-title", { hasText: "Add the <login> form" }).waitFor();
  expect(await row.locator(".pr-title").textContent()).toBe(`#${number} Add the <login> form`);
  expect(await row.locator(".pr-title").getAttribute("href")).toBe(`${github.url}/octo/widgets/pull/${number}`);
  expect(await row.locator('[data-kind="state"]').textContent()).toBe("Open");
  expect(await row.locator('[data-kind="ci"]').textContent()).toBe("CI pending");
  expect(await row.locator(".pr-counts").textContent()).toBe("1 passed, 1 pending");
  expect(await pane.locator("[data-pane-count]").textContent()).toBe("1");
  expect(await link.inputValue()).toBe("");

  // Notifications only once asked for, and only for news.
  await pane.getByRole("button", { name: "Notify me of CI and reviews" }).click();
  await pane.getByText("This browser will notify you").waitFor();

  // CI fails on GitHub; the next poll brings it to the open page, which is not reloaded.
  await page.evaluate(() => Object.assign(window, { stillThisPage: true }));
  await github.setCheckRun("octo", "widgets", headSha, {
    name: "lint",
    status: "completed",
    conclusion: "failure",
    html_url: `${github.url}/octo/widgets/runs/lint`,
  });
  await pier.pier.prs.poll(Date.now() + HOUR);
  await row.locator('[data-kind="ci"]', { hasText: "CI failing" }).waitFor();
  expect(await row.locator(".pr-counts").textContent()).toBe("1 failed, 1 passed");
  expect(await row.getByRole("link", { name: "First failing check" }).getAttribute("href")).toBe(`${github.url}/octo/widgets/runs/lint`);
  expect(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications)).toEqual([`CI is failing on #${number}.`]);

  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "prs-desktop.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 30_000);

test("at 390 px the pane is a tab beside the chat, counting its pull requests; changes requested arrive live; rate limits are told", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const problems = watchErrors(page, { consoleErrors: false });
  // GitHub limited the rate a moment ago: the pane says when checks resume.
  const until = Date.now() + 120_000;
  pier.pier.github.rateLimit = { until, message: "limited for the test" };
  await page.goto(`${pier.url}/sessions/${session.id}`);
  const tab = page.getByRole("tab", { name: /^PRs/ });
  expect(await tab.textContent()).toBe("PRs1");
  await showPane(page, "PRs");
  const pane = page.locator("#pane-prs");
  expect(await pane.isVisible()).toBe(true);
  expect(await page.locator("#pane-chat").isVisible()).toBe(false);
  const notice = pane.getByRole("status").filter({ hasText: "GitHub is limiting the rate" });
  expect(await notice.textContent()).toContain(`checks resume at ${new Date(until).toISOString().slice(11, 19)} UTC`);
  pier.pier.github.rateLimit = null;

  const row = prRow(page);
  expect(await row.locator('[data-kind="ci"]').textContent()).toBe("CI failing");

  await github.addReview("octo", "widgets", number, { login: "reviewer", state: "CHANGES_REQUESTED", body: "Not yet." });
  await pier.pier.prs.poll(Date.now() + HOUR);
  await row.locator('[data-kind="review"]', { hasText: "Changes requested" }).waitFor();

  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await row.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, "prs-phone.png") });

  // The lists of sessions show its number, state and CI.
  for (const path of ["/sessions", "/"]) {
    await page.goto(`${pier.url}${path}`);
    const chip = page.getByRole("list", { name: "Sessions" }).locator(`.pr-chip[data-pr="${number}"]`).first();
    expect((await chip.textContent())?.replace(/\s+/g, " ").trim()).toBe(`#${number} Open CI failing`);
  }
  await context.close();
  expect(problems).toEqual([]);
}, 30_000);

test("Open pull request: filled from the session, GitHub's refusal shown beside the form with the typing kept", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/sessions/${session.id}`);
  const pane = page.locator("#pane-prs");
  await pane.getByRole("button", { name: "Open pull request" }).click();
  const form = pane.getByRole("form", { name: "Open a pull request" });
  const title = form.getByLabel("Title");
  await page.waitForFunction(() => (document.getElementById("pr-body") as HTMLTextAreaElement | null)?.value.includes("Opened from Pier session"));
  expect(await title.inputValue()).toBe("Log in with a form");
  expect(await form.getByLabel("Into").inputValue()).toBe("main");

  // The session's branch has no commits of its own, which GitHub refuses to open a pull request for.
  await title.fill("My own title");
  await form.getByLabel("Open as a draft").check();
  await form.getByRole("button", { name: "Open pull request" }).click();
  const refusal = form.getByRole("alert");
  await refusal.filter({ hasText: "GitHub did not open the pull request" }).waitFor({ timeout: 20_000 });
  expect(await title.inputValue()).toBe("My own title");
  expect(await form.getByLabel("Open as a draft").isChecked()).toBe(true);
  await context.close();
}, 30_000);

test("a repository not on GitHub gets a pane that says what following pull requests needs", async () => {
  const localRepo = await addRepo(pier, cookie, `file://${makeRemoteRepo("local-only").path}`, "local-only");
  const elsewhere = await activeSession(pier, cookie, { repoId: localRepo });
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/sessions/${elsewhere.id}`);
  const pane = page.locator("#pane-prs");
  await pane.getByRole("button", { name: "Show" }).click();
  expect(await pane.textContent()).toContain("Pull requests are followed for repositories on GitHub");
  expect(await pane.getByRole("link", { name: "its settings" }).getAttribute("href")).toBe(`/repos/${localRepo}`);
  expect(await pane.getByRole("link", { name: "your own" }).getAttribute("href")).toBe("/tokens#credentials");
  expect(await pane.getByRole("list", { name: "Pull requests of this session" }).count()).toBe(0);
  await context.close();
}, 30_000);
