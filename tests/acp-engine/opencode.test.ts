/**
 * The ACP engine with a real agent: opencode from npm (supplied into the pod by pier.agents, the
 * test workspace image has none) speaks the Agent Client Protocol to Pier and asks the fake
 * Anthropic server through Pier's gateway. The pods use the host's network (PIER_POD_NETWORK=host)
 * so that opencode in the pod reaches Pier on 127.0.0.1; nothing else is reached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { costOf, priceOf } from "../../src/costs/costs.ts";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError, startSession } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-acp-engine-test-00000000000000";
const MODEL = "claude-sonnet-4-6";

/** opencode names its sessions with a request of its own; those are answered apart from the script. */
const isTitleRequest = (body: any) => JSON.stringify(body.system ?? "").includes("title") && !JSON.stringify(body.tools ?? []).includes("bash");

describe("opencode as the chat engine, over ACP", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-acp-engine-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    const env = { ...(await dockerTestEnv()), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url };
    pier = await startTestPier(env, dataDir);
    cookie = await setUpAdmin(pier);
    const put = await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie, origin: pier.url }), method: "PUT" });
    expect(put.status).toBe(200);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("acp-engine").path}`, "acp-engine");
  }, 600_000);

  afterAll(async () => {
    if (session) await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    await pier.pier.pods.removeAll(repoId).catch(() => undefined);
    await pier.close();
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  test('engine "acp" needs an agent that exists; anything else is a 400 that starts nothing', async () => {
    for (const body of [
      { repoId, engine: "acp" },
      { repoId, engine: "acp", agent: "nobody" },
      { repoId, engine: "pier", agent: "opencode" },
    ]) {
      const error = await apiError(await startSession(pier, cookie, body));
      expect(error.status).toBe(400);
      expect(error.code).toBe("invalid_agent");
    }
    expect(await (await pier.fetch("/api/sessions", { headers: { cookie } })).json()).toHaveLength(0);
    const put = await pier.fetch("/api/settings", { ...json({ defaultEngine: "acp" }, { cookie, origin: pier.url }), method: "PUT" });
    expect(put.status).toBe(400);

    session = await activeSession(pier, cookie, { repoId, model: MODEL, engine: "acp", agent: "opencode" });
    expect(session.engine).toBe("acp");
    expect(session.agent).toBe("opencode");
  }, 300_000);

  test("a turn streams opencode's text back and costs what the price table says of the fake's usage", async () => {
    fake.scriptWhen(isTitleRequest, { text: "Greeting" }, { text: "Greeting" }, { text: "Greeting" });
    fake.script({ text: "Hello from opencode, through Pier's gateway.", usage: { input_tokens: 1000, output_tokens: 200 } });
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    // The first turn waits for opencode's build to be fetched from the registry (once per machine).
    const events = await chat.turn("Say hello.", 600_000);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("user_message");
    expect(types).toContain("turn_start");
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect(events.filter((e) => e.type === "text_delta").length).toBeGreaterThan(1);
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("Hello from opencode, through Pier's gateway.");
    const main = fake.requests.filter((r) => !isTitleRequest(r.body));
    expect(main.at(-1)!.body.model).toBe(MODEL);
    expect(JSON.stringify(main.at(-1)!.body.messages)).toContain("Say hello.");
    const end = events.at(-1)!;
    expect(end.type).toBe("turn_end");
    expect(end.interrupted).toBe(false);
    const price = priceOf(pier.pier.db, MODEL)!;
    expect(end.costUsd).toBeGreaterThanOrEqual(costOf(price, { inputTokens: 1000, outputTokens: 200, cacheWriteTokens: 0, cacheReadTokens: 0 }) - 1e-12);
    chat.close();
  }, 900_000);
});
