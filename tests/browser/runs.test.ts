/**
 * Unattended runs in the browser: Run with two attempts on different models from a task's page,
 * at desktop width and at 390 px; both runs go live on the page without a reload, stand side by
 * side with their changes, CI and cost, and one is picked (the other stopped, its pull request
 * closed). A refused Run shows the server's sentence beside its field; the dashboard lists runs
 * under way and a run's session page shows its run. Sessions on the local runtime, the agent
 * scripted by the fake Anthropic, the pull requests on the fake GitHub.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import type { FakeAnthropic } from "../support/fake-anthropic.ts";
import type { FakeGitHub } from "../support/fake-github.ts";
import { type TestPier, json } from "../support/pier.ts";
import { type RunJson, agentCommits, runCalls, setUpRuns, tearDownRuns } from "../support/runs.ts";

const SONNET = "claude-sonnet-4-6";
const HAIKU = "claude-haiku-4-5";

let github: FakeGitHub;
let anthropic: FakeAnthropic;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;
const { pollAndTick } = runCalls(() => ({ pier, cookie, repoId }));

async function api<T>(path: string, method = "GET", body?: unknown): Promise<T> {
  const init = body === undefined ? { method, headers: { cookie } } : { ...json(body, { cookie }), method };
  const res = await pier.fetch(path, init);
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as T;
}

/** The agent's scripted work on one model: a file written and committed, then a last word. */
function agentOn(model: string, file: string, content: string): void {
  anthropic.scriptWhen((body) => body.model === model && body.system !== undefined, ...agentCommits(file, content, `Add ${file}`));
}

beforeAll(async () => {
  ({ github, anthropic, pier, cookie, repoId } = await setUpRuns({ maxConcurrentRuns: 2 }));
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await tearDownRuns({ pier, github, anthropic });
}, 60_000);

const attempt = (page: Page, n: number) => page.locator(`#task-runs .run-attempt[aria-label="Attempt ${n}"]`);

/**
 * On the task's page: Run with two attempts, the first on Sonnet and the second on Haiku; both
 * show up at once, and reach Waiting on CI (their pull requests open) through the page's events.
 */
async function runTwoAttempts(page: Page, taskId: string): Promise<RunJson[]> {
  await page.goto(`${pier.url}/tasks/${taskId}`);
  await page.waitForFunction(() => (window.pierTask?.refreshes() ?? 0) > 0);
  await page.locator("#run-start > summary").click();
  // One attempt shows one set of choices; two, two (CSS alone hides the rest).
  expect(await page.locator(".run-variant-fields:visible").count()).toBe(1);
  await page.getByLabel("Attempts").selectOption("2");
  expect(await page.locator(".run-variant-fields:visible").count()).toBe(2);
  await page.locator("#field-model1").selectOption(SONNET);
  await page.locator("#field-model2").selectOption(HAIKU);
  await page.getByRole("button", { name: "Run", exact: true }).click();

  await attempt(page, 2).waitFor();
  const runs = (await api<RunJson[]>(`/api/runs?taskId=${taskId}`)).sort((a, b) => a.attempt - b.attempt);
  expect(runs.map((run) => [run.attempt, run.model])).toEqual([
    [1, SONNET],
    [2, HAIKU],
  ]);
  const refreshes = await page.evaluate(() => window.pierTask!.refreshes());
  for (const n of [1, 2]) await page.locator(`#task-runs .run-attempt[aria-label="Attempt ${n}"][data-state="waiting_ci"]`).waitFor({ timeout: 60_000 });
  // Drawn again from the task's events, not reloaded.
  expect(await page.evaluate(() => window.pierTask!.refreshes())).toBeGreaterThan(refreshes);
  return (await api<RunJson[]>(`/api/runs?taskId=${taskId}`)).sort((a, b) => a.attempt - b.attempt);
}

