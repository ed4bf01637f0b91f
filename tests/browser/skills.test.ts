/**
 * Skills in the browser, at 390 px: the Skills page (a proposal's diff accepted, a skill turned
 * on, the new skill form refusing a bad name beside the field and then adding one), a repository's
 * Skills section (fetching its committed skills, importing one, choosing its global skills), and
 * the forms without JavaScript. Sessions run on the local runtime; the model is the suite's fake
 * Anthropic API.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-skills-browser";

let anthropic: FakeAnthropic;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;

type Skill = { id: string; name: string; enabled: boolean; content: string; repoId: string | null };
type Policy = { mode: string; effective: Array<{ name: string; scope: string }> };

async function api<T>(path: string, method = "GET", body?: unknown): Promise<T> {
  const init = body === undefined ? { method, headers: { cookie } } : { ...json(body, { cookie }), method };
  const res = await pier.fetch(path, init);
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (res.status === 204 ? null : await res.json()) as T;
}
const skillNamed = async (name: string) => (await api<Skill[]>("/api/skills")).find((s) => s.name === name);

let release: Skill;
let lint: Skill;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: anthropic.url });
  cookie = await setUpAdmin(pier);
  await api("/api/settings", "PUT", { anthropicApiKey: API_KEY });
  const remote = makeRemoteRepo("handbook");
  const work = join(dirname(remote.path), "work");
  for (const [name, text] of Object.entries({
    deploy: "---\nname: deploy\ndescription: Ship <b>it</b> to production\ncategory: deployment\n---\n# Deploy\n\nRun make ship.\n",
    "release-notes": "# The repository's own release notes skill\n",
  })) {
    mkdirSync(join(work, ".claude", "skills", name), { recursive: true });
    writeFileSync(join(work, ".claude", "skills", name, "SKILL.md"), text);
  }
  remote.git("add", "--all");
  remote.git("commit", "--quiet", "-m", "Our skills");
  remote.git("push", "--quiet", "origin", "main");
  Bun.spawnSync(["chmod", "-R", "a+rX", dirname(remote.path)]);
  repoId = await addRepo(pier, cookie, `file://${remote.path}`, "handbook");

  release = await api<Skill>("/api/skills", "POST", { name: "release-notes", category: "documentation", content: "# Release notes\n\nList the changes.\n" });
  lint = await api<Skill>("/api/skills", "POST", { name: "lint", category: "testing", content: "# Lint <everything>\n", enabled: false });

  // The agent proposes a better release-notes skill in a session.
  const session = await activeSession(pier, cookie, { repoId });
  const chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
  anthropic.script(
    { toolUse: { name: "propose_skill", input: { name: "release-notes", category: "documentation", content: "# Release notes\n\nList the changes, newest first.\n", reason: "Readers want the newest first." } } },
    { text: "Proposed." },
  );
  await chat.turn("Improve the release notes skill");
  chat.close();
  await api(`/api/sessions/${session.id}/end`, "POST", {});
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
}, 60_000);


test("the Skills page at 390 px: accept a proposal from its diff, turn a skill on, and add one (a bad name refused beside the field)", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const problems = watchErrors(page, { refusedWith: 400 });
  await page.goto(`${pier.url}/skills`);
  // At 390 px the navigation is folded into its menu.
  await page.locator(".topbar summary", { hasText: "Menu" }).click();
  expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Skills" }).getAttribute("aria-current")).toBe("page");
  await page.keyboard.press("Escape");
  const proposal = page.locator(".proposal", { hasText: "release-notes" });
  expect(await proposal.locator(".diff-add").allTextContents()).toContain("+List the changes, newest first.");
  expect(await proposal.locator(".diff-del").allTextContents()).toContain("-List the changes.");
  expect(await proposal.textContent()).toContain("Readers want the newest first.");
  expect(await page.locator('[data-skill="lint"] .hint').textContent()).toBe("Lint <everything>");
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "skills-phone.png"), fullPage: true });

  await proposal.getByRole("button", { name: "Accept" }).click();
  await page.getByRole("status").filter({ hasText: "Accepted: the skill release-notes is saved" }).waitFor();
  expect((await api<Skill>(`/api/skills/${release.id}`)).content).toContain("newest first");
  expect(await page.locator(".proposal").count()).toBe(0);

  await page.locator('[data-skill="lint"]').getByRole("button", { name: "Off · turn on" }).click();
  await page.locator('[data-skill="lint"]').getByRole("button", { name: "On · turn off" }).waitFor();
  expect((await api<Skill>(`/api/skills/${lint.id}`)).enabled).toBe(true);

  const form = page.getByRole("form", { name: "New skill" });
  await form.getByLabel("Name").fill("Bad/Name");
  await form.getByLabel("Category").selectOption("workflow");
  await form.getByLabel("Content (Markdown)").fill("# Plan first\n\nWrite the plan, then the code.");
  await form.getByRole("button", { name: "Add skill" }).click();
  await page.locator("#field-name-error", { hasText: "lowercase words" }).waitFor();
  expect(await page.getByRole("form", { name: "New skill" }).getByLabel("Content (Markdown)").inputValue()).toBe("# Plan first\n\nWrite the plan, then the code.");
  expect(await skillNamed("Bad/Name")).toBeUndefined();
  await page.getByRole("form", { name: "New skill" }).getByLabel("Name").fill("plan-first");
  await page.getByRole("form", { name: "New skill" }).getByRole("button", { name: "Add skill" }).click();
  await page.getByRole("status").filter({ hasText: "Added the skill plan-first" }).waitFor();
  expect(await skillNamed("plan-first")).toMatchObject({ enabled: true, repoId: null });
  expect(await page.locator('[data-skill="plan-first"] .hint').textContent()).toBe("Plan first");
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "skills-phone-after.png"), fullPage: true });
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("a repository's Skills at 390 px: fetch and import its committed skills, see which win, and choose its global skills", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const problems = watchErrors(page, { refusedWith: 400 });
  await page.goto(`${pier.url}/repos/${repoId}#skills`);
  const section = page.locator("#skills");
  // The session fetched the mirror; Fetch asks the remote again.
  await section.getByRole("button", { name: "Fetch the latest from the remote" }).click();
  await page.locator("#skills").getByRole("status").filter({ hasText: "Fetched the latest" }).waitFor();
  const committed = page.locator("#skills [data-committed]");
  expect((await committed.allTextContents()).join(" ")).toContain("Ship <b>it</b> to production");

  await page.locator('[data-committed="deploy"]').getByRole("checkbox").check();
  await page.locator("#skills").getByRole("button", { name: "Import the ticked ones" }).click();
  await page.locator("#skills").getByRole("status").filter({ hasText: "Imported deploy" }).waitFor();
  expect((await api<Skill[]>(`/api/skills?repoId=${repoId}`)).map((s) => s.name)).toEqual(["deploy"]);
  // Both deploy and release-notes are committed by the repository: its own files win in sessions.
  const gets = page.getByRole("list", { name: "Skills its sessions get" });
  expect(await gets.locator('[data-skill="deploy"] .skill-wins').count()).toBe(1);
  expect(await gets.locator('[data-skill="release-notes"] .skill-wins').count()).toBe(1);
  expect(await gets.locator('[data-skill="lint"] .skill-wins').count()).toBe(0);

  await page.getByLabel("Choose: each global skill on or off for this repository").check();
  await page.locator(".skill-choices label", { hasText: "release-notes" }).getByRole("checkbox").uncheck();
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.locator("#skills").getByRole("status").filter({ hasText: "it takes the global skills ticked" }).waitFor();
  const policy = await api<Policy>(`/api/repos/${repoId}/skill-policy`);
  expect(policy.mode).toBe("custom");
  expect(policy.effective.map((s) => s.name)).not.toContain("release-notes");
  expect(policy.effective.map((s) => s.name)).toContain("lint");
  expect(await page.getByRole("list", { name: "Skills its sessions get" }).locator('[data-skill="release-notes"]').count()).toBe(0);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.locator("#skills").screenshot({ path: join(ARTIFACTS, "skills-repo-phone.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 60_000);

test("without JavaScript the forms still work: edit a skill, then delete it", async () => {
  const plain = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false });
  const [name, value] = cookie.split("=") as [string, string];
  await plain.addCookies([{ name, value, url: pier.url }]);
  const noJs = await plain.newPage();
  const skill = (await skillNamed("plan-first"))!;
  await noJs.goto(`${pier.url}/skills/${skill.id}`);
  await noJs.getByLabel("Content (Markdown)").fill("# Plan first\n\nWrite the plan down, then the code.");
  await noJs.getByLabel("Enabled").uncheck();
  await noJs.getByRole("button", { name: "Save skill" }).click();
  await noJs.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  expect(await api<Skill>(`/api/skills/${skill.id}`)).toMatchObject({ enabled: false, content: "# Plan first\n\nWrite the plan down, then the code." });
  await noJs.getByRole("button", { name: "Delete skill" }).click();
  await noJs.waitForURL(`${pier.url}/skills`);
  expect(await skillNamed("plan-first")).toBeUndefined();
  await plain.close();
}, 30_000);
