import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow } from "../support/browser.ts";
import { type TestPier, closeForGood, startTestPier } from "../support/pier.ts";

let pier: TestPier;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  pier = await startTestPier();
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
}, 60_000);

/**
 * Console errors (a CSP violation, a failed script) make the test fail. The browser also logs
 * every 4xx answer, which these tests provoke on purpose (a refused form), so those are expected.
 */
async function watch(page: Page) {
  await page.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP ${e.violatedDirective} blocked ${e.sample || e.blockedURI} on ${(e.target as Element)?.outerHTML?.slice(0, 120)}`),
    ),
  );
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" && !/status of 4\d\d/.test(text)) problems.push(text);
  });
  page.on("pageerror", (error) => problems.push(error.message));
}

test("setup → sign out → sign in → add a repository → see it listed, on a desktop", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await watch(page);

  await page.goto(pier.url + "/repos");
  expect(new URL(page.url()).pathname).toBe("/setup");
  await page.screenshot({ path: join(ARTIFACTS, "setup-desktop.png"), fullPage: true });

  // A too-short password is refused next to the field, without leaving the page.
  await page.getByLabel("Username").fill("ada");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create admin account" }).click();
  await page.locator("#field-password-error", { hasText: /at least 8 characters/ }).waitFor();
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create admin account" }).click();
  await page.waitForURL(pier.url + "/");
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Hello, ada");

  await page.getByRole("button", { name: /Sign out/ }).click();
  await page.waitForURL(pier.url + "/login");
  await page.getByLabel("Username").fill("ada");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".form-error", { hasText: "Wrong username or password." }).waitFor();
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(pier.url + "/");

  await page.getByRole("navigation").getByRole("link", { name: "Repositories" }).click();
  await page.getByLabel("Git URL").fill("ext::sh -c touch% /tmp/pwned");
  await page.getByRole("button", { name: "Add repository" }).click();
  await page.locator("#field-url-error", { hasText: /spaces or control characters/ }).waitFor();
  expect(new URL(page.url()).pathname).toBe("/repos");

  await page.getByLabel("Git URL").fill("https://github.com/acme/widgets.git");
  await page.getByLabel("Default branch").fill("trunk");
  await page.getByRole("button", { name: "Add repository" }).click();
  await page.waitForURL(/\/repos\/[a-z2-7]{16}$/);
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("widgets");
  expect(await page.locator(".facts").first().textContent()).toContain("trunk");

  await page.getByRole("navigation").getByRole("link", { name: "Repositories" }).click();
  const listed = page.getByRole("list", { name: "Repositories" });
  await listed.getByRole("link", { name: "widgets" }).waitFor();
  expect(await listed.textContent()).toContain("https://github.com/acme/widgets.git");
  await page.screenshot({ path: join(ARTIFACTS, "repos-desktop.png"), fullPage: true });
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("the same pages are usable at 390×844", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await watch(page);
  await page.goto(pier.url + "/login");
  await page.getByLabel("Username").fill("ada");
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(pier.url + "/");
  await page.goto(pier.url + "/repos");
  await page.getByRole("link", { name: "widgets" }).waitFor();
  // Nothing wider than the screen: no sideways scrolling on a phone.
  const overflow = await sidewaysOverflow(page);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "repos-phone.png"), fullPage: true });
  await page.goto(pier.url + "/settings");
  await page.screenshot({ path: join(ARTIFACTS, "settings-phone.png"), fullPage: true });
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);
