/**
 * One of two Docker engines stops answering (dockerd stopped with SIGTERM) under live sessions, then
 * comes back. The engine stopped is the test's own second engine (tests/support/second-engine.ts);
 * the machine's engine is Pier's local one and is never stopped. Pods are on the host network: the
 * second engine's fetch the mirror from Pier over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { ensureBareImage } from "../support/bare-image.ts";
import { DESKTOP, launchBrowser, signedInPage } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

describe("one of two Docker engines down, then back", () => {
  let engine: SecondEngine;
  let pier: TestPier;
  let browser: Browser;
  let cookie: string;
  let remote: SessionJson;
  let local: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });
  const call = (method: string, path: string, body?: unknown) =>
    pier.fetch(path, { method, headers: { cookie, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const health = async () => (await (await pier.fetch("/healthz")).json()) as { ok: boolean; engine?: string; dockerEngines?: Record<string, string> };

  beforeAll(async () => {
    const image = await ensureBareImage();
    engine = await startSecondEngine();
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: image, PIER_POD_NETWORK: "host" });
    cookie = await setUpAdmin(pier);
    expect((await call("POST", "/api/config/docker-engines", { name: "second", host: engine.host })).status).toBe(201);
    const onSecond = await addRepo(pier, cookie, `file://${makeRemoteRepo("on-second").path}`, "on-second");
    expect((await call("PATCH", `/api/repos/${onSecond}`, { dockerEngine: "second" })).status).toBe(200);
    const onLocal = await addRepo(pier, cookie, `file://${makeRemoteRepo("on-local").path}`, "on-local");
    expect((await call("PATCH", `/api/repos/${onLocal}`, { dockerEngine: "local" })).status).toBe(200);
    remote = await activeSession(pier, cookie, { repoId: onSecond });
    local = await activeSession(pier, cookie, { repoId: onLocal });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await closeForGood(pier).catch(() => undefined);
    await engine?.destroy();
  }, 120_000);

  test("its session's page says so within 10 s naming it, /healthz names it, the local engine's session carries on; back, the notice goes and its terminal answers", async () => {
    expect(await health()).toMatchObject({ ok: true, engine: "ok", dockerEngines: { local: "ok", second: "ok" } });
    const { page: remotePage } = await signedInPage(browser, pier.url, cookie, DESKTOP);
    await remotePage.goto(`${pier.url}/sessions/${remote.id}`);
    const { page: localPage } = await signedInPage(browser, pier.url, cookie, DESKTOP);
    await localPage.goto(`${pier.url}/sessions/${local.id}`);
    const remoteBanner = remotePage.locator("[data-engine-banner]");
    const localBanner = localPage.locator("[data-engine-banner]");
    expect(await remoteBanner.isHidden()).toBe(true);

    await engine.stop();
    const stopped = performance.now();

    // Told, on the page of the session whose engine it is, within 10 s and by name.
    await remoteBanner.waitFor({ state: "visible", timeout: 10_000 });
    console.error(`[second-engine-down] the session's page said so ${Math.round(performance.now() - stopped)} ms after the engine stopped`);
    expect(await remoteBanner.textContent()).toContain("The Docker engine second is not answering");
    expect(await health()).toMatchObject({ ok: false, engine: "unreachable", dockerEngines: { local: "ok", second: "unreachable" } });

    // The session on the local engine carries on: its terminal echoes, its page says nothing.
    const term = await TermClient.connect(pier.url, local.id, headers());
    const asked = performance.now();
    await term.run("echo LOCAL-$((40+2))", /LOCAL-42/);
    console.error(`[second-engine-down] the local session's echo came back in ${Math.round(performance.now() - asked)} ms while the second engine was down`);
    term.close();
    await Bun.sleep(6_000);
    expect(await localBanner.isHidden()).toBe(true);

    // The dead engine's calls fail at once with a sentence naming it, rather than waiting on it.
    const started = performance.now();
    const exec = await pier.pier.runtime.inspectPod({ repoId: remote.repoId, userId: remote.userId }).then(() => null, (error: Error) => error.message);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(exec).toContain("The Docker engine second is not answering");

    // Back: the notice goes and the session's terminal answers in its pod again.
    await engine.start();
    const back = performance.now();
    await remoteBanner.waitFor({ state: "hidden", timeout: 20_000 });
    expect(await health()).toMatchObject({ ok: true, engine: "ok", dockerEngines: { second: "ok" } });
    let again: TermClient | null = null;
    while (!again) {
      again = await TermClient.connect(pier.url, remote.id, headers()).catch(() => null);
      if (!again) await Bun.sleep(250);
      expect(performance.now() - back).toBeLessThan(60_000);
    }
    await again.run("echo BACK-$((40+2))", /BACK-42/, 30_000);
    console.error(`[second-engine-down] the session's terminal answered ${Math.round(performance.now() - back)} ms after the engine did`);
    again.close();
  }, 240_000);
});
