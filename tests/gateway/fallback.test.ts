/**
 * Where pods cannot reach Pier (network none), there is no gateway: gatewayEnvFor gives Claude
 * Code's process the real credential in its own environment, unmetered, and the page of a session
 * whose chat is Claude Code says so; the worktree gets no Claude Code settings pointing at a gateway
 * nobody can reach.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-fallback-key-00000000000000";
const OAUTH_TOKEN = "sk-ant-oat01-fallback-subscription-0000";

describe("no gateway where pods have no network", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-gateway-none-"));
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;

  beforeAll(async () => {
    pier = await startTestPier({ ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: "http://127.0.0.1:9" }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("ungated").path}`, "ungated");
    session = await activeSession(pier, cookie, { repoId, engine: "claude-code" });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the real credential goes to Claude Code's process alone, unmetered, with a notice; a subscription token as CLAUDE_CODE_OAUTH_TOKEN", async () => {
    expect(pier.pier.podUrl()).toBeNull();
    const withKey = await pier.pier.gatewayEnvFor(pier.pier.sessions.get(session.id));
    expect(withKey).toMatchObject({ meteredByGateway: false, env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: "http://127.0.0.1:9" } });
    expect(withKey.notice).toContain("not metered");
    await pier.fetch("/api/settings", { ...json({ claudeCodeOauthToken: OAUTH_TOKEN }, { cookie }), method: "PUT" });
    const withToken = await pier.pier.gatewayEnvFor(pier.pier.sessions.get(session.id));
    expect(withToken.env.CLAUDE_CODE_OAUTH_TOKEN).toBe(OAUTH_TOKEN);
    expect(withToken.env.ANTHROPIC_API_KEY).toBeUndefined();
    // Masked like the other secrets.
    const settings = (await (await pier.fetch("/api/settings", { headers: { cookie } })).json()) as Record<string, unknown>;
    expect(settings.claudeCodeOauthToken).toEqual({ set: true, mask: "••••••••0000", source: "settings" });
    expect(JSON.stringify(settings)).not.toContain(OAUTH_TOKEN);
  });

  test("the session page says Claude Code is not metered here, and the worktree has no gateway settings", async () => {
    const page = await (await pier.fetch(`/sessions/${session.id}`, { headers: { cookie } })).text();
    expect(page).toContain('data-notice="gateway-unreachable"');
    expect(page).toContain("not metered");
    const look = await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", "ls -a .claude 2>&1; echo done"], { cwd: session.worktreePath, timeoutMs: 30_000 });
    expect(look.stdout).not.toContain("settings.local.json");
  });
});