/** The comparison: each attempt's changes, its pull request with CI, its cost against its budget, and a Pick. */
async function expectComparison(page: Page, runs: RunJson[]): Promise<void> {
  const compare = page.locator("#task-runs .run-compare");
  expect(await compare.count()).toBe(1);
  for (const run of runs) {
    const card = attempt(page, run.attempt);
    await card.locator("[data-changes]", { hasText: "1 file +1 −0" }).waitFor();
    expect(await card.locator(".run-pr a").textContent()).toBe(`#${run.prNumber}`);
    expect(await card.locator(".run-pr [data-kind=ci]").textContent()).toBe("No checks");
    expect(await card.locator(".run-budget").textContent()).toContain("of $10.00");
    expect(await card.locator(".run-variant").textContent()).toContain(run.model);
    expect(await card.getByRole("button", { name: "Pick this one" }).count()).toBe(1);
  }
}

/** Picks attempt `n` (confirming), and the other attempt is stopped with its pull request closed. */
async function pick(page: Page, runs: RunJson[], n: number): Promise<void> {
  page.once("dialog", (dialog) => void dialog.accept());
  // The page hears the other attempt stop before the pick has closed its pull request: the answer says it is all done.
  const answered = page.waitForResponse((response) => response.url().endsWith("/pick") && response.request().method() === "POST");
  await attempt(page, n).getByRole("button", { name: "Pick this one" }).click();
  expect((await answered).status()).toBe(200);
  const other = runs.find((run) => run.attempt !== n)!;
  await page.locator(`#task-runs .run-attempt[aria-label="Attempt ${other.attempt}"][data-state="stopped"]`).waitFor();
  expect(await attempt(page, other.attempt).locator("[data-run-reason]").textContent()).toBe("Stopped by a person.");
  expect((await github.pull("octo", "widgets", other.prNumber!)).state).toBe("closed");
  expect((await github.pull("octo", "widgets", runs.find((run) => run.attempt === n)!.prNumber!)).state).toBe("open");
  expect(await attempt(page, n).getAttribute("data-state")).toBe("waiting_ci");
  // Nothing is left to pick between.
  expect(await page.locator("#task-runs").getByRole("button", { name: "Pick this one" }).count()).toBe(0);
}

