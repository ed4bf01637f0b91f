/**
 * The Docker engine restarted under a live Pier (dockerd stopped with SIGTERM, as `systemctl
 * restart docker` does, then started again on the same data root). Pier itself keeps running.
 * The engine is one of the test's own (tests/support/second-engine.ts), never the machine's.
 *
 * Pods use the host's network: Claude Code in the pod reaches Pier's model gateway on 127.0.0.1,
 * which forwards to the fake Anthropic server; nothing else is reached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { ChatClient } from "../support/chat-client.ts";
import { ensureBareImage } from "../support/bare-image.ts";
import { DESKTOP, launchBrowser, signedInPage } from "../support/browser.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo, startSession } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-engine-restart-test-000000000000";

/** The text of the page's terminal, as xterm.js holds it. */
function screenText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const buffer = (window as any).pierTerminal.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
    return lines.join("\n");
  });
}

async function waitForScreen(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await screenText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${text.trimEnd().slice(-800)}`);
    await Bun.sleep(50);
  }
}

describe("the Docker engine restarted under live sessions", () => {
  let engine: SecondEngine;
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let browser: Browser;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });

  beforeAll(async () => {
    const image = await ensureBareImage();
    engine = await startSecondEngine();
    await engine.loadImage(image);
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...(await dockerTestEnv()), DOCKER_HOST: engine.host, PIER_WORKSPACE_IMAGE: image, PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url });
    cookie = await setUpAdmin(pier);
    const put = await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, headers()), method: "PUT" });
    expect(put.status).toBe(200);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("engine-restart").path}`, "engine-restart");
    session = await activeSession(pier, cookie, { repoId, engine: "claude-code" });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await closeForGood(pier).catch(() => undefined);
    await fake?.stop();
    await engine?.destroy();
  }, 60_000);

  test("pods back, the page's terminal reconnected by itself to a new shell in the same worktree with one note, uncommitted files intact, the Claude Code chat resumed, no session left provisioning", async () => {
    // Work in progress: an uncommitted file written in the terminal, and one chat turn.
    const term = await TermClient.connect(pier.url, session.id, headers());
    await term.run("echo kept-across-the-restart > uncommitted.txt && echo WROTE-$((6*7))", /WROTE-42/);
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "Noted: the word is heron." });
    const first = await chat.turn("Remember the word heron.", 120_000);
    expect(first.at(-1)!.interrupted).toBe(false);
    const podBefore = (await engine.docker("ps", "-q", "--no-trunc")).trim();
    // The session's page is open in a real browser.
    const { page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
    await page.goto(`${pier.url}/sessions/${session.id}`);
    await page.waitForFunction(() => (window as any).pierTerminal?.state() === "connected");
    await waitForScreen(page, /WROTE-42/, 15_000);

    // Another session is being started as the engine goes.
    const starting = (await (await startSession(pier, cookie, { repoId, engine: "pier" })).json()) as SessionJson;
    await engine.stop();
    // What the terminal's viewer hears: not "the shell exited" (which waits for a click) but a
    // close that the page's socket answers by reconnecting by itself.
    const closed = await Promise.race([term.closed, Bun.sleep(30_000).then(() => null)]);
    expect(closed, "the terminal socket was closed when the engine went").not.toBeNull();
    expect(term.controls.map((c) => c.type)).not.toContain("exited");
    expect(closed!.code).toBe(1012);

    await engine.start();
    const back = performance.now();
    // The page's terminal comes back by itself (its socket reconnects), to a shell that says it is new.
    await waitForScreen(page, /pod restarted or was removed; this is a new shell/, 60_000);
    await page.waitForFunction(() => (window as any).pierTerminal?.state() === "connected", undefined, { timeout: 60_000 });
    await page.locator(".term-screen").click();
    await page.keyboard.type("cat uncommitted.txt; echo PAGE-$((6*7))\n");
    await waitForScreen(page, /kept-across-the-restart[\s\S]*PAGE-42/, 15_000);
    console.error(`[engine-restart] the page's terminal was live again ${Math.round(performance.now() - back)} ms after the engine answered`);
    // The page reconnects as its socket does: again and again until a terminal answers.
    let again: TermClient | null = null;
    while (!again) {
      again = await TermClient.connect(pier.url, session.id, headers()).catch(() => null);
      if (!again) await Bun.sleep(250);
      expect(performance.now() - back).toBeLessThan(60_000);
    }
    await again.waitFor(/pod restarted or was removed; this is a new shell/, 30_000);
    await again.run("pwd; cat uncommitted.txt; echo TERM-$((6*7))", /kept-across-the-restart\r\nTERM-42/);
    expect(again.text).toContain(session.worktreePath);
    expect(again.text.match(/pod restarted or was removed; this is a new shell/g)).toHaveLength(1);
    // The same pod, started again by its restart policy (or by Pier): nothing was re-created.
    expect((await engine.docker("ps", "-q", "--no-trunc")).trim()).toBe(podBefore);

    // The chat goes on with the same conversation: Claude Code resumed it.
    fake.script({ text: "The word was heron." });
    const second = await chat.turn("What was the word?", 120_000);
    expect(second.find((e) => e.type === "assistant_message")?.text).toBe("The word was heron.");
    expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).toContain("Remember the word heron.");
    console.error(`[engine-restart] the chat answered ${Math.round(performance.now() - back)} ms after the engine answered`);

    const state = (await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as SessionJson;
    expect(state.state).toBe("active");
    // The session started as the engine went is not left provisioning: it became active, or failed saying why.
    let settled = starting;
    for (const deadline = Date.now() + 60_000; settled.state === "provisioning" && Date.now() < deadline; await Bun.sleep(100)) {
      settled = (await (await pier.fetch(`/api/sessions/${starting.id}`, { headers: { cookie } })).json()) as SessionJson;
    }
    console.error(`[engine-restart] the session started as the engine went is ${settled.state}${settled.error ? `: ${settled.error}` : ""}`);
    expect(["active", "failed"]).toContain(settled.state);
    // Why, in one of two sentences: the engine stopped answering, or (as dockerd stops its
    // containers before it stops answering) the pod stopped under the start, to be made again at
    // the next action.
    if (settled.state === "failed") expect(settled.error).toMatch(/The Docker engine is not answering|^The pod is not running \(.*\); it is made again at the next action\.$/);
    term.close();
    again.close();
    chat.close();
  }, 240_000);
});
