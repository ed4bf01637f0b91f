/**
 * Fault: Pier is stopped (SIGTERM) and started again while a person has a session's page open in
 * a real browser (Chromium).
 * Held: the page says "Pier is restarting…" on its terminal and its chat while Pier is away, and
 * both come back connected by themselves once Pier is back, without a reload.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { DESKTOP, launchBrowser, signedInPage } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { json, setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

const dataDir = mkdtempSync(join(tmpdir(), "pier-restart-page-"));
const env = { PIER_ALLOW_LOCAL_REPOS: "1" };
let port: number;
let pier: PierProcess;
let browser: Browser;

beforeAll(async () => {
  port = await freePort();
  pier = await startPierProcess(dataDir, port, env);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await stopForGood(pier);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

test("an open session page says Pier is restarting, then reconnects by itself", async () => {
  const cookie = await setUpAdmin(pier);
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("restart-page").path}`, "restart-page");
  const session = await activeSession(pier, cookie, { repoId });
  const { page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await page.waitForFunction(() => (window as any).pierTerminal?.state() === "connected" && (window as any).pierChat?.state().connection === "connected");
  // Gone if the page were loaded again.
  await page.evaluate(() => ((window as any).sameDocument = true));

  // Broken: Pier stops, as docker stop stops it.
  expect(await pier.signal("SIGTERM")).toBe(0);
  await page.waitForFunction(() => {
    const said = (selector: string) => document.querySelector(selector)?.textContent ?? "";
    return said(".term-state").startsWith("Pier is restarting…") && said(".chat-state").startsWith("Pier is restarting…");
  });

  pier = await startPierProcess(dataDir, port, env);
  await page.waitForFunction(() => (window as any).pierTerminal.state() === "connected" && (window as any).pierChat.state().connection === "connected", null, { timeout: 30_000 });
  expect(await page.evaluate(() => (window as any).sameDocument)).toBe(true);
  expect(await page.textContent(".chat-state")).toBe("Connected");
  await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
}, 85_000);