test("desktop: a refused Run says why beside its field; Run with two attempts, both live, compared side by side, one picked", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page, { refusedWith: 400 });
  const task = await api<{ id: string }>("/api/tasks", "POST", { title: "Greet the <world>", description: "Add a greeting file.", repoId });

  // The browser would stop a budget of 0 itself; the server's refusal is what shows beside the field.
  await page.goto(`${pier.url}/tasks/${task.id}`);
  await page.locator("#run-start > summary").click();
  await page.locator("form.run-form").evaluate((form) => ((form as HTMLFormElement).noValidate = true));
  await page.getByLabel("Budget per run (USD)").fill("0");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.locator("#field-budgetUsd-error", { hasText: "Budget must be an amount in USD above 0." }).waitFor();
  expect(await page.locator("#run-start").getAttribute("open")).not.toBeNull();
  expect(await api<RunJson[]>(`/api/runs?taskId=${task.id}`)).toEqual([]);

  agentOn(SONNET, "hello.txt", "hello from sonnet\n");
  agentOn(HAIKU, "hi.txt", "hi from haiku\n");
  const runs = await runTwoAttempts(page, task.id);
  await expectComparison(page, runs);
  // Side by side: the second attempt stands to the right of the first.
  const [first, second] = [await attempt(page, 1).boundingBox(), await attempt(page, 2).boundingBox()];
  expect(second!.x).toBeGreaterThan(first!.x + first!.width - 1);
  expect(Math.abs(second!.y - first!.y)).toBeLessThan(2);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "runs-compare-desktop.png"), fullPage: true });

  await pick(page, runs, 1);
  await page.screenshot({ path: join(ARTIFACTS, "runs-picked-desktop.png"), fullPage: true });

  // The dashboard lists the picked run in flight, and once its CI passes, among the runs waiting for the person.
  await page.goto(`${pier.url}/`);
  const inFlight = page.getByRole("list", { name: "Runs in flight" });
  await inFlight.locator(`[data-run="${runs[0]!.id}"]`).waitFor();
  expect(await inFlight.locator(`[data-run="${runs[1]!.id}"]`).count()).toBe(0);
  expect(await inFlight.locator(`[data-run="${runs[0]!.id}"] .list-title`).textContent()).toBe("Greet the <world>");
  anthropic.scriptWhen((body) => body.system === undefined, { text: "## Summary\nhello.txt was added." });
  const { headSha } = await github.pull("octo", "widgets", runs[0]!.prNumber!);
  await github.setCheckRun("octo", "widgets", headSha, { name: "build", status: "completed", conclusion: "success" });
  await pollAndTick();
  const waiting = page.getByRole("list", { name: "Runs that need you" }).locator(`[data-run="${runs[0]!.id}"]`);
  await waiting.waitFor();
  expect(await waiting.locator(".badge-waiting").textContent()).toBe("awaiting your approval");
  expect(await waiting.getByRole("link", { name: "Greet the <world>" }).getAttribute("href")).toBe(`/tasks/${task.id}`);
  await page.screenshot({ path: join(ARTIFACTS, "runs-dashboard-desktop.png"), fullPage: true });
  await page.goto(`${pier.url}/sessions/${runs[0]!.sessionId}`);
  const panel = page.locator("#session-run");
  expect(await panel.locator(".run-state").textContent()).toBe("Awaiting approval");
  expect(await panel.locator("[data-ci]").textContent()).toBe("CI passing");
  expect(await panel.getByRole("link", { name: "Greet the <world>" }).count()).toBe(1);
  expect(await panel.locator(".run-budget").textContent()).toContain("of $10.00");
  // The panel follows the run: paused and resumed elsewhere, it says so without a reload.
  await page.waitForFunction(() => document.getElementById("session-run") !== null);
  await api(`/api/runs/${runs[0]!.id}/pause`, "POST");
  await page.locator("#session-run .run-paused").waitFor();
  await api(`/api/runs/${runs[0]!.id}/resume`, "POST");
  await page.locator("#session-run .run-paused").waitFor({ state: "detached" });
  await page.screenshot({ path: join(ARTIFACTS, "runs-session-desktop.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 120_000);

test("at 390 px: Run with two attempts, the comparison stacked without sideways scrolling, one picked", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const problems = watchErrors(page, { refusedWith: 400 });
  const task = await api<{ id: string }>("/api/tasks", "POST", { title: "Say goodbye", repoId });
  agentOn(SONNET, "bye.txt", "bye from sonnet\n");
  agentOn(HAIKU, "ciao.txt", "ciao from haiku\n");
  const runs = await runTwoAttempts(page, task.id);
  await expectComparison(page, runs);
  const [first, second] = [await attempt(page, 1).boundingBox(), await attempt(page, 2).boundingBox()];
  expect(second!.y).toBeGreaterThan(first!.y + first!.height - 1);
  expect(first!.x + first!.width).toBeLessThanOrEqual(PHONE.width);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "runs-compare-phone.png"), fullPage: true });

  await pick(page, runs, 2);
  // Pause holds the picked attempt's PR loop, Resume lets it go on.
  await attempt(page, 2).getByRole("button", { name: "Pause" }).click();
  await attempt(page, 2).locator(".run-paused").waitFor();
  expect((await api<RunJson & { paused: boolean }>(`/api/runs/${runs[1]!.id}`)).paused).toBe(true);
  await attempt(page, 2).getByRole("button", { name: "Resume" }).click();
  await attempt(page, 2).locator(".run-paused").waitFor({ state: "detached" });
  expect((await api<RunJson & { paused: boolean }>(`/api/runs/${runs[1]!.id}`)).paused).toBe(false);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "runs-picked-phone.png"), fullPage: true });
  await context.close();
  expect(problems).toEqual([]);
}, 120_000);
