/**
 * A Claude subscription token that has expired or been revoked: the API answers 401 to it. Claude
 * Code, the engine that runs on such a token, runs for real in a test pod (host network, so it
 * reaches Pier's gateway and the gateway the fake API on 127.0.0.1). The session must say
 * "your Claude sign-in has expired: paste a new token" with a link to Tokens, raise "needs you",
 * and answer the next message once a new token is saved, with no restart of anything.
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

const API_KEY = "sk-ant-instance-key-not-used-000000";
const EXPIRED_TOKEN = "sk-ant-oat01-expired-subscription-token-0000";
const NEW_TOKEN = "sk-ant-oat01-fresh-subscription-token-00000000";

describe("an expired Claude sign-in", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-expired-sign-in-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });
  const saveToken = async (token: string) => {
    const res = await pier.fetch("/api/me/credentials", { ...json({ claudeCodeOauthToken: token }, headers()), method: "PUT" });
    expect(res.status).toBe(200);
  };
  const attention = async () => ((await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { attention: string | null }).attention;

  beforeAll(async () => {
    // The API takes only the new token: the one the person saved first has expired.
    fake = await startFakeAnthropic({ apiKey: API_KEY, oauthToken: NEW_TOKEN });
    const env = { ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: await claudeCodeTestImage(), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url };
    pier = await startTestPier(env, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ defaultEngine: "claude-code" }, headers()), method: "PUT" });
    await saveToken(EXPIRED_TOKEN);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("expired-sign-in").path}`, "expired-sign-in");
    session = await activeSession(pier, cookie, { repoId, model: "claude-sonnet-4-6" });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("broke: the API refused the person's subscription token (401) — told: sign in again, with a link to Tokens and needs you; held: a new token works at the next message", async () => {
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    // Claude Code would retry a 401 for minutes before saying anything; the turn ends well within one.
    const events = await chat.turn("Hello?", 60_000);
    // Asked once: Claude Code is not left retrying a refused token.
    expect(fake.requests.filter((r) => r.headers.authorization === `Bearer ${EXPIRED_TOKEN}`)).toHaveLength(1);
    const errors = events.filter((e) => e.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "sign_in_expired", tokensUrl: "/tokens" });
    expect(errors[0]!.message).toContain("Your Claude sign-in has expired: paste a new token");
    expect(await attention()).toBe("sign_in");
    // The page the link leads to is where a person saves their token.
    const tokens = await (await pier.fetch("/tokens", { headers: { cookie } })).text();
    expect(tokens).toContain("Claude Code OAuth token");

    await saveToken(NEW_TOKEN);
    fake.script({ text: "Signed in again, and answering." });
    const next = await chat.turn("And now?", 120_000);
    expect(next.filter((e) => e.type === "error")).toEqual([]);
    expect(next.filter((e) => e.type === "assistant_message").map((e) => e.text)).toEqual(["Signed in again, and answering."]);
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${NEW_TOKEN}`);
    chat.close();
  }, 240_000);
});
