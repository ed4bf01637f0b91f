/**
 * The review page in the browser: the diff's file list jumps to each file, comments left on lines
 * of two files collect in the tray and go to the agent as one message that the session's chat
 * then shows; the conversation and the terminal's replay are on the page; it works at 390 px.
 * Screenshots at desktop and phone sizes go to tests/artifacts. The session runs on the local
 * runtime; the model is the suite's fake Anthropic API.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-review-test";

let anthropic: FakeAnthropic;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;
let session: SessionJson;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: anthropic.url });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("reviewed").path}`, "reviewed");
  session = await activeSession(pier, cookie, { repoId, title: "Tidy the <readme>" });
  // Never synchronous: Pier, in this process, answers the session's git work.
  const child = Bun.spawn(
    ["bash", "-c", "mkdir -p src && printf 'export const a = 1;\\nexport const b = 2;\\nexport const c = 3;\\n' > src/app.ts && printf '# reviewed\\n\\nSecond line\\nThird line\\n' > README.md && git add -A"],
    { cwd: session.worktreePath },
  );
  expect(await child.exited).toBe(0);
  // A turn for the conversation, and the terminal's recording (it starts with the session's shell).
  anthropic.script({ text: "I **tidied** the readme." });
  const chat = await ChatClient.connect(pier.url, session.id, { cookie });
  await chat.turn("Tidy the readme, please.");
  chat.close();
  const deadline = Date.now() + 20_000;
  while ((await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie } })).status !== 200) {
    if (Date.now() > deadline) throw new Error("the session's terminal recorded nothing");
    await Bun.sleep(100);
  }
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
}, 60_000);


/** Leaves a comment on a line of a file's diff, through the form that opens under the line. */
async function comment(page: Page, path: string, line: number, body: string): Promise<void> {
  const file = page.locator(`.diff-file[data-path="${path}"]`);
  await file.locator(`[data-comment-line="${line}"]`).click();
  const form = file.getByRole("form", { name: `Comment on ${path} line ${line}` });
  await form.getByRole("textbox").fill(body);
  await form.getByRole("button", { name: "Add comment" }).click();
  await file.locator(".review-comment", { hasText: body }).waitFor();
}

test("comments on two files go to the agent as one message, which the session's chat shows", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page);
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await page.getByRole("link", { name: "Review", exact: true }).click();
  await page.waitForURL(`**/sessions/${session.id}/review`);

  // The file list, each with its counts, jumps to its file.
  const nav = page.getByRole("navigation", { name: "Changed files" });
  await expect(nav.locator(".diff-nav-link").allInnerTexts()).resolves.toEqual([expect.stringMatching(/README\.md\s+\+3 −0/), expect.stringMatching(/src\/app\.ts\s+\+3 −0/)]);
  await nav.getByRole("link", { name: /src\/app\.ts/ }).click();
  expect(new URL(page.url()).hash).toBe("#file-1");
  await expect(page.locator("#file-1").getAttribute("data-path")).resolves.toBe("src/app.ts");

  // The conversation, rendered as the chat renders it (Markdown, not JSON), and the replay's player.
  await page.waitForFunction(() => (window.pierReview?.transcriptItems() ?? 0) >= 2);
  await expect(page.locator("#conversation .chat-assistant strong").innerText()).resolves.toBe("tidied");
  await expect(page.locator("#conversation").innerText()).resolves.not.toContain('"kind"');
  await page.locator("#replay .replay-controls").waitFor();

  await comment(page, "README.md", 3, "Say what the <b>second</b> line is for.");
  await comment(page, "src/app.ts", 2, "Rename b to something clearer.");
  const tray = page.getByRole("list", { name: "Comments waiting to be sent" });
  await expect(tray.locator(".review-comment").count()).resolves.toBe(2);
  // What a person typed stays text.
  await expect(page.locator(".diff-file[data-path='README.md'] .review-comment-body").innerText()).resolves.toBe("Say what the <b>second</b> line is for.");
  await page.screenshot({ path: join(ARTIFACTS, "review-desktop.png"), fullPage: true });

  anthropic.script({ text: "I will explain the second line and rename b." });
  await page.getByRole("button", { name: "Send to the agent" }).click();
  await page.waitForURL(`**/sessions/${session.id}`);
  const message = page.locator(".chat-user", { hasText: "README.md:3" });
  await message.waitFor();
  const text = await message.innerText();
  expect(text).toContain("Say what the <b>second</b> line is for.");
  expect(text).toContain("src/app.ts:2");
  expect(text).toContain("Rename b to something clearer.");
  await expect(page.locator(".chat-user").count()).resolves.toBe(2);
  await page.locator(".chat-assistant", { hasText: "rename b" }).waitFor();
  expect(problems).toEqual([]);
  await context.close();
}, 90_000);

test("at 390 px the review page fits the screen and a line can still be commented on", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const problems = watchErrors(page);
  await page.goto(`${pier.url}/sessions/${session.id}/review`);
  await page.waitForFunction(() => (window.pierReview?.transcriptItems() ?? 0) >= 2);
  await page.locator("#replay .replay-controls").waitFor();
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await comment(page, "src/app.ts", 3, "And c?");
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "review-phone.png"), fullPage: true });
  expect(problems).toEqual([]);
  await context.close();
}, 60_000);

test("a new file not added to git shows its lines, and a comment can be left on one", async () => {
  const fresh = await activeSession(pier, cookie, { repoId, title: "Write a plan" });
  const child = Bun.spawn(["bash", "-c", "mkdir -p docs && printf 'Plan\\nShip it\\nCelebrate\\n' > docs/plan.md"], { cwd: fresh.worktreePath });
  expect(await child.exited).toBe(0);
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page);
  await page.goto(`${pier.url}/sessions/${fresh.id}/review`);

  const nav = page.getByRole("navigation", { name: "Changed files" });
  await expect(nav.locator(".diff-nav-link").allInnerTexts()).resolves.toEqual([expect.stringMatching(/docs\/plan\.md\s+\+3 −0/)]);
  const file = page.locator('.diff-file[data-path="docs/plan.md"]');
  await expect(file.locator(".diff-file-head").innerText()).resolves.toContain("new, not added to git");
  await expect(file.locator("tr.diff-add .diff-code > span:not(.diff-marker)").allInnerTexts()).resolves.toEqual(["Plan", "Ship it", "Celebrate"]);

  await comment(page, "docs/plan.md", 2, "Say when it ships.");
  const tray = page.getByRole("list", { name: "Comments waiting to be sent" });
  await expect(tray.locator(".review-comment").innerText()).resolves.toContain("docs/plan.md:2");
  const kept = (await (await pier.fetch(`/api/sessions/${fresh.id}/review`, { headers: { cookie } })).json()) as { comments: Array<{ path: string; line: number; context: string }> };
  expect(kept.comments).toEqual([expect.objectContaining({ path: "docs/plan.md", line: 2, context: "+Plan\n+Ship it" })]);
  await page.screenshot({ path: join(ARTIFACTS, "review-new-file.png"), fullPage: true });
  expect(problems).toEqual([]);
  await context.close();
}, 90_000);
