import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;

beforeAll(async () => {
  pier = await startTestPier(await dockerTestEnv());
  cookie = await setUpAdmin(pier);
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("webapp").path}`, "webapp");
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
}, 60_000);

const signedIn = (viewport: { width: number; height: number }) => signedInPage(browser, pier.url, cookie, viewport, 30_000);

test("New Session → live provisioning → working layout → end with saved changes → resume", async () => {
  const { context, page } = await signedIn(DESKTOP);
  const problems = watchErrors(page, { consoleErrors: false });

  await page.goto(`${pier.url}/repos/${repoId}`);
  await page.getByRole("link", { name: "New session" }).click();
  await page.waitForURL(/\/sessions\/new\?repoId=/);
  const suggestions = await page.locator("#branch-options option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
  expect(suggestions).toEqual(["feature/login", "main"]);
  await page.screenshot({ path: join(ARTIFACTS, "new-session-desktop.png"), fullPage: true });

  await page.getByLabel("Existing branch").fill("no-such-branch");
  await page.getByRole("button", { name: "Start session" }).click();
  await page.locator("#main .field-error", { hasText: 'No branch "no-such-branch"' }).waitFor();

  await page.getByLabel("Existing branch").fill("");
  await page.getByLabel("Title").fill("Fix the login form");
  await page.getByRole("button", { name: "Start session" }).click();
  await page.waitForURL(/\/sessions\/[a-z2-7]{16}$/);
  const sessionUrl = page.url();
  const sessionId = sessionUrl.split("/").pop()!;

  // The page settles on the working layout once provisioning is done (it listens for the event).
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  await page.getByRole("heading", { name: "Chat" }).waitFor();
  expect(await page.locator(".session-title .pill").textContent()).toBe("Active");
  expect(await page.locator("#session-cost").textContent()).toBe("$0.00");
  await page.screenshot({ path: join(ARTIFACTS, "session-active-desktop.png") });

  // The panes collapse and the split can be moved from the keyboard.
  await page.locator("#pane-chat").getByRole("button", { name: "Hide" }).click();
  expect(await page.locator(".workspace").getAttribute("class")).toContain("without-chat");
  await page.locator("#pane-chat").getByRole("button", { name: "Show" }).click();
  const before = await page.locator("#pane-terminal").boundingBox();
  await page.locator(".split-handle").focus();
  await page.keyboard.press("ArrowRight");
  const after = await page.locator("#pane-terminal").boundingBox();
  expect(after!.width).toBeGreaterThan(before!.width);

  const session = pier.pier.sessions.get(sessionId);
  writeFileSync(join(session.worktreePath, "draft.txt"), "unsaved idea\n");

  await page.getByRole("link", { name: "End session" }).click();
  await page.getByRole("heading", { name: "End this session?" }).waitFor();
  expect(await page.locator("#main").textContent()).toContain("draft.txt");
  await page.screenshot({ path: join(ARTIFACTS, "end-session-desktop.png"), fullPage: true });
  await page.getByRole("button", { name: "Save changes and end" }).click();
  await page.getByRole("heading", { name: "Session ended" }).waitFor();
  expect(await page.locator("#main").textContent()).toContain("Uncommitted work was saved as commit");
  expect(existsSync(session.worktreePath)).toBe(false);

  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  expect(existsSync(join(session.worktreePath, "draft.txt"))).toBe(true);

  await page.goto(`${pier.url}/sessions`);
  expect(await page.getByRole("list", { name: "Sessions" }).textContent()).toContain("Fix the login form");
  await context.close();
  expect(problems).toEqual([]);
}, 180_000);

test("the session page works at 390×844: header, the panes as tabs, no sideways scrolling", async () => {
  const { context, page } = await signedIn(PHONE);
  const live = pier.pier.db.$client.query("SELECT id FROM sessions WHERE state = 'active' LIMIT 1").get() as { id: string };
  await page.goto(`${pier.url}/sessions/${live.id}`);
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  const overflow = await sidewaysOverflow(page);
  expect(overflow).toBeLessThanOrEqual(0);
  // The terminal first, the chat a tap away (and then the terminal out of the way).
  expect(await page.locator("#pane-terminal").isVisible()).toBe(true);
  expect(await page.locator("#pane-chat").isVisible()).toBe(false);
  await page.getByRole("tab", { name: "Chat" }).click();
  expect(await page.locator("#pane-chat").isVisible()).toBe(true);
  expect(await page.locator("#pane-terminal").isVisible()).toBe(false);
  await page.screenshot({ path: join(ARTIFACTS, "session-active-phone.png"), fullPage: true });
  await page.goto(`${pier.url}/sessions/new`);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "new-session-phone.png"), fullPage: true });
  await context.close();
}, 60_000);
