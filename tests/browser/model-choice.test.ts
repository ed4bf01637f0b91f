/**
 * The model a form offers follows the engine picked: an ACP agent its model service's models
 * only (Codex OpenAI's, Gemini CLI Gemini's, opencode Anthropic's), an agent on `none` no model
 * at all, Pier's agent every model; on the new-session form and on a task's Run form, at desktop
 * and 390 px. A session started with the agent on none has no model.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { addRepo, waitForState } from "../support/sessions.ts";

let pier: TestPier;
let browser: Browser;
let cookie: string;
let taskId: string;

beforeAll(async () => {
  pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
  cookie = await setUpAdmin(pier);
  expect((await pier.fetch("/api/config/agents", json({ id: "unmetered", name: "Unmetered", command: "unmetered", service: "none" }, { cookie }))).status).toBe(201);
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("model-choice").path}`, "model-choice");
  taskId = ((await (await pier.fetch("/api/tasks", json({ title: "Pick a model", repoId }, { cookie }))).json()) as { id: string }).id;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
}, 60_000);

/** The models the select offers now (the options a person can pick), and whether its field shows. */
async function offered(page: Page, select: string): Promise<{ shown: boolean; models: string[]; value: string }> {
  return page.locator(select).evaluate((element) => {
    const select = element as HTMLSelectElement;
    return {
      shown: select.closest(".field")!.checkVisibility() && !select.disabled,
      models: [...select.options].filter((option) => !option.disabled && !option.hidden).map((option) => option.value),
      value: select.value,
    };
  });
}

test("the new-session form and the Run form offer each engine the models it can answer on", async () => {
  const all = (await pier.pier.costs.prices()).map((price) => price.model);
  const ofFamily = (prefix: string) => all.filter((model) => model.startsWith(prefix));
  expect(ofFamily("gpt-").length).toBeGreaterThan(1);
  for (const viewport of [DESKTOP, PHONE]) {
    const { page } = await signedInPage(browser, pier.url, cookie, viewport);
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${pier.url}/sessions/new`);
    expect((await offered(page, "#field-model")).models).toEqual(all);
    for (const [engine, prefix] of [["acp:codex", "gpt-"], ["acp:gemini", "gemini-"], ["acp:opencode", "claude-"]] as const) {
      await page.locator("#field-engine").selectOption(engine);
      const now = await offered(page, "#field-model");
      expect(now.shown).toBe(true);
      expect(now.models).toEqual(ofFamily(prefix));
      expect(now.value.startsWith(prefix)).toBe(true);
    }
    await page.locator("#field-engine").selectOption("acp:unmetered");
    expect((await offered(page, "#field-model")).shown).toBe(false);
    await page.locator("#field-engine").selectOption("pier");
    expect(await offered(page, "#field-model")).toMatchObject({ shown: true, models: all });
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);

    // The Run form: each attempt's model follows that attempt's engine.
    await page.goto(`${pier.url}/tasks/${taskId}`);
    await page.locator("#run-start summary").click();
    await page.locator("#field-engine1").selectOption("acp:gemini");
    expect((await offered(page, "#field-model1")).models).toEqual(ofFamily("gemini-"));
    await page.locator("#field-engine1").selectOption("acp:unmetered");
    expect((await offered(page, "#field-model1")).shown).toBe(false);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
  }

  // Started with the agent on none: the form sends no model, and the session has none.
  const { page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/sessions/new`);
  await page.locator("#field-engine").selectOption("acp:unmetered");
  await page.getByRole("button", { name: "Start session" }).click();
  await page.waitForURL((url) => /^\/sessions\/[a-z0-9]+$/.test(url.pathname) && url.pathname !== "/sessions/new");
  const session = await waitForState(pier, cookie, new URL(page.url()).pathname.split("/").pop()!, "active");
  expect(session).toMatchObject({ engine: "acp", agent: "unmetered", model: null });
}, 180_000);
