/**
 * Fault: a session's worktree deleted by hand while its page is open (real Chromium, the local
 * runtime). What must hold: the open page says so by itself, without a reload, offers to restore
 * it from the branch, and says once restored what came back and that uncommitted work is gone.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, launchBrowser, signedInPage } from "../support/browser.ts";
import { gitAt, makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

const dataDir = mkdtempSync(join(tmpdir(), "pier-fault-worktree-page-"));
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;

beforeAll(async () => {
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1" }, dataDir);
  cookie = await setUpAdmin(pier);
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("deleted-page").path}`, "deleted-page");
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await closeForGood(pier);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

test("broke: the worktree under an open session page; held: the page says so by itself, restores it from the branch, and says what was lost", async () => {
  const session = await activeSession(pier, cookie, { repoId });
  // The local runtime's worktree is this machine's own directory (no pod between), so the test may touch it.
  await Bun.write(join(session.worktreePath, "kept.txt"), "kept\n");
  gitAt(session.worktreePath, "add", "kept.txt");
  gitAt(session.worktreePath, "commit", "-qm", "Keep this");
  await Bun.write(join(session.worktreePath, "draft.txt"), "never committed\n");

  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP, 30_000);
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  const alert = page.locator("[data-worktree-gone]");
  expect(await alert.isHidden()).toBe(true);

  rmSync(session.worktreePath, { recursive: true, force: true });
  // Nobody reloads or clicks: the page finds out on its own.
  await alert.waitFor({ state: "visible", timeout: 30_000 });
  expect(await alert.textContent()).toContain("never committed");
  await page.screenshot({ path: join(ARTIFACTS, "worktree-gone-desktop.png") });
  await page.getByRole("button", { name: "Restore from the branch" }).click();

  const restored = page.locator("[data-worktree-restored]");
  await restored.waitFor({ state: "visible" });
  expect(await restored.textContent()).toMatch(/back on .* at [0-9a-f]{10} \(Keep this\).*never committed.*gone/);
  expect(await alert.isHidden()).toBe(true);
  await page.screenshot({ path: join(ARTIFACTS, "worktree-restored-desktop.png") });
  expect(readFileSync(join(session.worktreePath, "kept.txt"), "utf8")).toBe("kept\n");
  expect(existsSync(join(session.worktreePath, "draft.txt"))).toBe(false);
  expect(problems).toEqual([]);
  await context.close();
}, 90_000);
