import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, showPane, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-browser-test-0000000000";
let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;
let session: SessionJson;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: fake.url });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("chatty").path}`, "chatty");
  session = await activeSession(pier, cookie, { repoId });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await fake?.stop();
}, 60_000);

test("ask the agent: its answer streams in, its edit shows as a diff, and the header's cost goes up", async () => {
  for (const [viewport, name] of [[DESKTOP, "desktop"], [PHONE, "phone"]] as const) {
    const { context, page } = await signedInPage(browser, pier.url, cookie, viewport);
    const problems = watchErrors(page, { consoleErrors: false });
    await page.goto(`${pier.url}/sessions/${session.id}`);
    await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
    await showPane(page, "Chat");

    fake.script(
      { toolUse: { name: "write_file", input: { path: `hello-${name}.md`, content: "# Hello\n" } }, text: `I'll create the ${name} file.` },
      { text: `Done: **hello-${name}** is written. <img src=x onerror=alert(1)>`, usage: { input_tokens: 200_000, output_tokens: 20_000 } },
    );
    const chat = page.locator("#pane-chat");
    // The history replays earlier turns (the desktop run's, on the phone), so count the ends.
    const turnsBefore = await page.locator(".chat-turn-end").count();
    await chat.getByRole("textbox", { name: "Message the agent" }).fill(`Create hello-${name}.md`);
    await chat.getByRole("button", { name: "Send", exact: true }).click();
    await page.waitForFunction((n) => document.querySelectorAll(".chat-turn-end").length > n, turnsBefore);
    // Streamed, then settled: each answer shows once.
    expect(await page.locator(".chat-assistant strong", { hasText: `hello-${name}` }).count()).toBe(1);
    expect(await page.locator(".chat-assistant", { hasText: `I'll create the ${name} file.` }).count()).toBe(1);
    expect(await page.locator(".chat-assistant img").count()).toBe(0);
    await page.locator(".chat-tool").last().locator("summary").first().click();
    await page.locator(".chat-tool").last().locator(".chat-diff .diff-add", { hasText: "# Hello" }).waitFor();
    const cost = await page.locator("#session-cost").textContent();
    expect(cost).not.toBe("$0.00");
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, `chat-${name}.png`), fullPage: name === "phone" });
    await context.close();
    expect(problems).toEqual([]);
  }
}, 120_000);
