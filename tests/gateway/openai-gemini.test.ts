/**
 * Pier's model gateway for the OpenAI API (Responses, Chat Completions) and the Gemini API, on
 * the local runtime, with the suite's stand-ins for both services behind it and their official
 * SDKs (`openai`, `@google/genai`) as the agent's clients, pointed where `gateway.envFor(session,
 * service)` says: each request goes on with the person's own key (or the instance's), never the
 * session's token; what each answer used, streamed or whole, is priced into the session's ledger
 * to the cent; budgets refuse; strangers, ended sessions and paths the gateway does not forward
 * are refused (the latter audited); and no key shows in an answer or in the audit log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { type FakeGemini, startFakeGemini } from "../support/fake-gemini.ts";
import { type FakeOpenAi, startFakeOpenAi } from "../support/fake-openai.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError } from "../support/sessions.ts";

const INSTANCE_OPENAI = "sk-proj-instance-openai-key-000000000000";
const INSTANCE_GEMINI = "AIzaSy-instance-gemini-key-0000000000000";
const MIA_OPENAI = "sk-proj-mias-own-openai-key-11111111111";
const MIA_GEMINI = "AIzaSy-mias-own-gemini-key-111111111111";
/** The price table Pier starts with, USD per million tokens: input, output, cache read. */
const PRICES = {
  "gpt-5.4": { input: 2.5, output: 15, cacheRead: 0.25 },
  "gpt-5.4-mini": { input: 0.75, output: 4.5, cacheRead: 0.075 },
  "gpt-5.3-codex": { input: 1.75, output: 14, cacheRead: 0.175 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cacheRead: 0.03 },
  "gemini-2.5-pro": { input: 1.25, output: 10, cacheRead: 0.125 },
};
const costOf = (model: keyof typeof PRICES, input: number, output: number, cacheRead: number) => (input * PRICES[model].input + output * PRICES[model].output + cacheRead * PRICES[model].cacheRead) / 1e6;

type Row = { key: string; costUsd: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };

