/**
 * What an ACP agent's model service decides beyond its requests: the model a session or a run of
 * it may ask for (its service's own, none for an agent on `none`; another is a 400 that starts
 * nothing), and the session page's word that its cost is not metered, for an agent Pier does not
 * point at a model service and where pods cannot reach Pier's gateway. The agents are commands
 * defined here (none of them is started: no turn is sent); pods have no network, as in every test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo, apiError, startSession } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

describe("an ACP agent's model service", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-agent-service-"));
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  const sessionCount = async () => ((await (await pier.fetch("/api/sessions", { headers: { cookie } })).json()) as unknown[]).length;

  beforeAll(async () => {
    pier = await startTestPier(await dockerTestEnv(), dataDir);
    cookie = await setUpAdmin(pier);
    for (const agent of [
      { id: "on-openai", name: "On OpenAI", command: "on-openai", service: "openai" },
      { id: "on-gemini", name: "On Gemini", command: "on-gemini", service: "gemini" },
      { id: "unmetered", name: "Unmetered", command: "unmetered", service: "none" },
    ]) {
      const res = await pier.fetch("/api/config/agents", json(agent, { cookie }));
      expect(res.status).toBe(201);
    }
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("agent-service").path}`, "agent-service");
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("a session asking a model of another service than its agent's, or any for an agent on none, is a 400 naming the model", async () => {
    for (const [agent, model, says] of [
      ["on-openai", "claude-sonnet-4-6", /not an OpenAI model.*gpt-5\.4/],
      ["on-gemini", "gpt-5.4", /not a Gemini model.*gemini-2\.5-flash/],
      ["opencode", "gemini-2.5-pro", /not an Anthropic model.*claude-/],
      ["unmetered", "claude-sonnet-4-6", /leave the model out/],
    ] as const) {
      const error = await apiError(await startSession(pier, cookie, { repoId, engine: "acp", agent, model }));
      expect(error).toMatchObject({ status: 400, code: "model_not_for_agent" });
      expect(error.message).toMatch(says);
    }
    // A model not in the price table stays the 400 it was.
    expect(await apiError(await startSession(pier, cookie, { repoId, engine: "acp", agent: "on-openai", model: "gpt-unknown" }))).toMatchObject({ status: 400, code: "invalid_model" });
    expect(await sessionCount()).toBe(0);
  });

  test("without a model, an agent gets its service's: the default when it is of that service, else the first listed; none on none", async () => {
    const openai = (await (await startSession(pier, cookie, { repoId, engine: "acp", agent: "on-openai" })).json()) as { model: string | null };
    expect(openai.model).toMatch(/^gpt-/);
    const anthropic = (await (await startSession(pier, cookie, { repoId, engine: "acp", agent: "opencode" })).json()) as { model: string | null };
    expect(anthropic.model).toBe("claude-sonnet-4-6");
    const asked = (await (await startSession(pier, cookie, { repoId, engine: "acp", agent: "on-gemini", model: "gemini-2.5-pro" })).json()) as { model: string | null };
    expect(asked.model).toBe("gemini-2.5-pro");
    const none = (await (await startSession(pier, cookie, { repoId, engine: "acp", agent: "unmetered" })).json()) as { model: string | null };
    expect(none.model).toBeNull();
  }, 120_000);

  test("a run's attempt asking a model of another service than its agent's is refused the same way, starting no run", async () => {
    const patched = await pier.fetch(`/api/repos/${repoId}`, { ...json({ githubRepo: "octo/agent-service" }, { cookie }), method: "PATCH" });
    expect(patched.status).toBe(200);
    const task = (await (await pier.fetch("/api/tasks", json({ title: "Try agents", repoId }, { cookie }))).json()) as { id: string };
    const body = { budgetUsd: 1, variants: [{ engine: "acp", agent: "on-gemini" }, { engine: "acp", agent: "on-openai", model: "gemini-2.5-flash" }] };
    const error = await apiError(await pier.fetch(`/api/tasks/${task.id}/runs`, json(body, { cookie })));
    expect(error).toMatchObject({ status: 400, code: "model_not_for_agent" });
    expect(error.message).toContain("not an OpenAI model");
    expect(await (await pier.fetch("/api/runs", { headers: { cookie } })).json()).toEqual([]);
  });

  test("the session page says an agent on none is not metered, and so is any agent where pods cannot reach the gateway", async () => {
    expect(pier.pier.podUrl()).toBeNull();
    const page = async (agent: string) => {
      const session = await activeSession(pier, cookie, { repoId, engine: "acp", agent });
      return (await pier.fetch(`/sessions/${session.id}`, { headers: { cookie } })).text();
    };
    const unmetered = await page("unmetered");
    expect(unmetered).toContain('data-notice="agent-not-metered"');
    expect(unmetered).toContain("not metered");
    expect(unmetered).not.toContain('data-notice="gateway-unreachable-agent"');
    const unreachable = await page("on-openai");
    expect(unreachable).toContain('data-notice="gateway-unreachable-agent"');
    expect(unreachable).not.toContain('data-notice="agent-not-metered"');
    // Claude Code's own notice is for Claude Code's chat only.
    expect(unreachable).not.toContain('data-notice="gateway-unreachable"');
  }, 300_000);
});
