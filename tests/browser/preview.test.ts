/**
 * The session page's preview pane in Chromium, against a web app started in the session's
 * terminal in a real pod (network none):
 *
 * - the page offers the port as soon as it listens; opening it unfolds the pane and shows the app
 *   in a frame on its own origin, through Pier's grant (the partitioned cookie works in the frame);
 * - inside the frame, the app's page sees no cookie of Pier's (document.cookie, and the Cookie
 *   header the app is sent), and its credentialed fetch of Pier's API is refused: Pier answers 403;
 * - the URL bar follows the app's own navigation, widths change the frame, a new tab opens it;
 * - "Send to chat" carries the page's address and the console error the app logged to the agent,
 *   quoted as the app's words, not as the person's;
 * - at 390 px the panes are tabs and Preview is one of them; screenshots of both;
 * - a port the repository's devcontainer marks as its app (onAutoForward) opens the pane by itself.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Docker from "dockerode";
import { join } from "node:path";
import type { Browser, Frame, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage, watchErrors } from "../support/browser.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { commitFiles, makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { until } from "../support/until.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-preview-test-000000000000";
const APP = 4600;
const APP_ERROR = "boom: the widget failed to load";

/** The app: a page with a script that logs an error, another page, and what Cookie header it was sent. */
const APP_SCRIPT = `
Bun.serve({
  port: ${APP},
  fetch(req) {
    const url = new URL(req.url);
    const page = (title, body) => new Response("<!doctype html><html><head><title>" + title + "</title></head><body>" + body + "</body></html>", { headers: { "content-type": "text/html; charset=utf-8" } });
    if (url.pathname === "/") return page("Preview app", '<h1>Hello from the preview</h1><p id="cookie"></p><a href="/about?tab=team">About us</a><script src="/app.js"></script>');
    if (url.pathname === "/about") return page("About", "<h1>About the app</h1>");
    if (url.pathname === "/app.js") return new Response('document.getElementById("cookie").textContent = "cookie=[" + document.cookie + "]"; console.error(${JSON.stringify(APP_ERROR)});', { headers: { "content-type": "text/javascript" } });
    if (url.pathname === "/seen-cookie") return new Response(req.headers.get("cookie") ?? "(none)");
    return new Response("not found", { status: 404 });
  },
});
console.log("serving-" + (${APP - 1} + 1));
`;

let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;
let session: SessionJson;
let term: TermClient;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: fake.url });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("previewed").path}`, "previewed");
  session = await activeSession(pier, cookie, { repoId, engine: "pier" });
  // The app's source goes into the worktree; the terminal starts it.
  const written = await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", 'printf %s "$0" > preview-app.js && echo written', APP_SCRIPT], {
    cwd: session.worktreePath,
    timeoutMs: 20_000,
  });
  expect(written.stdout).toContain("written");
  term = await TermClient.connect(pier.url, session.id, { cookie });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  term?.close();
  await browser?.close();
  // Ended first: a live session's terminal would make its pod again while it is removed.
  if (session) await pier.fetch(`/api/sessions/${session.id}/end`, { method: "POST", headers: { cookie } });
  if (pier) await closeForGood(pier);
  await fake?.stop();
}, 60_000);

/** How many GET requests Pier has refused with 403 before any route (a preview's, above all), as its metrics count them. */
async function refusedSessionLists(): Promise<number> {
  const metrics = await (await pier.fetch("/metrics", { headers: { cookie } })).text();
  const line = metrics.split("\n").find((l) => l.startsWith("pier_http_requests_total{") && l.includes('method="GET"') && l.includes('route="refused"') && l.includes('status="403"'));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** The preview's frame once the app's page is in it. */
async function appFrame(page: Page): Promise<Frame> {
  const origin = `http://${APP}-${session.id}.localhost:${pier.previewPort}`;
  const found = await until("the app in the frame", async () => page.frames().find((frame) => frame.url().startsWith(`${origin}/`)) ?? null, (frame) => frame !== null, 20_000);
  return found!;
}

