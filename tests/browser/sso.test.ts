import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, launchBrowser, signedInPage } from "../support/browser.ts";
import { type TestProvider, startTestProvider } from "../support/oidc-provider.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { callbackUrl } from "../support/sso.ts";

let pier: TestPier;
let provider: TestProvider;
let browser: Browser;
let admin: string;
/** What went wrong on Pier's pages (the provider's own development pages are not Pier's to judge). */
const problems: string[] = [];

beforeAll(async () => {
  pier = await startTestPier();
  admin = await setUpAdmin(pier);
  provider = await startTestProvider({
    redirectUris: [callbackUrl(pier.url, "corp")],
    accounts: {
      ada: { preferred_username: "ada", email: "ada@example.com", email_verified: true, groups: ["devs"] },
      grace: { preferred_username: "grace", groups: ["devs", "pier-admins"] },
      "admin-at-corp": { preferred_username: "the-admin", groups: ["devs"] },
    },
  });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await provider?.close();
  if (pier) await closeForGood(pier);
}, 60_000);

function watch(page: Page): void {
  const onPier = () => page.url().startsWith(pier.url);
  page.on("console", (message) => {
    if (onPier() && message.type() === "error" && !/status of 4\d\d/.test(message.text())) problems.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => {
    if (onPier()) problems.push(error.message);
  });
}

/** On the provider's own sign-in form: any password goes for a test account. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
}

test("an admin adds the provider on the Single sign-on page; its secret is never shown again", async () => {
  const { context, page } = await signedInPage(browser, pier.url, admin, DESKTOP);
  watch(page);
  await page.goto(`${pier.url}/settings`);
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Single sign-on" }).click();
  await page.waitForURL(`${pier.url}/settings/sso`);
  const form = page.getByRole("form", { name: "Add a sign-in provider" });
  await form.getByLabel("Id", { exact: true }).fill("corp");
  await form.getByLabel("Name", { exact: true }).fill("Corp ID");
  await form.getByLabel("Issuer", { exact: true }).fill("http://auth.example.com");
  await form.getByLabel("Client id", { exact: true }).fill(provider.clientId);
  await form.getByLabel("Client secret", { exact: true }).fill(provider.clientSecret);
  await form.getByLabel("Scopes", { exact: true }).fill("openid profile email groups");
  await form.getByLabel("Groups claim", { exact: true }).fill("groups");
  await form.getByLabel("Admin group", { exact: true }).fill("pier-admins");
  await form.getByLabel("Allowed groups", { exact: true }).fill("devs");
  await form.getByRole("button", { name: "Add provider" }).click();
  // Refused next to the field, the rest kept but the secret.
  await page.locator("#field-issuer-error", { hasText: /https:\/\// }).waitFor();
  expect(await form.getByLabel("Client id", { exact: true }).inputValue()).toBe(provider.clientId);
  expect(await form.getByLabel("Client secret", { exact: true }).inputValue()).toBe("");
  await form.getByLabel("Issuer", { exact: true }).fill(provider.issuer);
  await form.getByLabel("Client secret", { exact: true }).fill(provider.clientSecret);
  await form.getByRole("button", { name: "Add provider" }).click();
  await page.getByRole("status").filter({ hasText: `Added Corp ID. Register ${pier.url}/auth/sso/corp/callback` }).waitFor();
  expect(await page.getByRole("list", { name: "Sign-in providers" }).textContent()).toContain("Corp ID");
  expect(await page.content()).not.toContain(provider.clientSecret);
  await page.screenshot({ path: join(ARTIFACTS, "sso-settings.png"), fullPage: true });
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("the whole code flow in Chromium: the sign-in button, the provider's form, then the dashboard as a new member", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  watch(page);
  await page.goto(`${pier.url}/login`);
  await page.screenshot({ path: join(ARTIFACTS, "sso-sign-in.png"), fullPage: true });
  await page.getByRole("link", { name: "Sign in with Corp ID" }).click();
  await signInAtProvider(page, "ada");
  await page.waitForURL(`${pier.url}/`);
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Hello, ada");
  const cookie = (await context.cookies(pier.url)).find((c) => c.name === "pier_session")!;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
  // A member: no Users page for them.
  expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).count()).toBe(0);
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("the page asked for signed out is where a provider's sign-in lands; the admin group makes an admin", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  watch(page);
  await page.goto(`${pier.url}/users`);
  await page.waitForURL(`${pier.url}/login?next=%2Fusers`);
  await page.getByRole("link", { name: "Sign in with Corp ID" }).click();
  await signInAtProvider(page, "grace");
  await page.waitForURL(`${pier.url}/users`);
  const people = await page.getByRole("list", { name: "Users" }).textContent();
  expect(people).toContain("grace");
  expect(people).toMatch(/grace\s*admin/);
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("the admin links their account from Tokens, turns password sign-in off, and signs in with the provider alone", async () => {
  const { context, page } = await signedInPage(browser, pier.url, admin, DESKTOP, 15_000);
  watch(page);
  await page.goto(`${pier.url}/tokens`);
  const section = page.locator("#sign-in-providers");
  expect(await section.getByRole("listitem").textContent()).toContain("not linked");
  await section.getByRole("button", { name: "Link" }).click();
  await signInAtProvider(page, "admin-at-corp");
  await page.waitForURL(`${pier.url}/tokens#sign-in-providers`);
  expect(await page.locator("#sign-in-providers").getByRole("listitem").textContent()).toMatch(/Corp ID\s*linked/);

  await page.goto(`${pier.url}/settings/sso`);
  const passwords = page.getByRole("form", { name: "Password sign-in" });
  await passwords.getByLabel("Password sign-in").selectOption("false");
  await passwords.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Password sign-in saved." }).waitFor();

  await page.getByRole("button", { name: /Sign out/ }).click();
  await page.waitForURL(`${pier.url}/login`);
  expect(await page.getByLabel("Password").count()).toBe(0);
  await page.screenshot({ path: join(ARTIFACTS, "sso-sign-in-providers-only.png"), fullPage: true });
  await page.getByRole("link", { name: "Sign in with Corp ID" }).click();
  // The provider remembers the admin from the link: straight back to Pier.
  await page.waitForURL(`${pier.url}/`);
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Hello, admin");
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);
