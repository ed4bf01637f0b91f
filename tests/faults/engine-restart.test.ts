/**
 * The Docker engine restarted under a live Pier (dockerd stopped with SIGTERM, as `systemctl
 * restart docker` does, then started again on the same data root). Pier itself keeps running.
 * The engine is one of the test's own (tests/support/second-engine.ts), never the machine's.
 *
 * Pods use the host's network: Claude Code in the pod reaches Pier's model gateway on 127.0.0.1,
 * which forwards to the fake Anthropic server; nothing else is reached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChatClient } from "../support/chat-client.ts";
import { ensureBareImage } from "../support/bare-image.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-engine-restart-test-000000000000";

describe("the Docker engine restarted under live sessions", () => {
  let engine: SecondEngine;
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let cookie: string;
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
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("engine-restart").path}`, "engine-restart");
    session = await activeSession(pier, cookie, { repoId, engine: "claude-code" });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier).catch(() => undefined);
    await fake?.stop();
    await engine?.destroy();
  });

  test("pods back, the terminal reconnected to a new shell in the same worktree with one note, uncommitted files intact, the Claude Code chat resumed", async () => {
    // Work in progress: an uncommitted file written in the terminal, and one chat turn.
    const term = await TermClient.connect(pier.url, session.id, headers());
    await term.run("echo kept-across-the-restart > uncommitted.txt && echo WROTE-$((6*7))", /WROTE-42/);
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "Noted: the word is heron." });
    const first = await chat.turn("Remember the word heron.", 120_000);
    expect(first.at(-1)!.interrupted).toBe(false);
    const podBefore = (await engine.docker("ps", "-q", "--no-trunc")).trim();

    await engine.stop();
    // What the terminal's viewer hears: not "the shell exited" (which waits for a click) but a
    // close that the page's socket answers by reconnecting by itself.
    const closed = await Promise.race([term.closed, Bun.sleep(30_000).then(() => null)]);
    expect(closed, "the terminal socket was closed when the engine went").not.toBeNull();
    expect(term.controls.map((c) => c.type)).not.toContain("exited");
    expect(closed!.code).toBe(1012);

    await engine.start();
    const back = performance.now();
    // The page reconnects as its socket does: again and again until a terminal answers.
    let again: TermClient | null = null;
    while (!again) {
      again = await TermClient.connect(pier.url, session.id, headers()).catch(() => null);
      if (!again) await Bun.sleep(250);
      expect(performance.now() - back).toBeLessThan(60_000);
    }
    await again.waitFor(/the pod restarted, so this is a new shell/, 30_000);
    await again.run("pwd; cat uncommitted.txt", /kept-across-the-restart/);
    const recovered = Math.round(performance.now() - back);
    console.error(`[engine-restart] the terminal was live again ${recovered} ms after the engine answered`);
    expect(again.text).toContain(session.worktreePath);
    expect(again.text.match(/the pod restarted, so this is a new shell/g)).toHaveLength(1);
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
    term.close();
    again.close();
    chat.close();
  }, 240_000);
});