describe("the gateway for OpenAI's and Gemini's APIs", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-gateway-services-"));
  let openai: FakeOpenAi;
  let gemini: FakeGemini;
  let pier: TestPier;
  let admin: string;
  let mia: string;
  let repoId: string;
  let session: SessionJson;
  let miaSession: SessionJson;
  /** Every secret the test used: none may show in an answer or the audit log. */
  const secrets = [INSTANCE_OPENAI, INSTANCE_GEMINI, MIA_OPENAI, MIA_GEMINI];

  const envOf = async (of: SessionJson, service: "anthropic" | "openai" | "gemini") => {
    const launch = await pier.pier.gateway.envFor(pier.pier.sessions.get(of.id), service);
    for (const value of Object.values(launch.env)) if (value.startsWith("pier_gw_")) secrets.push(value);
    return launch;
  };
  const openaiFor = async (of: SessionJson) => {
    const { env } = await envOf(of, "openai");
    return new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, maxRetries: 0 });
  };
  const geminiFor = async (of: SessionJson) => {
    const { env } = await envOf(of, "gemini");
    return { ai: new GoogleGenAI({ apiKey: env.GEMINI_API_KEY, httpOptions: { baseUrl: env.GOOGLE_GEMINI_BASE_URL } }), env };
  };
  /** The session's row of the cost ledger (all zero before anything was recorded). */
  const ledger = async (of: SessionJson): Promise<Row> =>
    ((await (await pier.fetch("/api/costs?groupBy=session", { headers: { cookie: admin } })).json()) as Row[]).find((row) => row.key === of.id) ??
    { key: of.id, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  const sessionCost = async (of: SessionJson) => ((await (await pier.fetch(`/api/sessions/${of.id}`, { headers: { cookie: admin } })).json()) as { costUsd: number }).costUsd;
  /** What the session's ledger gained since `before`, once the response being read is recorded. */
  const gained = async (of: SessionJson, before: Row) => {
    await waitFor(async () => (await ledger(of)).costUsd > before.costUsd);
    const after = await ledger(of);
    return {
      costUsd: after.costUsd - before.costUsd,
      inputTokens: after.inputTokens - before.inputTokens,
      outputTokens: after.outputTokens - before.outputTokens,
      cacheReadTokens: after.cacheReadTokens - before.cacheReadTokens,
      cacheWriteTokens: after.cacheWriteTokens - before.cacheWriteTokens,
    };
  };
  const noTokenIn = (headers: Record<string, string>) => expect(JSON.stringify(headers)).not.toContain("pier_gw_");

  beforeAll(async () => {
    openai = await startFakeOpenAi({ apiKeys: [INSTANCE_OPENAI, MIA_OPENAI] });
    gemini = await startFakeGemini({ apiKeys: [INSTANCE_GEMINI, MIA_GEMINI] });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", OPENAI_BASE_URL: openai.url, GEMINI_BASE_URL: gemini.url }, dataDir);
    admin = await setUpAdmin(pier);
    expect((await pier.fetch("/api/settings", { ...json({ openaiApiKey: INSTANCE_OPENAI, geminiApiKey: INSTANCE_GEMINI }, { cookie: admin }), method: "PUT" })).status).toBe(200);
    await pier.fetch("/api/users", json({ username: "mia", password: "mia password", role: "member" }, { cookie: admin }));
    mia = await signIn(pier, "mia", "mia password");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("services").path}`, "services");
    session = await activeSession(pier, admin, { repoId });
    miaSession = await activeSession(pier, mia, { repoId });
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
    await openai.stop();
    await gemini.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("envFor(session, service) names each service's SDK variables, the gateway and one token of the session's own, and no key", async () => {
    const podUrl = pier.pier.podUrl()!;
    const anthropic = await envOf(session, "anthropic");
    const openaiEnv = await envOf(session, "openai");
    const geminiEnv = await envOf(session, "gemini");
    expect(openaiEnv).toMatchObject({ meteredByGateway: true, notice: null });
    expect(geminiEnv).toMatchObject({ meteredByGateway: true, notice: null });
    expect(Object.keys(openaiEnv.env).sort()).toEqual(["OPENAI_API_KEY", "OPENAI_BASE_URL"]);
    expect(Object.keys(geminiEnv.env).sort()).toEqual(["GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"]);
    expect(openaiEnv.env.OPENAI_BASE_URL).toBe(`${podUrl}/api/gateway/openai/v1`);
    expect(geminiEnv.env.GOOGLE_GEMINI_BASE_URL).toBe(`${podUrl}/api/gateway/gemini`);
    // Today's envFor(session) is Anthropic's, unchanged.
    expect(await pier.pier.gatewayEnvFor(pier.pier.sessions.get(session.id))).toEqual(anthropic);
    expect(anthropic.env.ANTHROPIC_BASE_URL).toBe(`${podUrl}/api/gateway/anthropic`);
    // One token for the session, whichever service.
    expect(openaiEnv.env.OPENAI_API_KEY).toMatch(/^pier_gw_/);
    expect(geminiEnv.env.GEMINI_API_KEY).toBe(openaiEnv.env.OPENAI_API_KEY!);
    expect(anthropic.env.ANTHROPIC_API_KEY).toBe(openaiEnv.env.OPENAI_API_KEY!);
    for (const secret of [INSTANCE_OPENAI, INSTANCE_GEMINI]) expect(JSON.stringify([openaiEnv, geminiEnv])).not.toContain(secret);
  });

  test("Chat Completions streamed through the SDK: the instance's key goes on, usage is asked for although the client did not, and the cost is exact", async () => {
    const client = await openaiFor(session);
    const before = await ledger(session);
    const sent = openai.requests.length;
    openai.script({ text: "Streamed by the fake OpenAI.", usage: { input: 1200, output: 345, cached: 200, reasoning: 100 }, chunkDelayMs: 5 });
    const stream = await client.chat.completions.create({ model: "gpt-5.4", messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Streamed by the fake OpenAI.");
    const seen = openai.requests[sent]!;
    expect(seen.path).toBe("/v1/chat/completions");
    expect(seen.headers.authorization).toBe(`Bearer ${INSTANCE_OPENAI}`);
    noTokenIn(seen.headers);
    expect(seen.body.stream_options).toEqual({ include_usage: true });
    expect(seen.body.messages).toEqual([{ role: "user", content: "hi" }]);
    // Cached input at the cache price, the rest at the input price; reasoning is part of the output.
    expect(await gained(session, before)).toEqual({ costUsd: expect.closeTo(costOf("gpt-5.4", 1000, 345, 200), 12), inputTokens: 1000, outputTokens: 345, cacheReadTokens: 200, cacheWriteTokens: 0 });
  });

  test("Chat Completions whole, answered by a dated snapshot: priced as its model, the answer passed back byte for byte", async () => {
    const client = await openaiFor(session);
    const before = await ledger(session);
    openai.script({ text: "Whole.", usage: { input: 50, output: 7 }, model: "gpt-5.4-mini-2026-03-17" });
    const answer = await client.chat.completions.create({ model: "gpt-5.4-mini", messages: [{ role: "user", content: "hi" }] }).asResponse();
    expect(await answer.text()).toBe(openai.answers.at(-1)!);
    expect(await gained(session, before)).toEqual({ costUsd: expect.closeTo(costOf("gpt-5.4-mini", 50, 7, 0), 12), inputTokens: 50, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  test("Responses streamed through the SDK, with 3 MB of instructions its events repeat: metered exactly, by mia's own key for her session", async () => {
    expect((await pier.fetch("/api/me/credentials", { ...json({ openaiApiKey: MIA_OPENAI, geminiApiKey: MIA_GEMINI }, { cookie: mia }), method: "PUT" })).status).toBe(200);
    const client = await openaiFor(miaSession);
    const before = await ledger(miaSession);
    const adminBefore = await ledger(session);
    const sent = openai.requests.length;
    openai.script({ text: "Answered in events.", usage: { input: 40_000, output: 900, cached: 30_000, reasoning: 600 } });
    const instructions = `Follow these. ${"x".repeat(3 * 1024 * 1024)}`;
    const stream = await client.responses.create({ model: "gpt-5.3-codex", instructions, input: "hi", stream: true });
    let text = "";
    let completed = false;
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completed = event.response.instructions === instructions;
    }
    expect(text).toBe("Answered in events.");
    expect(completed).toBe(true);
    expect(openai.requests[sent]!.headers.authorization).toBe(`Bearer ${MIA_OPENAI}`);
    noTokenIn(openai.requests[sent]!.headers);
    expect(await gained(miaSession, before)).toEqual({ costUsd: expect.closeTo(costOf("gpt-5.3-codex", 10_000, 900, 30_000), 12), inputTokens: 10_000, outputTokens: 900, cacheReadTokens: 30_000, cacheWriteTokens: 0 });
    // The admin's session paid nothing of it.
    expect(await ledger(session)).toEqual(adminBefore);
  });

  test("a client that leaves a Responses stream before its last event, which repeats 3 MB of instructions, still has its usage recorded", async () => {
    const { env } = await envOf(session, "openai");
    const before = await ledger(session);
    openai.script({ text: "Left before the end.", usage: { input: 5000, output: 70, cached: 1000 }, chunkDelayMs: 150 });
    const leave = new AbortController();
    const res = await fetch(`${env.OPENAI_BASE_URL}/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.OPENAI_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.4", instructions: "y".repeat(3 * 1024 * 1024), input: "hi", stream: true }),
      signal: leave.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("event: response.output_text.delta")) seen += new TextDecoder().decode((await reader.read()).value, { stream: true });
    expect(seen).not.toContain("response.completed");
    leave.abort();
    await reader.cancel().catch(() => {});
    expect(await gained(session, before)).toEqual({ costUsd: expect.closeTo(costOf("gpt-5.4", 4000, 70, 1000), 12), inputTokens: 4000, outputTokens: 70, cacheReadTokens: 1000, cacheWriteTokens: 0 });
  }, 30_000);

  test("Responses whole: metered; a background response, whose usage would never pass here, is refused before it reaches the API", async () => {
    const client = await openaiFor(session);
    const before = await ledger(session);
    openai.script({ text: "Whole response.", usage: { input: 300, output: 20, cached: 100 } });
    const response = await client.responses.create({ model: "gpt-5.4", input: "hi" });
    expect(response.output_text).toBe("Whole response.");
    expect(await gained(session, before)).toEqual({ costUsd: expect.closeTo(costOf("gpt-5.4", 200, 20, 100), 12), inputTokens: 200, outputTokens: 20, cacheReadTokens: 100, cacheWriteTokens: 0 });
    const hits = openai.hits.length;
    const refused = await client.responses.create({ model: "gpt-5.4", input: "hi", background: true }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("background");
    expect(openai.hits.length).toBe(hits);
  });

  test("Gemini streamed through the SDK (SSE): the key goes on as x-goog-api-key, thoughts are paid as output and cached tokens at the cache price", async () => {
    const { ai } = await geminiFor(session);
    const before = await ledger(session);
    const sent = gemini.requests.length;
    gemini.script({ text: "Gemini, streamed in chunks.", usage: { prompt: 5000, candidates: 80, cached: 4000, thoughts: 120, toolUsePrompt: 10 }, chunkDelayMs: 5 });
    let text = "";
    for await (const chunk of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "hi" })) text += chunk.text ?? "";
    expect(text).toBe("Gemini, streamed in chunks.");
    const seen = gemini.requests[sent]!;
    expect(seen.path).toBe("/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    expect(seen.headers["x-goog-api-key"]).toBe(INSTANCE_GEMINI);
    noTokenIn(seen.headers);
    expect(await gained(session, before)).toEqual({ costUsd: expect.closeTo(costOf("gemini-2.5-flash", 1010, 200, 4000), 12), inputTokens: 1010, outputTokens: 200, cacheReadTokens: 4000, cacheWriteTokens: 0 });
  });

  test("Gemini whole, and streamed as a JSON array (no alt=sse) with the token in the query: both metered, the token never passed on", async () => {
    const { ai, env } = await geminiFor(session);
    let before = await ledger(session);
    gemini.script({ text: "Whole Gemini.", usage: { prompt: 700, candidates: 30, thoughts: 5 }, modelVersion: "gemini-2.5-pro" });
    const whole = await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "hi" });
    expect(whole.text).toBe("Whole Gemini.");
    expect(await gained(session, before)).toEqual({ costUsd: expect.closeTo(costOf("gemini-2.5-pro", 700, 35, 0), 12), inputTokens: 700, outputTokens: 35, cacheReadTokens: 0, cacheWriteTokens: 0 });

    before = await ledger(session);
    const sent = gemini.requests.length;
    gemini.script({ text: "An array, element by element.", usage: { prompt: 2000, candidates: 64, cached: 1500 } });
    const res = await fetch(`${env.GOOGLE_GEMINI_BASE_URL}/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=${env.GEMINI_API_KEY}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(gemini.answers.at(-1)!);
    expect(gemini.requests[sent]!.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    expect(gemini.requests[sent]!.headers["x-goog-api-key"]).toBe(INSTANCE_GEMINI);
    expect(await gained(session, before)).toEqual({ costUsd: expect.closeTo(costOf("gemini-2.5-flash", 500, 64, 1500), 12), inputTokens: 500, outputTokens: 64, cacheReadTokens: 1500, cacheWriteTokens: 0 });

    // Counting tokens goes on and costs nothing.
    const cost = await sessionCost(session);
    expect((await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "Count me." })).totalTokens).toBeGreaterThan(0);
    expect(await sessionCost(session)).toBe(cost);
  });

  test("no token, a wrong one, the real key or an ended session's token is refused in each service's shape, and nothing reaches the APIs", async () => {
    const ended = await activeSession(pier, admin, { repoId });
    const { env } = await envOf(ended, "openai");
    expect((await pier.fetch(`/api/sessions/${ended.id}/end`, json({}, { cookie: admin }))).status).toBe(200);
    const openaiHits = openai.hits.length;
    const geminiHits = gemini.hits.length;
    const bareOpenai = await pier.fetch("/api/gateway/openai/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(bareOpenai.status).toBe(401);
    expect(((await bareOpenai.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    for (const key of ["pier_gw_not-a-real-token", INSTANCE_OPENAI, env.OPENAI_API_KEY!]) {
      const client = new OpenAI({ apiKey: key, baseURL: `${pier.pier.podUrl()}/api/gateway/openai/v1`, maxRetries: 0 });
      const refused = await client.chat.completions.create({ model: "gpt-5.4", messages: [{ role: "user", content: "hi" }] }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((refused as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");
    }
    for (const key of ["pier_gw_nope", INSTANCE_GEMINI, env.OPENAI_API_KEY!]) {
      const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${pier.pier.podUrl()}/api/gateway/gemini` } });
      const refused = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).status).toBe(401);
      expect((refused as ApiError).message).toContain("UNAUTHENTICATED");
    }
    const bare = await pier.fetch("/api/gateway/gemini/v1beta/models/gemini-2.5-flash:generateContent", { method: "POST", body: "{}" });
    expect(bare.status).toBe(401);
    expect(openai.hits.length).toBe(openaiHits);
    expect(gemini.hits.length).toBe(geminiHits);
  }, 60_000);

  test("what the gateway does not forward is a 404 in the service's shape, reaches nothing, and is audited for a session's token (never with a key)", async () => {
    const { env: openaiEnv } = await envOf(session, "openai");
    const { env: geminiEnv } = await envOf(session, "gemini");
    const openaiHits = openai.hits.length;
    const geminiHits = gemini.hits.length;
    const openaiTries: Array<[string, string]> = [["POST", "/v1/files"], ["GET", "/v1/responses/resp_123"], ["POST", "/v1/embeddings"], ["GET", "/v1/models"], ["POST", "/v1/batches"]];
    for (const [method, path] of openaiTries) {
      const res = await fetch(`${openaiEnv.OPENAI_BASE_URL!.replace(/\/v1$/, "")}${path}`, { method, headers: { authorization: `Bearer ${openaiEnv.OPENAI_API_KEY}`, "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 404`);
      const body = (await res.json()) as { error: { type: string; code: string; message: string } };
      expect(body.error).toMatchObject({ type: "invalid_request_error", code: "unknown_url" });
      expect(body.error.message).toContain("Pier's gateway forwards only");
    }
    const geminiTries = ["/v1beta/files", "/v1beta/models/gemini-2.5-flash:embedContent", "/v1beta/cachedContents", "/v1beta/tunedModels/mine:generateContent"];
    for (const path of geminiTries) {
      const res = await fetch(`${geminiEnv.GOOGLE_GEMINI_BASE_URL}${path}`, { method: "POST", headers: { "x-goog-api-key": geminiEnv.GEMINI_API_KEY!, "content-type": "application/json" }, body: "{}" });
      expect(`${path} ${res.status}`).toBe(`${path} 404`);
      expect(((await res.json()) as { error: { status: string } }).error.status).toBe("NOT_FOUND");
    }
    expect(openai.hits.length).toBe(openaiHits);
    expect(gemini.hits.length).toBe(geminiHits);
    const audit = (await (await pier.fetch("/api/audit?action=gateway_refused&limit=200", { headers: { cookie: admin } })).json()) as Array<{ actor: { kind: string; id: string }; target: { id: string }; detail: string }>;
    const ours = audit.filter((entry) => entry.target.id === session.id).map((entry) => entry.detail);
    expect(ours).toContain("path: POST /v1/files on the OpenAI API");
    expect(ours).toContain("path: GET /v1/models on the OpenAI API");
    expect(ours).toContain("path: POST /v1beta/files on the Gemini API");
    expect(ours).toHaveLength(openaiTries.length + geminiTries.length);
    expect(audit.every((entry) => entry.actor.kind === "agent")).toBe(true);
  });

  test("a person's key the service refuses comes back as a 403 saying so, not as the agent's 401", async () => {
    const dead = "sk-proj-mias-dead-key-222222222222222222";
    secrets.push(dead);
    expect((await pier.fetch("/api/me/credentials", { ...json({ openaiApiKey: dead }, { cookie: mia }), method: "PUT" })).status).toBe(200);
    try {
      const client = await openaiFor(miaSession);
      const refused = await client.chat.completions.create({ model: "gpt-5.4", messages: [{ role: "user", content: "hi" }] }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect((refused as Error).message).toContain("The OpenAI API refused the API key Pier sent for you");
      expect((refused as Error).message).not.toContain(dead);
      expect(openai.requests.at(-1)!.headers.authorization).toBe(`Bearer ${dead}`);
    } finally {
      await pier.fetch("/api/me/credentials", { ...json({ openaiApiKey: MIA_OPENAI }, { cookie: mia }), method: "PUT" });
    }
  });

  test("a session past its budget is refused by both services' gateways, in their shapes, without a retry and without reaching them", async () => {
    const spender = await activeSession(pier, admin, { repoId });
    const client = await openaiFor(spender);
    const { ai } = await geminiFor(spender);
    expect((await pier.fetch("/api/settings", { ...json({ sessionBudgetUsd: 0.01 }, { cookie: admin }), method: "PUT" })).status).toBe(200);
    try {
      // Two cents: past the budget once recorded.
      openai.script({ text: "Expensive.", usage: { input: 8000, output: 0 } });
      await client.chat.completions.create({ model: "gpt-5.4", messages: [{ role: "user", content: "hi" }] });
      await waitFor(async () => (await sessionCost(spender)) >= 0.01);
      const openaiHits = openai.hits.length;
      const geminiHits = gemini.hits.length;
      const refused = await client.responses.create({ model: "gpt-5.4", input: "again" }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
      expect((refused as InstanceType<typeof OpenAI.RateLimitError>).type).toBe("budget_exceeded");
      expect((refused as Error).message).toContain("session budget");
      expect((refused as InstanceType<typeof OpenAI.RateLimitError>).headers.get("x-should-retry")).toBe("false");
      const geminiRefused = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "again" }).catch((error: unknown) => error);
      expect(geminiRefused).toBeInstanceOf(ApiError);
      expect((geminiRefused as ApiError).status).toBe(429);
      expect((geminiRefused as ApiError).message).toContain("RESOURCE_EXHAUSTED");
      expect((geminiRefused as ApiError).message).toContain("BUDGET_EXCEEDED");
      expect(openai.hits.length).toBe(openaiHits);
      expect(gemini.hits.length).toBe(geminiHits);
      // Counting tokens is still free to ask.
      expect((await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "Count me." })).totalTokens).toBeGreaterThan(0);
    } finally {
      await pier.fetch("/api/settings", { ...json({ sessionBudgetUsd: "" }, { cookie: admin }), method: "PUT" });
    }
  }, 60_000);

  test("the keys are write-only: masked in settings and credentials, a bad one a 400 naming it that changes nothing", async () => {
    const settings = (await (await pier.fetch("/api/settings", { headers: { cookie: admin } })).json()) as Record<string, unknown>;
    expect(settings.openaiApiKey).toEqual({ set: true, mask: "••••••••0000", source: "settings" });
    expect(settings.geminiApiKey).toEqual({ set: true, mask: "••••••••0000", source: "settings" });
    const mine = (await (await pier.fetch("/api/me/credentials", { headers: { cookie: mia } })).json()) as Record<string, unknown>;
    expect(mine.openaiApiKey).toEqual({ set: true, mask: "••••••••1111", source: "yours" });
    expect(mine.geminiApiKey).toEqual({ set: true, mask: "••••••••1111", source: "yours" });
    const theirs = (await (await pier.fetch("/api/me/credentials", { headers: { cookie: admin } })).json()) as Record<string, unknown>;
    expect(theirs.openaiApiKey).toEqual({ set: true, mask: "••••••••", source: "settings" });
    for (const [field, value] of [["openaiApiKey", "has spaces in it"], ["geminiApiKey", 42], ["openaiApiKey", "x".repeat(1001)]] as const) {
      const bad = await apiError(await pier.fetch("/api/me/credentials", { ...json({ [field]: value, geminiApiKey: field === "geminiApiKey" ? value : "" }, { cookie: mia }), method: "PUT" }));
      expect(bad.status).toBe(400);
      expect(bad.code).toBe(field === "openaiApiKey" ? "invalid_openai_api_key" : "invalid_gemini_api_key");
    }
    expect(await pier.pier.credentials.serviceKey(miaSession.userId, "gemini")).toBe(MIA_GEMINI);
    const badSetting = await apiError(await pier.fetch("/api/settings", { ...json({ geminiApiKey: "two words" }, { cookie: admin }), method: "PUT" }));
    expect(badSetting).toMatchObject({ status: 400, code: "invalid_gemini_api_key" });
    expect(JSON.stringify([settings, mine, theirs])).not.toMatch(/sk-proj|AIzaSy/);
  });

  test("no key of a person, the instance or a session is in the audit log", async () => {
    const csv = await (await pier.fetch("/api/audit?format=csv&limit=200", { headers: { cookie: admin } })).text();
    const entries = await (await pier.fetch("/api/audit?limit=200", { headers: { cookie: admin } })).text();
    expect(csv).toContain("credential_changed");
    for (const secret of secrets) {
      expect(csv).not.toContain(secret);
      expect(entries).not.toContain(secret);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(20);
  }
}
