import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.PIER_CHROMIUM ?? "/usr/bin/chromium";
export const ARTIFACTS = join(import.meta.dir, "..", "artifacts");

/**
 * Debian's Chromium, headless. The background-networking flags keep it from reaching for
 * Google's services, which this machine's closed network would refuse at every start.
 */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
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
