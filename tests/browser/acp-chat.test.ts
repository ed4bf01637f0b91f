/**
 * The session page with the ACP engine: opencode (from npm, supplied into the pod by Pier) picked
 * on the new-session form, labelled by its agent, and a turn against the fake Anthropic API
 * through Pier's gateway that looks like one of Pier's agent: streamed text, a tool card with the
 * edit's diff, the cost in the header, at desktop and 390 px. The pod uses the host's network
 * (PIER_POD_NETWORK=host) so that opencode in it reaches Pier on 127.0.0.1.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, showPane, sidewaysOverflow, signedInPage } from "../support/browser.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { addRepo, waitForState } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-browser-acp-000000000000000000";
/** opencode names its sessions with a request of its own; those are answered apart from the script. */
const isTitleRequest = (body: any) => JSON.stringify(body.system ?? "").includes("title") && !JSON.stringify(body.tools ?? []).includes("bash");
let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
let pier: TestPier;
let browser: Browser;
let cookie: string;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  await addRepo(pier, cookie, `file://${makeRemoteRepo("acp-browser").path}`, "acp-browser");
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await fake?.stop();
}, 60_000);

test("an ACP agent picked on the form answers the session's chat as Pier's agent would look", async () => {
  // Contexts are closed with the browser: closing one while its page loads can hang Chromium.
  const { page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const formPage = page;
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${pier.url}/sessions/new`);
  const choices = await page.locator("#field-engine option").allTextContents();
  expect(choices).toContain("opencode (ACP)");
  await page.locator("#field-engine").selectOption("acp:opencode");
  await page.getByRole("button", { name: "Start session" }).click();
  await page.waitForURL((url) => /^\/sessions\/[a-z0-9]+$/.test(url.pathname) && url.pathname !== "/sessions/new");
  const id = new URL(page.url()).pathname.split("/").pop()!;
  const session = await waitForState(pier, cookie, id, "active");
  expect(session.engine).toBe("acp");
  expect(session.agent).toBe("opencode");

  fake.scriptWhen(isTitleRequest, { text: "Hello" }, { text: "Hello" }, { text: "Hello" });
  for (const [viewport, name] of [[DESKTOP, "desktop"], [PHONE, "phone"]] as const) {
    // The form's page may still reload as its session turns active: a page of its own here.
    const page = name === "desktop" ? await formPage.context().newPage() : (await signedInPage(browser, pier.url, cookie, viewport)).page;
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${pier.url}/sessions/${id}`);
    expect(await page.locator("#session-engine").textContent()).toBe("opencode (ACP)");
    await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
    await showPane(page, "Chat");
    fake.script(
      { toolUse: { name: "write", input: { filePath: `${session.worktreePath}/hello-${name}.md`, content: "# Hello\n" } }, text: `I'll create the ${name} file.` },
      { text: `Done: **hello-${name}** is written. <img src=x onerror=alert(1)>`, usage: { input_tokens: 20_000, output_tokens: 2_000 } },
    );
    const chat = page.locator("#pane-chat");
    const turnsBefore = await page.locator(".chat-turn-end").count();
    await chat.getByRole("textbox", { name: "Message the agent" }).fill(`Create hello-${name}.md`);
    await chat.getByRole("button", { name: "Send", exact: true }).click();
    // The first turn waits for opencode's build to be fetched from the registry (once per machine).
    await page.waitForFunction((n) => document.querySelectorAll(".chat-turn-end").length > n, turnsBefore, { timeout: 600_000 });
    expect(await page.locator(".chat-assistant strong", { hasText: `hello-${name}` }).count()).toBe(1);
    expect(await page.locator(".chat-assistant", { hasText: `I'll create the ${name} file.` }).count()).toBe(1);
    expect(await page.locator(".chat-assistant img").count()).toBe(0);
    const tool = page.locator(".chat-tool").last();
    expect(await tool.locator(".chat-tool-name").textContent()).toBe("write");
    await tool.locator("summary").first().click();
    await tool.locator(".chat-diff .diff-add", { hasText: "# Hello" }).waitFor();
    expect(await page.locator("#session-cost").textContent()).not.toBe("$0.00");
    expect(await page.locator("#pane-chat").textContent()).not.toContain("sessionUpdate");
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, `acp-chat-${name}.png`), fullPage: name === "phone" });
  }
  expect(problems).toEqual([]);
}, 600_000);
