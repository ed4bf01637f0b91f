/**
 * The session page with the Claude Code engine: started from the new-session form, labelled as
 * Claude Code, and a turn (the real Claude Code CLI in the pod, against the fake Anthropic API)
 * looks like one of Pier's agent: streamed text, a tool card with Pier's tool name and the edit's
 * diff, the cost in the header, at desktop and 390 px. The pod uses the host's network
 * (PIER_POD_NETWORK=host) so that Claude Code in it reaches the fake on 127.0.0.1.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, showPane, sidewaysOverflow, signedInPage } from "../support/browser.ts";
import { claudeCodeTestImage } from "../support/claude-code.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { addRepo, waitForState } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-browser-claude-code-0000000000";
let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
let pier: TestPier;
let browser: Browser;
let cookie: string;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: await claudeCodeTestImage(), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  await addRepo(pier, cookie, `file://${makeRemoteRepo("cc-browser").path}`, "cc-browser");
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await fake?.stop();
}, 60_000);

test("a session started with Claude Code says so, and its turn looks like one of Pier's agent", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${pier.url}/sessions/new`);
  expect(await page.locator("#field-engine").inputValue()).toBe("pier");
  await page.locator("#field-engine").selectOption("claude-code");
  await page.getByRole("button", { name: "Start session" }).click();
  // The form's own address (/sessions/new) matches too: wait for the session's page.
  await page.waitForURL((url) => /^\/sessions\/[a-z0-9]+$/.test(url.pathname) && url.pathname !== "/sessions/new");
  const id = new URL(page.url()).pathname.split("/").pop()!;
  const session = await waitForState(pier, cookie, id, "active");
  expect(session.engine).toBe("claude-code");
  // Closing a context while its page is still loading can hang Chromium for good (seen when the
  // session was active before its page had loaded): close it once the page has loaded.
  await page.waitForLoadState("load");
  expect(await page.locator("#session-engine").textContent()).toBe("Claude Code");
  await context.close();

  for (const [viewport, name] of [[DESKTOP, "desktop"], [PHONE, "phone"]] as const) {
    const { context, page } = await signedInPage(browser, pier.url, cookie, viewport);
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${pier.url}/sessions/${id}`);
    expect(await page.locator("#session-engine").textContent()).toBe("Claude Code");
    await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
    await showPane(page, "Chat");
    fake.script(
      { toolUse: { name: "Write", input: { file_path: `${session.worktreePath}/hello-${name}.md`, content: "# Hello\n" } }, text: `I'll create the ${name} file.` },
      { text: `Done: **hello-${name}** is written. <img src=x onerror=alert(1)>`, usage: { input_tokens: 20_000, output_tokens: 2_000 } },
    );
    const chat = page.locator("#pane-chat");
    const turnsBefore = await page.locator(".chat-turn-end").count();
    await chat.getByRole("textbox", { name: "Message the agent" }).fill(`Create hello-${name}.md`);
    await chat.getByRole("button", { name: "Send", exact: true }).click();
    await page.waitForFunction((n) => document.querySelectorAll(".chat-turn-end").length > n, turnsBefore, { timeout: 120_000 });
    expect(await page.locator(".chat-assistant strong", { hasText: `hello-${name}` }).count()).toBe(1);
    expect(await page.locator(".chat-assistant", { hasText: `I'll create the ${name} file.` }).count()).toBe(1);
    expect(await page.locator(".chat-assistant img").count()).toBe(0);
    const tool = page.locator(".chat-tool").last();
    expect(await tool.locator(".chat-tool-name").textContent()).toBe("write_file");
    await tool.locator("summary").first().click();
    await tool.locator(".chat-diff .diff-add", { hasText: "# Hello" }).waitFor();
    expect(await tool.locator(".chat-diff").textContent()).toContain("@@ -0,0 +1,1 @@");
    expect(await page.locator("#session-cost").textContent()).not.toBe("$0.00");
    // Nothing raw from Claude Code on the page.
    expect(await page.locator("#pane-chat").textContent()).not.toContain("stream_event");
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, `claude-code-chat-${name}.png`), fullPage: name === "phone" });
    await context.close();
  }
  expect(problems).toEqual([]);
}, 300_000);
