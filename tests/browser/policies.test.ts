/**
 * Tool policies in the browser: the approval card at 390 px, approved with one tap; an edit's card
 * showing its change as a diff, back after a reload and denied from the keyboard; a card left
 * waiting across a restart shown as expired; and the policy pages at 390 px without JavaScript.
 * Sessions run on the local runtime; the model is the suite's fake Anthropic API.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, showPane, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-policies-browser";
const dataDir = mkdtempSync(join(tmpdir(), "pier-policies-browser-"));

let anthropic: FakeAnthropic;
let env: Record<string, string>;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;
let session: SessionJson;

async function api<T>(path: string, method = "GET", body?: unknown): Promise<T> {
  const init = body === undefined ? { method, headers: { cookie } } : { ...json(body, { cookie }), method };
  const res = await pier.fetch(path, init);
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as T;
}

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  env = { PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: anthropic.url };
  pier = await startTestPier(env, dataDir);
  cookie = await setUpAdmin(pier);
  await api("/api/settings", "PUT", { anthropicApiKey: API_KEY });
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("cards").path}`, "cards");
  await api("/api/config/tool-policies", "PUT", { mode: "custom", allowed: ["read_file"], ask: ["bash", "edit_file"] });
  session = await activeSession(pier, cookie, { repoId });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function openChat(page: Page) {
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
  await showPane(page, "Chat");
}

async function ask(page: Page, text: string) {
  const chat = page.locator("#pane-chat");
  await chat.getByRole("textbox", { name: "Message the agent" }).fill(text);
  await chat.getByRole("button", { name: "Send", exact: true }).click();
}

test("at 390 px the card shows the command, the session waits for approval, and one tap approves it", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const problems = watchErrors(page, { consoleErrors: false });
  await openChat(page);
  anthropic.script({ toolUse: { name: "bash", input: { command: "echo tapped > tapped.txt" }, id: "toolu_tap" } }, { text: "Made tapped.txt." });
  await ask(page, "Make tapped.txt");

  const card = page.getByRole("group", { name: "Run bash?" });
  await card.and(page.locator("[data-live]")).waitFor();
  expect(await card.locator(".chat-approval-command").textContent()).toBe("echo tapped > tapped.txt");
  expect(await card.getByRole("status").textContent()).toBe("Waiting for your answer; nothing runs until you approve.");
  expect(await page.locator(".chat-working-label").textContent()).toBe("Waiting for your approval…");
  expect((await api<{ attention: string | null }>(`/api/sessions/${session.id}`)).attention).toBe("approval");
  expect(existsSync(join(session.worktreePath, "tapped.txt"))).toBe(false);
  expect(await (await pier.fetch("/sessions", { headers: { cookie } })).text()).toContain("waiting for approval");
  for (const name of ["Approve", "Allow for this session", "Deny"]) {
    const box = (await card.getByRole("button", { name }).boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(44);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
  }
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await card.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, "approval-card-phone.png") });

  await card.getByRole("button", { name: "Approve" }).tap();
  await card.and(page.locator('[data-state="approved"]')).waitFor();
  expect(await card.getByRole("status").textContent()).toBe("Approved by admin.");
  expect(await card.getByRole("button").count()).toBe(0);
  await page.locator('.chat-tool[data-state="done"]').last().waitFor();
  await page.locator(".chat-turn-end").last().waitFor();
  expect(readFileSync(join(session.worktreePath, "tapped.txt"), "utf8")).toBe("tapped\n");
  expect((await api<{ attention: string | null }>(`/api/sessions/${session.id}`)).attention).toBeNull();
  await page.screenshot({ path: join(ARTIFACTS, "approval-card-phone-approved.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("an edit's card shows the change as a diff, comes back after a reload, and is denied from the keyboard", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page, { consoleErrors: false });
  await openChat(page);
  anthropic.script(
    { toolUse: { name: "edit_file", input: { path: "README.md", old_string: "# cards\n", new_string: "# cards\n\nEdited <b>after</b> approval.\n" }, id: "toolu_edit" } },
    { text: "Left it alone." },
  );
  await ask(page, "Edit the README");
  const card = page.getByRole("group", { name: "Run edit_file?" });
  await card.and(page.locator("[data-live]")).waitFor();
  expect(await card.locator(".chat-diff .diff-add").allTextContents()).toContain("+Edited <b>after</b> approval.\n");
  expect(await card.locator(".chat-tool-label").textContent()).toBe("Changes README.md");
  expect(await card.locator(".chat-diff b").count()).toBe(0);

  await page.reload();
  await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
  await card.and(page.locator("[data-live]")).waitFor();
  expect(await page.locator(".chat-approval").count()).toBe(2);
  expect(await card.locator(".chat-diff .diff-add").allTextContents()).toContain("+Edited <b>after</b> approval.\n");
  expect(await page.locator('.chat-tool[data-state="running"] .chat-tool-status').last().textContent()).toBe("awaiting approval");

  await card.getByRole("button", { name: "Deny" }).focus();
  await page.keyboard.press("Enter");
  await card.and(page.locator('[data-state="denied"]')).waitFor();
  expect(await card.getByRole("status").textContent()).toBe("Denied by admin.");
  await page.locator(".chat-turn-end").last().waitFor();
  expect(await page.locator(".chat-tool").last().locator(".chat-tool-status").textContent()).toBe("refused");
  expect(readFileSync(join(session.worktreePath, "README.md"), "utf8")).toBe("# cards\n");
  await page.screenshot({ path: join(ARTIFACTS, "approval-card-denied-desktop.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("a card left waiting when Pier stops says it did not run because Pier stopped, with nothing to press", async () => {
  let { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  await openChat(page);
  anthropic.script({ toolUse: { name: "bash", input: { command: "touch never.txt" }, id: "toolu_restart" } });
  await ask(page, "Make never.txt");
  await page.getByRole("group", { name: "Run bash?" }).and(page.locator("[data-live]")).waitFor();
  await context.close();

  await pier.close();
  pier = await startTestPier(env, dataDir);
  ({ context, page } = await signedInPage(browser, pier.url, cookie, PHONE));
  const problems = watchErrors(page, { consoleErrors: false });
  await openChat(page);
  const expired = page.locator('.chat-approval[data-approval="toolu_restart"]');
  await expired.and(page.locator('[data-state="denied"]')).waitFor();
  expect(await expired.getByRole("button").count()).toBe(0);
  expect(await expired.getByRole("status").textContent()).toContain("Not run: Pier stopped before anyone answered.");
  expect(await page.locator(".chat-approval[data-live]").count()).toBe(0);
  expect(await page.locator(".chat-tool").last().locator(".chat-tool-status").textContent()).toBe("refused");
  expect(existsSync(join(session.worktreePath, "never.txt"))).toBe(false);
  await expired.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, "approval-card-expired-phone.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 90_000);

test("the policy pages work at 390 px without JavaScript: the global policy, a refused list, and a repo's override", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, javaScriptEnabled: false });
  const [name, value] = cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: pier.url }]);
  const page = await context.newPage();

  await page.goto(`${pier.url}/settings`);
  await page.getByRole("link", { name: "tool policy" }).click();
  await page.waitForURL(`${pier.url}/settings/tool-policy`);
  expect(await page.getByRole("radio", { name: /Custom/ }).isChecked()).toBe(true);
  expect(await page.getByRole("textbox", { name: "Ask first" }).inputValue()).toBe("bash\nedit_file");
  expect(await page.locator(".policy-known").textContent()).toContain("bash, read_file, write_file, edit_file");
  expect(await page.locator(".policy-known").textContent()).toContain("named mcp__server__tool.");

  // A tool in two lists: the form comes back with the error beside the list, nothing saved.
  await page.getByRole("textbox", { name: "Denied" }).fill("bash");
  await page.getByRole("button", { name: "Save tool policy" }).click();
  await page.getByRole("alert").filter({ hasText: "bash is in both ask and denied" }).waitFor();
  expect(await page.getByRole("textbox", { name: "Denied" }).getAttribute("aria-invalid")).toBe("true");
  expect((await api<{ denied: string[] }>("/api/config/tool-policies")).denied).toEqual([]);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "tool-policy-error-phone.png"), fullPage: true });

  await page.getByRole("textbox", { name: "Denied" }).fill("mcp__github__*\nwrite_file");
  await page.getByRole("button", { name: "Save tool policy" }).click();
  await page.getByRole("status").filter({ hasText: "Tool policy saved." }).waitFor();
  expect(await api("/api/config/tool-policies")).toEqual({ mode: "custom", allowed: ["read_file"], denied: ["mcp__github__*", "write_file"], ask: ["bash", "edit_file"] });
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "tool-policy-phone.png"), fullPage: true });

  // The repo page says what its sessions follow, and its own page overrides it and inherits again.
  await page.goto(`${pier.url}/repos/${repoId}`);
  expect(await page.locator("#tool-policy").textContent()).toContain("The global policy: Custom: refuses mcp__github__*, write_file");
  await page.locator("#tool-policy").getByRole("link", { name: "Change" }).click();
  // Inheriting, the form starts from the global lists, ready to be changed into the repo's own.
  expect(await page.getByRole("radio", { name: /Inherit/ }).isChecked()).toBe(true);
  expect(await page.getByRole("textbox", { name: "Ask first" }).inputValue()).toBe("bash\nedit_file");
  await page.getByRole("radio", { name: /Allow all/ }).check();
  await page.getByRole("button", { name: "Save tool policy" }).click();
  await page.getByRole("status").filter({ hasText: "Tool policy saved." }).waitFor();
  expect(await api(`/api/repos/${repoId}/tool-policy`)).toEqual({ mode: "allow_all", allowed: ["read_file"], denied: ["mcp__github__*", "write_file"], ask: ["bash", "edit_file"] });
  expect(await page.locator("main").textContent()).toContain("This repository has its own policy: Every tool runs without asking.");
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "repo-tool-policy-phone.png"), fullPage: true });
  await page.getByRole("radio", { name: /Inherit/ }).check();
  await page.getByRole("button", { name: "Save tool policy" }).click();
  await page.getByRole("status").filter({ hasText: "Tool policy saved." }).waitFor();
  expect(await api(`/api/repos/${repoId}/tool-policy`)).toBeNull();
  await context.close();
}, 60_000);
