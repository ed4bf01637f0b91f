/**
 * A live session on a phone (390×844) in Chromium: the navigation is one line with a menu that
 * opens and leads to the pages, the session header takes at most two lines, and the terminal
 * starts within the first screen. Notices: one dismissed stays dismissed after a reload and on
 * another device of the same person, not for someone else; the notice about pods that cannot reach
 * Pier's model gateway shows on a Claude Code session and not on one of Pier's own agent. Wide
 * screens keep the plain navigation and header; without JavaScript the menu, the details and Dismiss
 * still work. Pods have no network, so every notice applies.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const GATEWAY_NOTICE = "Pods cannot reach Pier here";
const MCP_NOTICE = "cannot reach Pier's MCP endpoint";

let pier: TestPier;
let browser: Browser;
let cookie: string;
let otherAdmin: string;
let repoId: string;
/** Pier's own agent, linked to a task. */
let agentSession: SessionJson;
/** Claude Code as the chat engine. */
let claudeCodeSession: SessionJson;

beforeAll(async () => {
  pier = await startTestPier(await dockerTestEnv());
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/users", json({ username: "ben", password: "ben password", role: "admin" }, { cookie }));
  otherAdmin = await signIn(pier, "ben", "ben password");
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("phone").path}`, "phone");
  const task = (await (await pier.fetch("/api/tasks", json({ title: "Make the login form work on phones" }, { cookie }))).json()) as { id: string };
  agentSession = await activeSession(pier, cookie, { repoId, title: "Fix the login form on small screens", taskId: task.id, engine: "pier" });
  claudeCodeSession = await activeSession(pier, cookie, { repoId, title: "Try Claude Code", engine: "claude-code" });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
}, 60_000);

const open = async (who: string, viewport: { width: number; height: number }, session: SessionJson) => {
  const opened = await signedInPage(browser, pier.url, who, viewport, 30_000);
  await opened.page.goto(`${pier.url}/sessions/${session.id}`);
  await opened.page.getByRole("heading", { name: "Terminal" }).waitFor();
  return opened;
};

/**
 * How many lines of text the visible parts of `selector` take: the boxes of their text grouped by
 * overlapping heights, as the eye reads lines (a button beside a title is one line, not two). What
 * a closed <details> holds keeps its boxes but is not shown, which checkVisibility knows.
 */
const linesOf = (page: Page, selector: string, parts: string) =>
  page.locator(selector).evaluate((root, parts) => {
    // A range's boxes are one per line its text takes, so a title that wraps counts twice.
    const boxes = [...root.querySelectorAll(parts)]
      .filter((element) => element.checkVisibility())
      .flatMap((element) => {
        const range = document.createRange();
        range.selectNodeContents(element);
        return [...range.getClientRects()];
      })
      .filter((box) => box.width > 0 && box.height > 0)
      .sort((a, b) => a.top - b.top);
    const lines: Array<{ top: number; bottom: number }> = [];
    for (const box of boxes) {
      const line = lines.find((l) => box.top < l.bottom && box.bottom > l.top);
      if (line) line.bottom = Math.max(line.bottom, box.bottom);
      else lines.push({ top: box.top, bottom: box.bottom });
    }
    return lines.length;
  }, parts);

const HEADER_PARTS = "h1, .pill, summary, .session-facts > div, .session-actions > *";
const PAGES = ["Dashboard", "Sessions", "Tasks", "Skills", "Costs", "Repositories", "Tokens", "Users", "Audit", "Settings"];

test("at 390×844: the navigation is one line with a menu, the header at most two, the terminal in the first screen", async () => {
  const { context, page } = await open(cookie, PHONE, agentSession);
  const problems = watchErrors(page, { consoleErrors: false });
  await page.screenshot({ path: join(ARTIFACTS, "phone-session.png") });

  expect(await linesOf(page, ".topbar", ".brand, summary, .nav a, .nav-logout")).toBe(1);
  for (const name of PAGES) expect(await page.getByRole("link", { name, exact: true }).isVisible()).toBe(false);
  const menu = page.locator(".topbar summary", { hasText: "Menu" });
  await menu.click();
  for (const name of PAGES) expect(await page.getByRole("link", { name, exact: true }).isVisible()).toBe(true);
  expect(await page.getByRole("button", { name: /Sign out/ }).isVisible()).toBe(true);
  await page.screenshot({ path: join(ARTIFACTS, "phone-menu.png") });
  // Escape folds it again.
  await page.keyboard.press("Escape");
  expect(await page.getByRole("link", { name: "Tasks", exact: true }).isVisible()).toBe(false);

  expect(await linesOf(page, ".session-header", HEADER_PARTS)).toBeLessThanOrEqual(2);
  expect(await page.locator(".session-header h1").textContent()).toBe("Fix the login form on small screens");

  const terminal = (await page.locator("#pane-terminal").boundingBox())!;
  expect(terminal.y).toBeLessThan(PHONE.height);
  // A useful share: at least half the screen is terminal, with its notice above it.
  expect(await page.getByText(MCP_NOTICE).isVisible()).toBe(true);
  expect(PHONE.height - terminal.y).toBeGreaterThanOrEqual(PHONE.height / 2);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);

  // The header's details are a tap away: facts, the task, and the session's actions.
  await page.locator(".session-more > summary", { hasText: "Details" }).click();
  expect(await page.locator("#session-cost").isVisible()).toBe(true);
  expect(await page.getByRole("link", { name: "End session" }).isVisible()).toBe(true);
  expect(await page.getByRole("link", { name: "Make the login form work on phones" }).isVisible()).toBe(true);
  await page.screenshot({ path: join(ARTIFACTS, "phone-session-details.png") });

  // The menu leads to the pages, on every page.
  await menu.click();
  await page.getByRole("link", { name: "Tasks", exact: true }).click();
  await page.waitForURL(`${pier.url}/tasks`);
  expect(await linesOf(page, ".topbar", ".brand, summary, .nav a, .nav-logout")).toBe(1);
  await page.locator(".topbar summary", { hasText: "Menu" }).click();
  await page.getByRole("link", { name: "Costs", exact: true }).click();
  await page.waitForURL(`${pier.url}/costs`);
  await context.close();
  expect(problems).toEqual([]);
}, 120_000);

test("a dismissed notice stays dismissed after a reload and on another device, but not for someone else", async () => {
  const { context, page } = await open(cookie, PHONE, claudeCodeSession);
  const notice = page.locator(".notice", { hasText: GATEWAY_NOTICE });
  expect(await notice.isVisible()).toBe(true);
  // Dismissed in place: the page (and its terminal) stays as it is.
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await notice.getByRole("button", { name: "Dismiss" }).click();
  await notice.waitFor({ state: "detached" });
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await page.reload();
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  expect(await page.getByText(GATEWAY_NOTICE).count()).toBe(0);
  await context.close();

  // Another device: a sign-in of its own.
  const elsewhere = await open(await signIn(pier, ADMIN.username, ADMIN.password), DESKTOP, claudeCodeSession);
  expect(await elsewhere.page.getByText(GATEWAY_NOTICE).count()).toBe(0);
  await elsewhere.context.close();

  const someoneElse = await open(otherAdmin, PHONE, claudeCodeSession);
  expect(await someoneElse.page.getByText(GATEWAY_NOTICE).isVisible()).toBe(true);
  await someoneElse.context.close();
}, 120_000);

test("the notice about pods that cannot reach Pier's gateway shows on a Claude Code session, not on one of Pier's agent", async () => {
  const agent = await open(otherAdmin, PHONE, agentSession);
  expect(await agent.page.getByText(GATEWAY_NOTICE).count()).toBe(0);
  await agent.context.close();
  const claudeCode = await open(otherAdmin, PHONE, claudeCodeSession);
  expect(await claudeCode.page.getByText(GATEWAY_NOTICE).isVisible()).toBe(true);
  await claudeCode.context.close();
}, 60_000);

test("wide screens keep the plain navigation and the whole header", async () => {
  const { context, page } = await open(cookie, DESKTOP, agentSession);
  expect(await page.locator(".topbar summary").isVisible()).toBe(false);
  for (const name of PAGES) expect(await page.getByRole("link", { name, exact: true }).isVisible()).toBe(true);
  expect(await linesOf(page, ".topbar", ".brand, .nav a, .nav-logout")).toBe(1);
  expect(await page.locator(".session-more > summary").isVisible()).toBe(false);
  expect(await page.locator("#session-cost").isVisible()).toBe(true);
  expect(await page.getByRole("link", { name: "End session" }).isVisible()).toBe(true);
  await page.screenshot({ path: join(ARTIFACTS, "desktop-session.png") });
  await context.close();
}, 60_000);

test("without JavaScript the menu and the details still open, and Dismiss still dismisses", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, javaScriptEnabled: false });
  const [name, value] = otherAdmin.split("=") as [string, string];
  await context.addCookies([{ name, value, url: pier.url }]);
  const page = await context.newPage();
  await page.goto(`${pier.url}/sessions/${agentSession.id}`);
  const menu = page.locator(".topbar summary", { hasText: "Menu" });
  await menu.click();
  expect(await page.getByRole("link", { name: "Tasks", exact: true }).isVisible()).toBe(true);
  // Without the script that folds it when something else is touched, the menu folds by its own toggle.
  await menu.click();
  expect(await page.getByRole("link", { name: "Tasks", exact: true }).isVisible()).toBe(false);
  await page.locator(".session-more > summary", { hasText: "Details" }).click();
  expect(await page.getByRole("link", { name: "End session" }).isVisible()).toBe(true);
  const notice = page.locator(".notice", { hasText: MCP_NOTICE });
  await notice.getByRole("button", { name: "Dismiss" }).click();
  await page.waitForURL(`${pier.url}/sessions/${agentSession.id}`);
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  expect(await page.getByText(MCP_NOTICE).count()).toBe(0);
  await context.close();
}, 60_000);
