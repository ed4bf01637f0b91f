/**
 * A credential refused at Pier's gateway, told by the ACP engine in Pier's words: opencode (from
 * npm, supplied into the pod) defined on OpenAI's service and then on Gemini's, each against its
 * fake through the gateway. The key Pier holds for the person is wrong (OpenAI), or there is none
 * (Gemini): the turn shows Pier's sentence once, with where to fix it, whatever opencode makes of
 * the refusal. The pods use the host's network so that opencode reaches Pier on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeGemini, startFakeGemini } from "../support/fake-gemini.ts";
import { type FakeOpenAi, startFakeOpenAi } from "../support/fake-openai.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

describe("a credential refused at the gateway, in an ACP agent's turn", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-acp-refusals-"));
  let openai: FakeOpenAi;
  let gemini: FakeGemini;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  const sessionIds: string[] = [];

  beforeAll(async () => {
    openai = await startFakeOpenAi({ apiKeys: ["sk-openai-right-000000000000"] });
    gemini = await startFakeGemini({ apiKeys: ["gemini-right-0000000000000"] });
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host", OPENAI_BASE_URL: openai.url, GEMINI_BASE_URL: gemini.url }, dataDir);
    cookie = await setUpAdmin(pier);
    const put = await pier.fetch("/api/settings", { ...json({ openaiApiKey: "sk-openai-wrong-000000000000" }, { cookie }), method: "PUT" });
    expect(put.status).toBe(200);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("acp-refusals").path}`, "acp-refusals");
  }, 300_000);

  afterAll(async () => {
    for (const id of sessionIds) await pier.fetch(`/api/sessions/${id}/end`, json({}, { cookie }));
    await closeForGood(pier);
    await openai.stop();
    await gemini.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  for (const [service, model, code, says] of [
    ["openai", "gpt-5.4", "key_refused", "The OpenAI API refused the API key Pier sent for you"],
    ["gemini", "gemini-2.5-flash", "no_credential", "No Gemini API key is set in Pier for you"],
  ] as const) {
    test(`opencode on ${service}: the turn says Pier's sentence once (${code})`, async () => {
      const patched = await pier.fetch("/api/config/agents/opencode", { ...json({ service }, { cookie }), method: "PATCH" });
      expect(patched.status).toBe(200);
      const session = await activeSession(pier, cookie, { repoId, engine: "acp", agent: "opencode", model });
      sessionIds.push(session.id);
      const fake = service === "openai" ? openai : gemini;
      const asked = fake.requests.length;
      const chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
      // The first turn waits for opencode's build to be fetched from the registry (once per machine).
      const events = await chat.turn("Say hello.", 600_000);
      const errors = events.filter((e) => e.type === "error");
      const pier_ = errors.filter((e) => e.code === code);
      expect(pier_).toHaveLength(1);
      expect(pier_[0]!.message).toContain(says);
      expect(pier_[0]!.tokensUrl).toBe("/tokens");
      expect(events.at(-1)!.type).toBe("turn_end");
      // The refused key reached the service (OpenAI's); none was sent where there was none (Gemini's).
      expect(fake.requests.length > asked).toBe(service === "openai");
      chat.close();
    }, 900_000);
  }
});
