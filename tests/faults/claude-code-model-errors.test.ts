/**
 * Faults of the model service under Claude Code, for real: the Claude Code CLI in a test pod (host
 * network) asks Pier's gateway, which asks the suite's fake API. Claude Code retries 429, 529 and
 * 5xx itself, honouring retry-after (the gateway passes status and headers through as they came);
 * what Pier owes the person is to say so while it waits, and to show the answer once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { claudeCodeTestImage } from "../support/claude-code.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-claude-code-faults-00000000000";
const ANSWER = "The whole answer, streamed in several pieces, arrives exactly once.";

describe("faults of the model service, under Claude Code", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-cc-model-faults-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    const env = { ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: await claudeCodeTestImage(), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url };
    pier = await startTestPier(env, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ defaultEngine: "claude-code", anthropicApiKey: API_KEY }, headers()), method: "PUT" });
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("cc-model-faults").path}`, "cc-model-faults");
    session = await activeSession(pier, cookie, { repoId, model: "claude-sonnet-4-6" });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("broke: 529 and 429 with retry-after, then the answer cut off mid-stream — held: the person is told each wait and reads the answer once", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ status: 529, retryAfterSeconds: 1 }, { status: 429, retryAfterSeconds: 1 }, { text: ANSWER, cut: { afterChunks: 2, how: "drop" } }, { text: ANSWER });
    const events = await chat.turn("Are you there?", 120_000);
    const retries = events.filter((e) => e.type === "retrying");
    expect(retries.map((e) => e.reason).slice(0, 2)).toEqual(["The model service is overloaded (529)", "The model service is busy (429)"]);
    expect(retries.length).toBeGreaterThanOrEqual(3);
    // What a viewer shows: the deltas since the last retry that discarded the failed try's.
    let shown = "";
    for (const event of events) {
      if (event.type === "text_delta") shown += event.text;
      if (event.type === "retrying" && event.discardStreamed) shown = "";
    }
    expect(shown).toBe(ANSWER);
    expect(events.filter((e) => e.type === "assistant_message").map((e) => e.text)).toEqual([ANSWER]);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    chat.close();
  }, 150_000);
});
