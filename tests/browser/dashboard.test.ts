/**
 * The dashboard, the history and "needs you" in Chromium: a turn that ends while the person is on
 * the dashboard shows there without a reload, with the count in the title; opening the session
 * clears it; ending a session takes it off the dashboard live; the history filters and pages.
 * Screenshots of the dashboard and the history at desktop and 390 px. Sessions run on the local
 * runtime; the model is the suite's fake Anthropic API.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, signedInPage } from "../support/browser.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-dashboard-test";

let anthropic: FakeAnthropic;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;
let first: SessionJson;
let second: SessionJson;

const api = async (path: string, method = "GET", body?: unknown) => {
  const res = await pier.fetch(path, body === undefined ? { method, headers: { cookie, origin: pier.url } } : { ...json(body, { cookie, origin: pier.url }), method });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return res.status === 204 ? null : res.json();
};

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: anthropic.url });
  cookie = await setUpAdmin(pier);
  await api("/api/settings", "PUT", { anthropicApiKey: API_KEY, quietSeconds: 0 });
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("dashboard").path}`, "dashboard");
  first = await activeSession(pier, cookie, { repoId, title: "Fix the <login> form" });
  second = await activeSession(pier, cookie, { repoId, title: "Write the docs" });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
}, 60_000);

test("a turn that ends elsewhere shows on the dashboard live, with the count in the title; looking clears it", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/`);
  await page.getByRole("heading", { name: "Active sessions" }).waitFor();
  expect(await page.title()).toBe("Dashboard · Pier");
  expect(await page.locator("[data-needs-you-list] li").count()).toBe(0);

  const chat = await ChatClient.connect(pier.url, first.id, { cookie, origin: pier.url });
  anthropic.script({ text: "Fixed." });
  await chat.turn("Fix it.");
  chat.close();

  await page.locator("[data-needs-you-list] li", { hasText: "Fix the <login> form" }).waitFor();
  await page.waitForFunction(() => document.title === "(1) Dashboard · Pier");
  // The active list, fetched again after the server's nudge, marks the session too.
  await page.locator('[data-session-row] [data-attention="turn_end"]').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-desktop.png"), fullPage: true });

  // Opening the session is looking at it: the reason goes, on the session page and the dashboard.
  const { context: other, page: session } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await session.goto(`${pier.url}/sessions/${first.id}`);
  await session.bringToFront();
  await session.waitForFunction(() => !document.title.startsWith("("));
  expect((await api(`/api/sessions/${first.id}`)).attention).toBeNull();
  await other.close();
  await page.waitForFunction(() => document.title === "Dashboard · Pier");
  expect(await page.locator("[data-needs-you-list] li").count()).toBe(0);

  // A session ended elsewhere leaves the dashboard's active list without a reload.
  await api(`/api/sessions/${second.id}/end`, "POST");
  await page.waitForFunction(() => ![...document.querySelectorAll("[data-session-row] .list-title")].some((a) => a.textContent === "Write the docs"));
  expect(await page.getByText("Ended “Write the docs”").count()).toBe(1);
  await context.close();
}, 60_000);

test("at 390 px the dashboard and the history fit, and the history filters and pages", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  await page.goto(`${pier.url}/`);
  await page.getByRole("heading", { name: "Needs you" }).waitFor();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });

  await page.goto(`${pier.url}/sessions`);
  expect(await page.locator("[data-session-row]").count()).toBe(2);
  await page.getByLabel("Title or branch").fill("LOGIN");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/q=LOGIN/);
  expect(await page.locator("[data-session-row] .list-title").allTextContents()).toEqual(["Fix the <login> form"]);
  await page.getByLabel("State").selectOption("ended");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByText("No session matches these filters.").waitFor();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  await page.screenshot({ path: join(ARTIFACTS, "history-phone.png"), fullPage: true });

  await page.setViewportSize(DESKTOP);
  await page.goto(`${pier.url}/sessions`);
  await page.screenshot({ path: join(ARTIFACTS, "history-desktop.png"), fullPage: true });
  await context.close();
}, 60_000);