test("a port that starts listening is offered, and opens in the pane on its own origin, with nothing of Pier's sign-in", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP, 30_000);
  const problems = watchErrors(page, { consoleErrors: false });
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await page.getByRole("heading", { name: "Terminal" }).waitFor();
  expect(await page.locator("#pane-preview").getAttribute("class")).toContain("collapsed");

  await term.run(`bun preview-app.js &`, new RegExp(`serving-${APP}`));
  const offer = page.locator("[data-preview-offer]", { hasText: `Port ${APP}` });
  await offer.waitFor({ timeout: 10_000 });
  expect(await offer.textContent()).toContain("bun");
  await offer.getByRole("button", { name: "Open the preview" }).click();
  expect(await page.locator("#pane-preview").getAttribute("class")).not.toContain("collapsed");

  const frame = await appFrame(page);
  await frame.getByRole("heading", { name: "Hello from the preview" }).waitFor();
  // The app's page cannot see a cookie (Pier's stays on Pier's host; the preview's is HttpOnly).
  expect(await frame.locator("#cookie").textContent()).toBe("cookie=[]");
  const seen = await frame.evaluate(() => fetch("/seen-cookie").then((r) => r.text()));
  expect(seen).not.toContain("pier_session");
  expect(seen).not.toContain("pier_preview");
  // Its credentialed fetch of Pier's API gets nothing: Pier refuses a preview's site (403, which
  // the browser does not show the page's script, nor Playwright: it is counted in Pier's metrics).
  const refusalsBefore = await refusedSessionLists();
  const fetched = await frame.evaluate((pierUrl) => fetch(`${pierUrl}/api/sessions`, { credentials: "include" }).then((r) => `answered ${r.status}`, () => "refused"), pier.url);
  expect(fetched).toBe("refused");
  expect(await refusedSessionLists()).toBe(refusalsBefore + 1);

  // The origin and the path are shown; the app's own navigation moves the URL bar.
  const pane = page.locator("#pane-preview");
  expect(await pane.locator("[data-preview-origin]").textContent()).toBe(`http://${APP}-${session.id}.localhost:${pier.previewPort}`);
  await frame.getByRole("link", { name: "About us" }).click();
  await until("the URL bar at /about", async () => pane.getByRole("textbox", { name: "Path on the preview" }).inputValue(), (path) => path === "/about?tab=team", 10_000);
  expect(await pane.getByRole("link", { name: "Open in a new tab" }).getAttribute("href")).toBe(`/sessions/${session.id}/ports/${APP}?path=${encodeURIComponent("/about?tab=team")}`);
  await pane.getByRole("button", { name: "Back" }).click();
  await until("the URL bar back at /", async () => pane.getByRole("textbox", { name: "Path on the preview" }).inputValue(), (path) => path === "/", 10_000);
  // Each page loaded counts its own errors: the first page's one, not again with the second's.
  await pane.locator("[data-preview-status]", { hasText: "The page logged 1 console error." }).waitFor();

  // Widths: the frame as a phone would show it, then the pane's own again.
  await pane.getByLabel("Width").selectOption({ label: "Phone" });
  expect(Math.round((await pane.locator("[data-preview-frame]").boundingBox())!.width)).toBe(390);
  await pane.getByLabel("Width").selectOption({ label: "Desktop" });
  await (await appFrame(page)).getByRole("heading", { name: "Hello from the preview" }).waitFor();
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "preview-desktop.png") });
  await context.close();
  expect(problems).toEqual([]);
}, 120_000);

test("Send to chat gives the agent the page's address and the console error the app logged, quoted as the app's words", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP, 30_000);
  const problems = watchErrors(page, { consoleErrors: false });
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
  await page.locator("#pane-preview").getByRole("button", { name: "Show" }).click();
  const frame = await appFrame(page);
  await frame.getByRole("heading", { name: "Hello from the preview" }).waitFor();
  await page.waitForFunction((error) => (window as any).pierPreview?.errors().includes(error), APP_ERROR);
  expect(await page.evaluate(() => (window as any).pierPreview.errors())).toEqual([APP_ERROR]);

  fake.script({ text: "I see the widget error; looking at it." });
  const before = fake.requests.length;
  await page.locator("#pane-preview").getByRole("button", { name: "Send to chat" }).click();
  await page.locator("#pane-preview [data-preview-status]", { hasText: "Sent to the chat" }).waitFor();
  await until("the agent's turn", async () => fake.requests.length, (n) => n > before, 20_000);
  const messages = fake.requests[before]!.body.messages as Array<{ role: string; content: unknown }>;
  const last = JSON.stringify(messages.at(-1));
  expect(last).toContain(`Here is what the web app preview on port ${APP} shows`);
  expect(last).toContain(`<quoted from=\\"the app in the preview (port ${APP})\\"`);
  expect(last).toContain(APP_ERROR);
  expect(last).toContain(`Address: http://${APP}-${session.id}.localhost:${pier.previewPort}/`);
  // The error is inside the quoted block: the person's own words come before it.
  expect(last.indexOf(APP_ERROR)).toBeGreaterThan(last.indexOf("<quoted"));
  await page.locator(".chat-assistant", { hasText: "I see the widget error" }).waitFor();
  await context.close();
  expect(problems).toEqual([]);
}, 120_000);

