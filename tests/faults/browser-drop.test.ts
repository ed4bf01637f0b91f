/**
 * A browser that drops off mid-turn: real Chromium (playwright-core) reaches Pier through a proxy
 * whose network is cut for 20 s while the agent works — every connection through it dropped and
 * new ones refused, and the browser itself offline — then restored. The page must come back by
 * itself, without a reload, showing every item of the turn exactly once. Local runtime, the
 * suite's fake Anthropic API pacing its stream.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { DESKTOP, launchBrowser, signedInPage } from "../support/browser.ts";
import { type CuttableProxy, startCuttableProxy } from "../support/cuttable-proxy.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-browser-drop-0000000000";
const OFFLINE_MS = 20_000;
/** About 60 pieces of 16 characters; at 450 ms a piece the answer streams for ~27 s, across the whole cut. */
const LONG = Array.from({ length: 24 }, (_, i) => `Sentence ${i + 1} of the long answer.`).join(" ");

let fake: FakeAnthropic;
let pier: TestPier;
let proxy: CuttableProxy;
let browser: Browser;
let cookie: string;
let session: SessionJson;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url, PIER_MODEL_RETRY_FIRST_MS: "3000" });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("dropping").path}`, "dropping");
  session = await activeSession(pier, cookie, { repoId });
  proxy = await startCuttableProxy(Number(new URL(pier.url).port));
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  if (pier) await closeForGood(pier);
  await fake?.stop();
}, 60_000);

/** Each conversation item the chat shows, as its kind and text, in order. */
const shownItems = (page: Page) =>
  page.locator("#pane-chat .chat-items > .chat-item").evaluateAll((items) =>
    items.map((item) => `${item.className.replace(/\s*chat-item\s*/, "").split(" ")[0]}: ${(item.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 80)}`),
  );
const connection = (page: Page) => page.evaluate(() => (window as any).pierChat.state().connection as string);

test("broke: the browser's network, for 20 s mid-turn — held: back online, the chat shows every item of the turn exactly once, without a reload", async () => {
  const { context, page } = await signedInPage(browser, proxy.url, cookie, DESKTOP);
  await page.goto(`${proxy.url}/sessions/${session.id}`);
  await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
  let reloads = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) reloads += 1;
  });

  // The tool call is held 2 s, so it is made and run while the browser is away; the answer streams on across the cut.
  fake.script(
    { toolUse: { name: "write_file", input: { path: "away.txt", content: "written while you were away\n" } }, text: "I'll write away.txt.", delayMs: 2_000 },
    { text: LONG, chunkDelayMs: 450 },
  );
  const chat = page.locator("#pane-chat");
  await chat.getByRole("textbox", { name: "Message the agent" }).fill("Write away.txt, then talk for a while.");
  await chat.getByRole("button", { name: "Send", exact: true }).click();
  await page.locator(".chat-user", { hasText: "Write away.txt" }).waitFor();

  proxy.cut();
  await context.setOffline(true);
  await page.waitForFunction(() => (window as any).pierChat.state().connection !== "connected");
  await Bun.sleep(OFFLINE_MS);
  // The turn went on without the browser: the tool ran and the answer is streaming.
  expect(fake.requests.length).toBeGreaterThanOrEqual(2);
  proxy.restore();
  await context.setOffline(false);

  await page.waitForFunction(() => (window as any).pierChat.state().connection === "connected", undefined, { timeout: 15_000 });
  // Back mid-answer: the answer's bubble starts where the answer did, not where the page came back.
  const streaming = page.locator(".chat-assistant[data-streaming]");
  expect(await streaming.count()).toBe(1);
  const soFar = ((await streaming.textContent()) ?? "").trim();
  expect(soFar.startsWith("Sentence 1 of the long answer. Sentence 2")).toBe(true);
  expect(LONG.startsWith(soFar)).toBe(true);

  await page.locator(".chat-turn-end").waitFor({ timeout: 40_000 });
  const items = await shownItems(page);
  expect(items.filter((item) => item.startsWith("chat-user"))).toEqual(["chat-user: Write away.txt, then talk for a while."]);
  expect(items.filter((item) => item.startsWith("chat-tool"))).toHaveLength(1);
  expect(items.filter((item) => item.includes("I'll write away.txt."))).toHaveLength(1);
  expect(items.filter((item) => item.includes("Sentence 1 of the long answer."))).toHaveLength(1);
  expect((await page.locator(".chat-assistant", { hasText: "Sentence 24 of the long answer." }).textContent())?.trim()).toBe(LONG);
  expect(items.filter((item) => item.startsWith("chat-turn-end"))).toHaveLength(1);
  expect(reloads).toBe(0);

  // And it is what a page opened afresh shows.
  const fresh = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await fresh.page.goto(`${pier.url}/sessions/${session.id}`);
  await fresh.page.locator(".chat-turn-end").waitFor();
  expect(await shownItems(fresh.page)).toEqual(items);
  expect(await connection(page)).toBe("connected");
  await fresh.context.close();
  await context.close();
}, 85_000);

test("broke: the model's answer, cut off mid-stream — held: the page says why and how long it waits, drops the cut text, and shows the new answer once", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
  const answer = "A second answer, cut off once and then given whole.";
  fake.script({ text: answer, cut: { afterChunks: 2, how: "drop" } }, { text: answer });
  const turnsBefore = await page.locator(".chat-turn-end").count();
  const chat = page.locator("#pane-chat");
  await chat.getByRole("textbox", { name: "Message the agent" }).fill("Answer again.");
  await chat.getByRole("button", { name: "Send", exact: true }).click();

  const notice = page.locator(".chat-notice[role=status]");
  await notice.waitFor();
  expect(await notice.textContent()).toMatch(/^The model service.+; retrying in [1-3] s…$/);
  // The cut try's text is gone while Pier waits: the new try's answer takes its place.
  expect(await page.locator(".chat-assistant", { hasText: "A second answer" }).count()).toBe(0);
  await page.waitForFunction((n) => document.querySelectorAll(".chat-turn-end").length > n, turnsBefore);
  expect(await page.locator(".chat-assistant", { hasText: "A second answer" }).count()).toBe(1);
  expect((await page.locator(".chat-assistant", { hasText: "A second answer" }).textContent())?.trim()).toBe(answer);
  expect(await notice.count()).toBe(0);
  await context.close();
}, 60_000);
