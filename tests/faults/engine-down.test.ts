/**
 * The Docker engine down and not coming back (dockerd stopped with SIGTERM and left stopped),
 * then back after all. Pier keeps running throughout. The engine is one of the test's own
 * (tests/support/second-engine.ts), never the machine's; pods have no network.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { ensureBareImage } from "../support/bare-image.ts";
import { DESKTOP, launchBrowser, signedInPage } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo, startSession, waitForState } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

describe("the Docker engine down and not coming back", () => {
  let engine: SecondEngine;
  let pier: TestPier;
  let browser: Browser;
  let cookie: string;
  let repoId: string;
  let live: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });
  const health = async () => {
    const res = await pier.fetch("/healthz");
    return { status: res.status, body: (await res.json()) as { ok: boolean; engine?: string; db: string } };
  };

  beforeAll(async () => {
    const image = await ensureBareImage();
    engine = await startSecondEngine();
    await engine.loadImage(image);
    pier = await startTestPier({ ...(await dockerTestEnv()), DOCKER_HOST: engine.host, PIER_WORKSPACE_IMAGE: image });
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("engine-down").path}`, "engine-down");
    live = await activeSession(pier, cookie, { repoId });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await closeForGood(pier).catch(() => undefined);
    await engine?.destroy();
  }, 60_000);

  test("a session's start fails within 10 s with a sentence, /healthz says engine unreachable, an open page shows a banner; once the engine is back, Pier carries on without a restart", async () => {
    expect((await health()).body).toMatchObject({ ok: true, engine: "ok" });
    const { page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
    await page.goto(`${pier.url}/`);
    const banner = page.locator("[data-engine-banner]");
    expect(await banner.isHidden()).toBe(true);

    await engine.stop();

    // Told: 200 with ok:false (Pier itself serves on; see README), and the engine named.
    const down = await health();
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({ ok: false, db: "ok", engine: "unreachable" });

    // Told: a new session fails, and fast, with a sentence rather than a spinner.
    const asked = performance.now();
    const res = await startSession(pier, cookie, { repoId });
    expect(res.status).toBe(201);
    const failed = await waitForState(pier, cookie, ((await res.json()) as SessionJson).id, "failed", 10_000);
    expect(performance.now() - asked).toBeLessThan(10_000);
    expect(failed.error).toContain("The Docker engine is not answering");
    // The live session is not left half-way: it stays active, its work waits for the engine.
    expect(((await (await pier.fetch(`/api/sessions/${live.id}`, { headers: { cookie } })).json()) as SessionJson).state).toBe("active");

    // Told: the open page shows the banner without a reload.
    await banner.waitFor({ state: "visible", timeout: 20_000 });
    expect(await banner.textContent()).toContain("The Docker engine is not answering");

    // Held: the engine comes back and Pier carries on, without a restart.
    await engine.start();
    const back = performance.now();
    expect((await health()).body).toMatchObject({ ok: true, engine: "ok" });
    await banner.waitFor({ state: "hidden", timeout: 20_000 });
    const again = await activeSession(pier, cookie, { repoId });
    console.error(`[engine-down] a new session was active ${Math.round(performance.now() - back)} ms after the engine answered`);
    let term: TermClient | null = null;
    while (!term) {
      term = await TermClient.connect(pier.url, live.id, headers()).catch(() => null);
      if (!term) await Bun.sleep(250);
      expect(performance.now() - back).toBeLessThan(60_000);
    }
    await term.run("echo LIVE-$((40+2))", /LIVE-42/);
    console.error(`[engine-down] the live session's terminal answered ${Math.round(performance.now() - back)} ms after the engine answered`);
    term.close();
    expect(again.state).toBe("active");
  }, 180_000);
});