test("at 390 px the panes are tabs, Preview among them, and the app fits the screen", async () => {
  const { context, page } = await signedInPage(browser, pier.url, cookie, PHONE, 30_000);
  const problems = watchErrors(page, { consoleErrors: false });
  await page.goto(`${pier.url}/sessions/${session.id}`);
  const tabs = page.getByRole("tablist", { name: "Session panes" });
  await tabs.waitFor();
  expect(await tabs.getByRole("tab").allTextContents()).toEqual(["Terminal", "Chat", `Preview1`, "PRs"]);
  expect(await page.locator("#pane-terminal").isVisible()).toBe(true);
  expect(await page.locator("#pane-chat").isVisible()).toBe(false);
  await tabs.getByRole("tab", { name: /Preview/ }).click();
  expect(await tabs.getByRole("tab", { name: /Preview/ }).getAttribute("aria-selected")).toBe("true");
  expect(await page.locator("#pane-terminal").isVisible()).toBe(false);
  const frame = await appFrame(page);
  await frame.getByRole("heading", { name: "Hello from the preview" }).waitFor();
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "preview-phone.png") });
  // The terminal is a tap away, and still there.
  await tabs.getByRole("tab", { name: "Terminal" }).click();
  expect(await page.locator("#pane-terminal").isVisible()).toBe(true);
  await context.close();
  expect(problems).toEqual([]);
}, 120_000);

test("the port a repository's devcontainer marks as its app opens the pane by itself, with its label", async () => {
  const APP_PORT = 4700;
  const remote = makeRemoteRepo("labelled");
  commitFiles(
    remote,
    {
      ".devcontainer/devcontainer.json": JSON.stringify({
        image: TEST_WORKSPACE_IMAGE,
        forwardPorts: [APP_PORT],
        portsAttributes: { [APP_PORT]: { label: "Storefront", onAutoForward: "openPreview" } },
      }),
    },
    "The repository names its app's port",
  );
  const labelled = await addRepo(pier, cookie, remote.path, "labelled");
  const own = await activeSession(pier, cookie, { repoId: labelled, engine: "pier" });
  const { context, page } = await signedInPage(browser, pier.url, cookie, DESKTOP, 30_000);
  try {
    await page.goto(`${pier.url}/sessions/${own.id}`);
    await page.getByRole("heading", { name: "Terminal" }).waitFor();
    const started = await pier.pier.runtime.exec({ id: own.podId!, image: "" }, ["bash", "-c", `setsid bun -e 'Bun.serve({ port: ${APP_PORT}, fetch: () => new Response("<h1>Storefront</h1>", { headers: { "content-type": "text/html" } }) })' </dev/null >/dev/null 2>&1 & echo started`], {
      cwd: own.worktreePath,
      timeoutMs: 20_000,
    });
    expect(started.stdout).toContain("started");
    const pane = page.locator("#pane-preview");
    await page.waitForFunction(() => !document.getElementById("pane-preview")!.classList.contains("collapsed"), undefined, { timeout: 10_000 });
    expect(await pane.getByLabel("Port").locator("option:checked").textContent()).toBe(`${APP_PORT} Storefront (bun)`);
    expect(await page.locator("[data-preview-offer]").count()).toBe(0);
    const origin = `http://${APP_PORT}-${own.id}.localhost:${pier.previewPort}`;
    const frame = await until("the storefront in the frame", async () => page.frames().find((f) => f.url().startsWith(`${origin}/`)) ?? null, (f) => f !== null, 20_000);
    await frame!.getByRole("heading", { name: "Storefront" }).waitFor();
  } finally {
    await context.close();
    await pier.fetch(`/api/sessions/${own.id}/end`, { method: "POST", headers: { cookie } });
    await pier.pier.pods.removeAll(labelled).catch(() => undefined);
    const docker = new Docker();
    for (const image of await docker.listImages({ filters: { reference: [`pier-env-${labelled.slice(0, 12)}`] } })) {
      await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
    }
  }
}, 180_000);
