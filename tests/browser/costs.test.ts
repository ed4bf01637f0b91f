/**
 * The Costs page in Chromium: the chart draws (uPlot from Pier's own files, under its CSP) with a
 * legend per model, the period picker is a plain GET form, and at 390 px the page does not scroll
 * sideways (tables scroll inside their card). Screenshots at desktop and phone size.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, signedInPage } from "../support/browser.ts";
import { type TestPier, closeForGood, json, startTestPier } from "../support/pier.ts";
import { MODELS, type Seeded, seedCosts } from "../costs/seed.ts";

let pier: TestPier;
let browser: Browser;
let seeded: Seeded;

beforeAll(async () => {
  pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
  seeded = await seedCosts(pier);
  // A budget already reached, so the page shows the warning too.
  const res = await pier.fetch("/api/settings", { ...json({ monthlyBudgetUsd: 0.05 }, { cookie: seeded.admin.cookie }), method: "PUT" });
  expect(res.status).toBe(200);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await closeForGood(pier);
}, 60_000);

/** Opens the page and collects what the console and the CSP complain about. */
async function open(viewport: typeof DESKTOP, path: string): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
  const { context, page } = await signedInPage(browser, pier.url, seeded.admin.cookie, viewport);
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(pier.url + path);
  return { page, problems, close: () => context.close() };
}

test("at desktop size the chart draws each model's spending per day, and the period picker changes the period", async () => {
  const { page, problems, close } = await open(DESKTOP, "/costs?period=custom&from=2026-01-25&to=2026-02-20");
  try {
    await page.locator("#cost-chart canvas").waitFor();
    const legend = await page.locator("#cost-chart .u-legend .u-series .u-label").allTextContents();
    expect(legend.filter((label) => label !== "Day").sort()).toEqual([...MODELS].sort());
    // The chart is as wide as its card and painted, not blank.
    const painted = await page.locator("#cost-chart canvas").evaluate((canvas: HTMLCanvasElement) => {
      const pixels = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) inked++;
      return { inked, width: canvas.getBoundingClientRect().width };
    });
    expect(painted.inked).toBeGreaterThan(1000);
    expect(painted.width).toBeGreaterThan(600);
    for (const table of ["model", "repo", "user", "session", "task"]) await page.locator(`#costs-by-${table} table`).waitFor();
    expect(await page.locator(".budget-warning").textContent()).toContain("Over budget");
    await page.screenshot({ path: join(ARTIFACTS, "costs-desktop.png"), fullPage: true });

    await page.selectOption("#period", "7d");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/period=7d/);
    expect(await page.locator("#period").inputValue()).toBe("7d");
    expect(problems).toEqual([]);
  } finally {
    await close();
  }
}, 60_000);

test("at 390 px the page does not scroll sideways: the chart fits and the tables scroll in their cards", async () => {
  const { page, problems, close } = await open(PHONE, "/costs?period=custom&from=2026-01-25&to=2026-02-20");
  try {
    await page.locator("#cost-chart canvas").waitFor();
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      chart: document.querySelector("#cost-chart canvas")!.getBoundingClientRect().right,
      table: document.querySelector("#costs-by-session table")!.scrollWidth,
      scroller: document.querySelector("#costs-by-session .table-scroll")!.clientWidth,
    }));
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.chart).toBeLessThanOrEqual(390);
    expect(widths.table).toBeGreaterThan(widths.scroller);
    await page.screenshot({ path: join(ARTIFACTS, "costs-phone.png"), fullPage: true });
    expect(problems).toEqual([]);
  } finally {
    await close();
  }
}, 60_000);
