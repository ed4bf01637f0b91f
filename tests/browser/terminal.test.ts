import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, DESKTOP, PHONE, launchBrowser, sidewaysOverflow, signedInPage } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

let pier: TestPier;
let browser: Browser;
let cookie: string;
let repoId: string;
let session: SessionJson;
const problems: string[] = [];

beforeAll(async () => {
  pier = await startTestPier(await dockerTestEnv());
  cookie = await setUpAdmin(pier);
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("shell").path}`, "shell");
  session = await activeSession(pier, cookie, { repoId });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (pier) await closeForGood(pier);
}, 60_000);

async function openSession(viewport: { width: number; height: number }, path = `/sessions/${session.id}`): Promise<Page> {
  const { page } = await signedInPage(browser, pier.url, cookie, viewport);
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(pier.url + path);
  return page;
}

/** The text of the terminal's whole buffer, as xterm.js holds it. */
function screenText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const buffer = (window as any).pierTerminal.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
    return lines.join("\n");
  });
}

async function waitForScreen(page: Page, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await screenText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`terminal never showed ${pattern}; it shows:\n${text.trimEnd().slice(-800)}`);
    await Bun.sleep(50);
  }
}

async function connected(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).pierTerminal?.state() === "connected");
}

test("type a command in the terminal and see its output", async () => {
  const page = await openSession(DESKTOP);
  await connected(page);
  await page.locator(".xterm").click();
  await page.keyboard.type("echo typed-$((20+22))");
  await page.keyboard.press("Enter");
  await waitForScreen(page, /typed-42/);
  // Colours and Unicode pass through untouched.
  await page.keyboard.type("printf '\\033[38;2;255;100;0mtrue-colour\\033[0m ✓ 日本\\n'");
  await page.keyboard.press("Enter");
  await waitForScreen(page, /true-colour ✓ 日本/);
  await page.screenshot({ path: join(ARTIFACTS, "terminal-desktop.png") });

  // The mouse wheel scrolls back through earlier output (tmux does not get in the way).
  await page.keyboard.type("seq 1 300");
  await page.keyboard.press("Enter");
  await waitForScreen(page, /\n300\n/);
  const bottom = await page.evaluate(() => (window as any).pierTerminal.term.buffer.active.viewportY);
  await page.locator(".xterm-screen").hover();
  for (let notch = 0; notch < 10; notch++) await page.mouse.wheel(0, -120);
  await page.waitForFunction((start) => (window as any).pierTerminal.term.buffer.active.viewportY < start - 10, bottom);
  await page.context().close();
  expect(problems).toEqual([]);
}, 60_000);

test("a notice from Pier (the disk watch stopped something) shows as a line of its own in the terminal, escape sequences and all made harmless", async () => {
  const page = await openSession(DESKTOP);
  await connected(page);
  pier.pier.hosts.get(session.id)!.sayInTerminal("Pier stopped “yes” \x1b[2J(pid 7) for the disk's sake.");
  const screen = await waitForScreen(page, /Pier: Pier stopped “yes” \?\[2J\(pid 7\) for the disk's sake\./);
  expect(screen).toContain("typed-42");
  await page.context().close();
  expect(problems).toEqual([]);
}, 60_000);

test("on a 390×844 phone the keys bar sends Esc, arrows (in both cursor modes) and ^C, and the input bar runs a command", async () => {
  const page = await openSession(PHONE);
  await connected(page);
  const pane = page.locator("#pane-terminal");
  const key = (name: string) => pane.getByRole("button", { name, exact: true }).click();
  const inputBar = pane.getByRole("textbox", { name: "Terminal input" });
  const send = async (text: string) => {
    await inputBar.fill(text);
    await pane.getByRole("button", { name: "Send", exact: true }).click();
  };

  await send("echo bar-$((3*3))");
  await waitForScreen(page, /bar-9/);

  // cat -v shows control bytes as text once the line is sent.
  await send("cat -v");
  await Bun.sleep(300);
  await key("Esc");
  await key("Up");
  await key("Left");
  await send("");
  await waitForScreen(page, /\^\[\^\[\[A\^\[\[D/);
  await key("Ctrl+C");
  await send("echo after-cat-$((1+1))");
  await waitForScreen(page, /after-cat-2/);

  // With the keypad in application mode, arrows are ESC O x.
  await send("tput smkx; cat -v");
  await Bun.sleep(300);
  await key("Down");
  await key("Right");
  await send("");
  await waitForScreen(page, /\^\[OB\^\[OC/);
  await key("Ctrl+C");
  await send("tput rmkx; echo calm-$((2+2))");
  await waitForScreen(page, /calm-4/);

  // The sticky Ctrl turns the next key into its control character.
  await send("sleep 100");
  await Bun.sleep(300);
  await key("Ctrl");
  await page.locator(".xterm-helper-textarea").focus();
  await page.keyboard.type("c");
  await send("echo woke-$((5+5))");
  await waitForScreen(page, /woke-10/);

  const overflow = await sidewaysOverflow(page);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(ARTIFACTS, "terminal-phone.png") });
  await page.context().close();
  expect(problems).toEqual([]);
}, 90_000);

test("the output page replays the recording, seeks and searches", async () => {
  const page = await openSession(DESKTOP, `/sessions/${session.id}/output`);
  await page.waitForFunction(() => (window as any).pierReplay?.state().duration > 0);
  await page.getByRole("combobox", { name: "Speed" }).selectOption({ label: "8×" });
  await page.getByRole("button", { name: "Play" }).click();
  await page.waitForFunction(() => {
    const s = (window as any).pierReplay.state();
    return !s.playing && s.time >= s.duration;
  }, undefined, { timeout: 60_000 });
  const replayed = await page.evaluate(() => {
    const buffer = (window as any).pierReplay.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
    return lines.join("\n");
  });
  expect(replayed).toContain("typed-42");
  expect(replayed).toContain("bar-9");

  await page.getByRole("searchbox", { name: "Search output" }).fill("woke-10");
  await page.getByRole("button", { name: /woke-10/ }).first().click();
  const seeked = await page.evaluate(() => (window as any).pierReplay.state());
  expect(seeked.time).toBeGreaterThan(0);
  expect(seeked.time).toBeLessThanOrEqual(seeked.duration);
  await page.screenshot({ path: join(ARTIFACTS, "replay-desktop.png") });

  const download = await pier.fetch(`/api/sessions/${session.id}/recording?download=1`, { headers: { cookie } });
  expect(download.headers.get("content-disposition")).toContain("attachment");
  await page.context().close();
  expect(problems).toEqual([]);
}, 90_000);

test("signing out elsewhere stops the page's terminal and chat, which say so and stop retrying", async () => {
  const other = await signIn(pier, ADMIN.username, ADMIN.password);
  const { page } = await signedInPage(browser, pier.url, other, DESKTOP);
  await page.goto(`${pier.url}/sessions/${session.id}`);
  await connected(page);
  await page.waitForFunction(() => (window as any).pierChat?.state().connection === "connected");
  expect((await pier.fetch("/api/auth/logout", { method: "POST", headers: { cookie: other } })).status).toBe(204);
  await page.waitForFunction(() => (window as any).pierTerminal.state() === "signed_out" && (window as any).pierChat.state().connection === "signed_out");
  await page.getByRole("link", { name: "Sign in again" }).first().waitFor();
  await Bun.sleep(1500);
  expect(await page.evaluate(() => [(window as any).pierTerminal.state(), (window as any).pierChat.state().connection])).toEqual(["signed_out", "signed_out"]);
  await page.context().close();
}, 60_000);

test("ending the session tells the open terminal, which stops and links to the output", async () => {
  const page = await openSession(DESKTOP);
  await connected(page);
  await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
  await page.waitForFunction(() => (window as any).pierTerminal.state() === "ended");
  await page.getByRole("link", { name: /output/i }).first().waitFor();
  await page.context().close();
}, 60_000);
