/**
 * Tasks in the browser: the board moves cards by dragging, from the keyboard and by the Move
 * menu, calling the API, and shows the workflow's refusal with the card left in place; it works
 * at 390 px; the list filters; a task's page shows its Markdown, subtasks and notes and follows
 * its events live (a move, the verification report failing, a retry through the API, the report
 * coming back), with approval and rejection; a session's header shows its task live and can link
 * another. Sessions run on the local runtime; the model is the suite's fake Anthropic API.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-tasks-test";

let anthropic: FakeAnthropic;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;

type TaskJson = { id: string; title: string; status: string; parentId: string | null };

async function api<T>(path: string, method = "GET", body?: unknown): Promise<T> {
  const init = body === undefined ? { method, headers: { cookie } } : { ...json(body, { cookie }), method };
  const res = await pier.fetch(path, init);
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (res.status === 204 ? null : await res.json()) as T;
}
const createTask = (body: Record<string, unknown>) => api<TaskJson>("/api/tasks", "POST", body);
const statusOf = async (id: string) => (await api<TaskJson>(`/api/tasks/${id}`)).status;

let draft: TaskJson;
let changelog: TaskJson;
let ship: TaskJson;
let launch: TaskJson;
let guide: TaskJson;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: anthropic.url });
  cookie = await setUpAdmin(pier);
  await api("/api/settings", "PUT", { anthropicApiKey: API_KEY });
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("docs").path}`, "docs");
  draft = await createTask({ title: "Draft the <release> notes", priority: "high", dueDate: "2030-01-31", repoId });
  changelog = await createTask({ title: "Tidy the changelog", priority: "low" });
  ship = await createTask({ title: "Ship it", priority: "urgent" });
  launch = await createTask({
    title: "Launch the docs site",
    description: "## Goal\n\nThe docs are **online** at a `docs.` address.\n\n- search works\n- <script>window.injected = true</script>",
    repoId,
  });
  guide = await createTask({ title: "Write the install guide", parentId: launch.id });
  await api(`/api/tasks/${launch.id}/notes`, "POST", { body: "Hosting is *decided*: static pages." });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
}, 60_000);

const column = (page: Page, status: string) => page.locator(`[data-column="${status}"]`);
const card = (page: Page, task: TaskJson) => page.locator(`.task-card[data-task="${task.id}"]`);

test("the board: drag to In progress, move from the keyboard, and a refused move leaves the card put", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page, { refusedWith: 409 });
  await page.goto(`${pier.url}/tasks`);
  expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tasks" }).getAttribute("aria-current")).toBe("page");
  expect(await column(page, "todo").locator(".task-card").count()).toBe(5);
  expect(await card(page, draft).locator(".task-card-title").textContent()).toBe("Draft the <release> notes");

  // Dragged from To do into In progress: it moves once the API said yes.
  await card(page, draft).dragTo(column(page, "in_progress"));
  await column(page, "in_progress").locator(`[data-task="${draft.id}"]`).waitFor();
  expect(await statusOf(draft.id)).toBe("in_progress");
  expect(await column(page, "in_progress").locator("[data-column-count]").textContent()).toBe("1");
  expect(await page.locator("[data-board-announce]").textContent()).toBe("Draft the <release> notes moved to In progress.");

  // From the keyboard: Shift + → on the card's title, which keeps the focus.
  await card(page, changelog).locator(".task-card-title").focus();
  await page.keyboard.press("Shift+ArrowRight");
  await column(page, "in_progress").locator(`[data-task="${changelog.id}"]`).waitFor();
  expect(await statusOf(changelog.id)).toBe("in_progress");
  expect(await page.evaluate(() => (document.activeElement?.closest(".task-card") as HTMLElement | null)?.dataset.task)).toBe(changelog.id);
  expect(await page.locator("[data-board-announce]").textContent()).toBe("Tidy the changelog moved to In progress.");

  // To do straight to Done: the workflow refuses, the sentence shows, the card stays.
  await card(page, ship).dragTo(column(page, "done"));
  const refusal = page.getByRole("alert").filter({ hasText: "cannot move from todo to done" });
  await refusal.waitFor();
  expect(await refusal.textContent()).toBe("A task cannot move from todo to done; from todo it can move to in_progress.");
  expect(await column(page, "todo").locator(`[data-task="${ship.id}"]`).count()).toBe(1);
  expect(await column(page, "done").locator(".task-card").count()).toBe(0);
  expect(await statusOf(ship.id)).toBe("todo");

  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "tasks-board-desktop.png"), fullPage: true });
  await context.close();
  expect(problems).toEqual([]);
}, 30_000);

test("at 390 px the columns scroll sideways inside the board, and the Move menu moves a card", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE);
  const problems = watchErrors(page, { refusedWith: 409 });
  await page.goto(`${pier.url}/tasks`);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  const box = await card(page, ship).boundingBox();
  expect(box!.width).toBeGreaterThan(250);
  expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);

  await card(page, ship).getByText("Move to…").click();
  await card(page, ship).getByRole("button", { name: "In progress" }).click();
  await column(page, "in_progress").locator(`[data-task="${ship.id}"]`).waitFor();
  expect(await statusOf(ship.id)).toBe("in_progress");

  await page.screenshot({ path: join(ARTIFACTS, "tasks-board-phone.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 30_000);

test("the list filters by title words and status as the person types and picks", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/tasks?view=list`);
  const rows = page.getByRole("list", { name: "Tasks" }).locator(":scope > li");
  expect(await rows.count()).toBe(5);
  await page.getByLabel("Title contains").fill("the");
  await page.locator("[data-task-count]", { hasText: "4 of 5 tasks" }).waitFor();
  await page.getByLabel("Status").selectOption("in_progress");
  await page.locator("[data-task-count]", { hasText: "2 of 5 tasks" }).waitFor();
  expect(await rows.locator(".list-title").allTextContents()).toEqual(expect.arrayContaining(["Draft the <release> notes", "Tidy the changelog"]));
  expect(new URL(page.url()).searchParams.get("status")).toBe("in_progress");
  await context.close();
}, 30_000);

test("New task: the form creates a subtask and opens its page", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  await page.goto(`${pier.url}/tasks/${launch.id}`);
  await page.getByRole("link", { name: "Add a subtask" }).click();
  await page.getByRole("heading", { name: "New task" }).waitFor();
  expect(await page.getByLabel("Parent task").inputValue()).toBe(launch.id);
  expect(await page.getByLabel("Repository").inputValue()).toBe(repoId);
  // The browser insists on a title; spaces alone are the server's to refuse, beside the field.
  await page.getByLabel("Title").fill("   ");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.locator("#field-title-error", { hasText: "Title must be 1–200 characters" }).waitFor();
  expect(await page.getByLabel("Parent task").inputValue()).toBe(launch.id);
  await page.getByLabel("Title").fill("Announce the docs");
  await page.getByLabel("Description").fill("Post it *everywhere*.");
  await page.getByLabel("Priority").selectOption("urgent");
  await page.getByLabel("Due date").fill("2031-05-01");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.getByRole("heading", { name: "Announce the docs" }).waitFor();
  const head = page.locator("#task-head");
  expect(await head.locator(".priority").textContent()).toBe("Priority: Urgent");
  expect(await head.locator(".due").textContent()).toBe("Due 2031-05-01");
  expect(await head.getByRole("link", { name: "Launch the docs site" }).count()).toBe(1);
  expect(await page.locator("#task-description em").textContent()).toBe("everywhere");
  const created = await api<TaskJson[]>(`/api/tasks?parentId=${launch.id}`);
  expect(created.map((task) => task.title).sort()).toEqual(["Announce the docs", "Write the install guide"]);
  await api(`/api/tasks/${created.find((task) => task.title === "Announce the docs")!.id}`, "DELETE");
  await context.close();
}, 30_000);

test("a task's page: Markdown, subtasks and notes; it follows its events through review", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page, { refusedWith: 409 });
  await page.goto(`${pier.url}/tasks/${launch.id}`);
  const description = page.locator("#task-description .markdown");
  expect(await description.locator("h2").textContent()).toBe("Goal");
  expect(await description.locator("strong").textContent()).toBe("online");
  expect(await description.textContent()).toContain("<script>window.injected = true</script>");
  expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
  const subtasks = page.locator("#task-subtasks");
  expect(await subtasks.getByRole("link", { name: "Write the install guide" }).count()).toBe(1);
  expect(await subtasks.locator("progress").getAttribute("aria-label")).toBe("0 of 1 subtasks done");
  await page.waitForFunction(() => (window.pierTask?.refreshes() ?? 0) > 0);

  // A note from the form joins the timeline, after the one added through the API.
  await page.getByRole("textbox", { name: "Your note" }).fill("Checked the **DNS** records.");
  await page.getByRole("button", { name: "Add note" }).click();
  const notes = page.getByRole("list", { name: "Notes" }).locator(":scope > li");
  await notes.nth(1).locator("strong", { hasText: "DNS" }).waitFor();
  expect(await notes.nth(0).locator("em").textContent()).toBe("decided");

  // Work happens elsewhere (the API here): the subtask is done, the task moves on, all live.
  await page.evaluate(() => Object.assign(window, { stillThisPage: true }));
  for (const status of ["in_progress", "awaiting_approval", "done"]) await api(`/api/tasks/${guide.id}`, "PATCH", { status });
  await subtasks.locator('progress[aria-label="1 of 1 subtasks done"]').waitFor();
  anthropic.script({ status: 400, message: "This report is refused for the test." });
  await api(`/api/tasks/${launch.id}`, "PATCH", { status: "in_progress" });
  await api(`/api/tasks/${launch.id}`, "PATCH", { status: "awaiting_approval" });
  await page.locator("#task-head .task-status", { hasText: "Awaiting approval" }).waitFor();
  await page.getByRole("heading", { name: "Awaiting your approval" }).waitFor();
  const report = page.locator("#task-verification");
  await report.locator(".notice-warn", { hasText: "This report is refused for the test." }).waitFor();

  // Retry asks the API for a new report; it comes back as Markdown.
  // The model answers only once the page has shown the report being written.
  const written = Promise.withResolvers<void>();
  anthropic.script({ text: "## Summary\n\nThe site is **up**; the guide is written.\n\n## Gaps and risks\n\nNone seen.", heldUntil: written.promise });
  await report.getByRole("button", { name: "Retry" }).click();
  await report.locator("progress").waitFor();
  written.resolve();
  await report.locator(".report h2", { hasText: "Gaps and risks" }).waitFor();
  expect(await report.locator(".report strong").textContent()).toBe("up");
  expect(await page.locator("[data-task-announce]").textContent()).toBe("The verification report is ready.");
  expect(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
  await page.screenshot({ path: join(ARTIFACTS, "task-detail.png"), fullPage: true });

  // Sent back with feedback: In progress again, the feedback kept as a note.
  await page.getByRole("textbox", { name: "Feedback" }).fill("Add a page on upgrades.");
  await page.getByRole("button", { name: "Reject with feedback" }).click();
  await page.locator("#task-head .task-status", { hasText: "In progress" }).waitFor();
  await notes.filter({ hasText: "Changes requested: Add a page on upgrades." }).waitFor();
  expect(await statusOf(launch.id)).toBe("in_progress");
  // The review form arrived with a live update and still went through htmx, without a reload.
  expect(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
  await context.close();
  expect(problems).toEqual([]);
}, 30_000);

test("a session's header shows its task live, and links another through the API", async () => {
  const other = await createTask({ title: "Pick a license" });
  const linked = await createTask({ title: "Fix the search box", repoId });
  const session = await activeSession(pier, cookie, { repoId, taskId: linked.id, title: "Search work" });
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
  const problems = watchErrors(page, { refusedWith: 409 });

  // New Session offers the tasks not done, and a task's page can pick one.
  await page.goto(`${pier.url}/sessions/new?taskId=${other.id}`);
  const choices = await page.getByLabel("Task").locator("option").allTextContents();
  expect(choices).toContain("Pick a license (To do)");
  expect(choices.some((choice) => choice.startsWith("Write the install guide"))).toBe(false);
  expect(await page.getByLabel("Task").inputValue()).toBe(other.id);

  await page.goto(`${pier.url}/sessions/${session.id}`);
  const entry = page.locator("#session-task");
  expect(await entry.getByRole("link").first().textContent()).toBe("Fix the search box");
  expect(await entry.locator(".task-status").textContent()).toBe("In progress");
  anthropic.script({ text: "## Summary\n\nNot much yet." });
  await api(`/api/tasks/${linked.id}`, "PATCH", { status: "awaiting_approval" });
  await entry.locator(".task-status", { hasText: "Awaiting approval" }).waitFor();

  await entry.getByText("Change task", { exact: true }).click();
  await entry.getByLabel("Task", { exact: true }).selectOption(other.id);
  await entry.getByRole("button", { name: "Save" }).click();
  await page.locator("#session-task a", { hasText: "Pick a license" }).waitFor();
  expect((await api<{ taskId: string }>(`/api/sessions/${session.id}`)).taskId).toBe(other.id);
  expect(await page.locator("#session-task .task-status").textContent()).toBe("In progress");

  // The task's page lists the session with its state and cost.
  await page.goto(`${pier.url}/tasks/${other.id}`);
  const sessions = page.getByRole("list", { name: "Sessions" });
  expect(await sessions.getByRole("link", { name: "Search work" }).count()).toBe(1);
  expect(await sessions.textContent()).toContain("Active");
  await pier.pier.verifications.settled();
  await context.close();
  expect(problems).toEqual([]);
}, 45_000);

test("another member's feedback shows in the session's header; Pass on sends it to the agent as the person's message, quoted", async () => {
  await pier.fetch("/api/users", json({ username: "mia", password: "mia password 123", role: "member" }, { cookie }));
  const mia = await signIn(pier, "mia", "mia password 123");
  const task = (await (await pier.fetch("/api/tasks", json({ title: "Mia's footer", repoId }, { cookie: mia }))).json()) as TaskJson;
  const session = await activeSession(pier, mia, { repoId, taskId: task.id, title: "Footer work" });
  anthropic.script({ text: "## Summary\n\nA footer." });
  await api(`/api/tasks/${task.id}`, "PATCH", { status: "awaiting_approval" });
  await pier.pier.verifications.settled();
  const { context, page } = await signedInPage(browser, pier.url, mia, DESKTOP);
  const problems = watchErrors(page, { refusedWith: 409 });
  await page.goto(`${pier.url}/sessions/${session.id}`);

  // The admin sends it back: mia sees it live, and her agent has heard nothing.
  await api(`/api/tasks/${task.id}/reject`, "POST", { feedback: "Use <footer>, not a div." });
  const feedback = page.locator("#session-task-feedback");
  await feedback.getByText("Feedback from admin").waitFor();
  expect(await feedback.locator("blockquote").textContent()).toContain("Use <footer>, not a div.");
  expect(await page.locator(".chat-user").count()).toBe(0);

  anthropic.script({ text: "Switching to a footer element." });
  await feedback.getByRole("button", { name: "Pass on to the agent" }).click();
  await feedback.getByText("Passed on to the agent.").waitFor();
  const said = page.locator(".chat-user");
  await said.first().waitFor();
  expect(await said.count()).toBe(1);
  const text = (await said.textContent()) ?? "";
  expect(text).toContain("Here is feedback from admin on this session's task");
  expect(text).toContain('<quoted from="admin"');
  expect(text).toContain("Use &lt;footer&gt;, not a div.");
  await context.close();
  await api(`/api/sessions/${session.id}/end`, "POST", {});
  expect(problems).toEqual([]);
}, 45_000);
