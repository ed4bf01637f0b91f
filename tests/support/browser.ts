import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";

export const CHROMIUM = process.env.PIER_CHROMIUM ?? "/usr/bin/chromium";
export const ARTIFACTS = join(import.meta.dir, "..", "artifacts");

/**
 * Debian's Chromium, headless. The background-networking flags keep it from reaching for
 * Google's services, which this machine's closed network would refuse at every start.
 */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Chromium with a profile of its own in `dir`, as a person's browser is: what Playwright's
 * newContext makes is off the record, where Chromium refuses Web Push. `args` are added.
 */
export async function launchProfile(dir: string, args: string[], viewport = DESKTOP, timeoutMs = 20_000): Promise<BrowserContext> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args], viewport });
  context.setDefaultTimeout(timeoutMs);
  return context;
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * A page in a fresh browser context already signed in with `cookie` (a "pier_session=…" pair);
 * phone-sized viewports get a touch screen too.
 */
export async function signedInPage(browser: Browser, baseUrl: string, cookie: string, viewport: { width: number; height: number }, timeoutMs = 20_000) {
  const mobile = viewport === PHONE;
  const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile });
  context.setDefaultTimeout(timeoutMs);
  const [name, value] = cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: baseUrl }]);
  return { context, page: await context.newPage() };
}

/**
 * How far the page reaches past the width the test gave it, in CSS pixels: 0 or less is no
 * sideways scrolling. Not against window.innerWidth: a phone's browser zooms out to fit a page too
 * wide, and innerWidth grows with it, so the difference reads 0 however wide the page is.
 */
export async function sidewaysOverflow(page: Page): Promise<number> {
  const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  return pageWidth - page.viewportSize()!.width;
}

/**
 * Collects what goes wrong on a page, for a test to expect none of it at the end: its uncaught
 * errors, and unless `consoleErrors` is false, the errors it logs. The browser logs each refused
 * request as an error: `refusedWith` is the status of the refusals the test draws on purpose.
 */
export function watchErrors(page: Page, options: { consoleErrors?: boolean; refusedWith?: number } = {}): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  if (options.consoleErrors === false) return problems;
  const refused = options.refusedWith === undefined ? null : `status of ${options.refusedWith}`;
  page.on("console", (message) => {
    if (message.type() === "error" && (refused === null || !message.text().includes(refused))) problems.push(message.text());
  });
  return problems;
}

/**
 * Shows a pane of the session page's workspace: on a phone the panes are tabs (only the chosen
 * one shows), so its tab is tapped; on a wide screen they are all there already.
 */
export async function showPane(page: Page, tab: "Terminal" | "Chat" | "Preview" | "PRs"): Promise<void> {
  const tabs = page.getByRole("tablist", { name: "Session panes" });
  if (await tabs.isVisible()) await tabs.getByRole("tab", { name: new RegExp(`^${tab}`) }).click();
}
