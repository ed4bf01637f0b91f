/**
 * Pier's model gateway over HTTP, on the local runtime (the pod's programs and worktree are this
 * machine's), with the suite's stand-in for the Anthropic API behind it: the per-session token a
 * session's key helper gets from Pier, forwarding with the person's real credential (an API key,
 * or a Claude subscription token with the oauth beta), the answer's bytes passed back untouched,
 * each response metered into the session's ledger, and the attacks: a stranger, a wrong or ended
 * token, another person's socket, a body too large.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-gateway-real-key-0000000000";
const OAUTH_TOKEN = "sk-ant-oat01-subscription-token-000000";
const GATEWAY = "/api/gateway/anthropic";
/** claude-sonnet-4-6 in the price table Pier starts with: USD per million tokens. */
const SONNET = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };

type Ledger = Array<{ key: string; costUsd: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number }>;

describe("the model gateway", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-gateway-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;

  /** What the session's key helper prints: the command its Claude Code settings name, run as Claude Code runs it. */
  const helperToken = async (of: SessionJson) => {
    const settings = JSON.parse(readFileSync(join(of.worktreePath, ".claude/settings.local.json"), "utf8")) as { apiKeyHelper: string; env: Record<string, string> };
    const child = Bun.spawn(["sh", "-c", settings.apiKeyHelper], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { out: out.trim(), err, code, settings };
  };
  const messages = (token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    pier.fetch(`${GATEWAY}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": token, ...headers },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...body }),
    });
  const sessionCost = async (id: string) => ((await (await pier.fetch(`/api/sessions/${id}`, { headers: { cookie } })).json()) as { costUsd: number }).costUsd;
  /** The session's row of the cost ledger (all zero before anything was recorded). */
  const ledger = async (id: string) =>
    ((await (await pier.fetch("/api/costs?groupBy=session", { headers: { cookie } })).json()) as Ledger).find((row) => row.key === id) ??
    { key: id, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY, oauthToken: OAUTH_TOKEN });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("gated").path}`, "gated");
    session = await activeSession(pier, cookie, { repoId });
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the worktree's Claude Code settings name the gateway and a key helper, and hold no secret", async () => {
    const { out, code, settings } = await helperToken(session);
    expect(code).toBe(0);
    expect(settings.env).toEqual({ ANTHROPIC_BASE_URL: `${pier.pier.podUrl()}${GATEWAY}` });
    expect(out).toMatch(/^pier_gw_\S+$/);
    const file = readFileSync(join(session.worktreePath, ".claude/settings.local.json"), "utf8");
    expect(file).not.toContain(API_KEY);
    expect(file).not.toContain("pier_gw_");
    // Kept out of git like Pier's other files.
    const status = Bun.spawn(["git", "status", "--porcelain", "--ignored=no"], { cwd: session.worktreePath, stdout: "pipe" });
    expect(await new Response(status.stdout).text()).not.toContain(".claude");
  });

  test("a streamed answer comes back byte for byte, with the real key sent on and the cost in the session's ledger", async () => {
    const { out: token } = await helperToken(session);
    const before = await sessionCost(session.id);
    const usage = { input_tokens: 1200, output_tokens: 345, cache_creation_input_tokens: 2000, cache_read_input_tokens: 50_000 };
    fake.script({ text: "Streamed through Pier's gateway, in several pieces.", usage, chunkDelayMs: 5 });
    const sent = fake.requests.length;
    const res = await messages(token, { stream: true }, { "anthropic-beta": "claude-code-20250219", authorization: `Bearer ${token}`, cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    const text = await res.text();
    expect(text).toBe(fake.answers.at(-1)!);
    const seen = fake.requests[sent]!;
    expect(seen.path).toBe("/v1/messages?beta=true");
    expect(seen.headers["x-api-key"]).toBe(API_KEY);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers["anthropic-beta"]).toBe("claude-code-20250219");
    expect(seen.headers["anthropic-version"]).toBe("2023-06-01");
    expect(JSON.stringify(seen.headers)).not.toContain("pier_gw_");
    const expected = (1200 * SONNET.input + 345 * SONNET.output + 2000 * SONNET.cacheWrite + 50_000 * SONNET.cacheRead) / 1e6;
    // The ledger row is written as the stream ends, which is just before the client reads its end.
    await waitFor(async () => (await sessionCost(session.id)) > before);
    expect(await sessionCost(session.id)).toBeCloseTo(before + expected, 10);
    const row = await ledger(session.id);
    expect(row.outputTokens).toBeGreaterThanOrEqual(345);
    expect(row.cacheReadTokens).toBeGreaterThanOrEqual(50_000);
  });

  test("a JSON answer is metered too, and the session page's event stream hears the new total", async () => {
    const { out: token } = await helperToken(session);
    const events = await pier.fetch(`/api/sessions/${session.id}/events`, { headers: { cookie } });
    const reader = events.body!.getReader();
    const before = await sessionCost(session.id);
    fake.script({ text: "Whole.", usage: { input_tokens: 10, output_tokens: 20 } });
    const res = await messages(token, {});
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(fake.answers.at(-1)!);
    const expected = before + (10 * SONNET.input + 20 * SONNET.output) / 1e6;
    let heard = "";
    const decoder = new TextDecoder();
    while (!heard.includes('"type":"cost"')) heard += decoder.decode((await reader.read()).value, { stream: true });
    await reader.cancel();
    const cost = JSON.parse(heard.split("\n").find((line) => line.includes('"type":"cost"'))!.replace(/^data: /, "")) as { sessionCostUsd: number };
    expect(cost.sessionCostUsd).toBeCloseTo(expected, 10);
    expect(await sessionCost(session.id)).toBeCloseTo(expected, 10);
  });

  test("a Claude subscription token goes on as Bearer with the oauth beta added to the request's own", async () => {
    await pier.fetch("/api/me/credentials", { ...json({ claudeCodeOauthToken: OAUTH_TOKEN }, { cookie }), method: "PUT" });
    try {
      const { out: token } = await helperToken(session);
      fake.script({ text: "On a subscription." });
      const sent = fake.requests.length;
      const res = await messages(token, { stream: true }, { "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" });
      expect(res.status).toBe(200);
      await res.text();
      const seen = fake.requests[sent]!;
      expect(seen.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
      expect(seen.headers["x-api-key"]).toBeUndefined();
      expect(seen.headers["anthropic-beta"]).toBe("claude-code-20250219,interleaved-thinking-2025-05-14,oauth-2025-04-20");
    } finally {
      await pier.fetch("/api/me/credentials", { ...json({ claudeCodeOauthToken: "" }, { cookie }), method: "PUT" });
    }
  });

  test("the API's 429, 529 and 500 come back as they were: status, retry-after, retry advice and the API's own sentence", async () => {
    const { out: token } = await helperToken(session);
    fake.script({ status: 429, retryAfterSeconds: 7, message: "Slow down, please." }, { status: 529, retryAfterSeconds: 3 }, { status: 500 });
    for (const [status, retryAfter, said] of [[429, "7", "Slow down, please."], [529, "3", "Overloaded"], [500, null, "Internal server error"]] as const) {
      const res = await messages(token, { stream: true });
      expect(res.status).toBe(status);
      expect(res.headers.get("retry-after")).toBe(retryAfter);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(said);
    }
  });

  test("a refused subscription token (the API's 401) comes back as a 403 that says to sign in again and is not to be retried", async () => {
    await pier.fetch("/api/me/credentials", { ...json({ claudeCodeOauthToken: "sk-ant-oat01-expired-000000000000" }, { cookie }), method: "PUT" });
    try {
      const { out: token } = await helperToken(session);
      const res = await messages(token, { stream: true });
      expect(res.status).toBe(403);
      expect(res.headers.get("x-should-retry")).toBe("false");
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body.error.type).toBe("permission_error");
      expect(body.error.message).toContain("Your Claude sign-in has expired: paste a new token");
      expect(body.error.message).toContain("invalid x-api-key");
      expect(pier.pier.gateway.takeRefusal(session.id)).toBe("oauth");
      expect(pier.pier.gateway.takeRefusal(session.id)).toBeNull();
    } finally {
      await pier.fetch("/api/me/credentials", { ...json({ claudeCodeOauthToken: "" }, { cookie }), method: "PUT" });
    }
  });

  test("a stranger, a wrong token or a session cookie gets Anthropic's authentication error, and nothing reaches the API", async () => {
    const sent = fake.requests.length;
    const attempts: Array<Record<string, string>> = [{}, { "x-api-key": "pier_gw_not-a-real-token" }, { authorization: "Bearer pier_gw_nope" }, { "x-api-key": API_KEY }, { cookie }];
    for (const headers of attempts) {
      const res = await pier.fetch(`${GATEWAY}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe("error");
      expect(body.error.type).toBe("authentication_error");
      expect(body.error.message).toContain("gateway token");
    }
    // Only the API's /v1 paths go on.
    const { out: token } = await helperToken(session);
    const odd = await pier.fetch(`${GATEWAY}/v1/../../api/settings`, { headers: { "x-api-key": token } });
    expect(odd.status).not.toBe(200);
    const outside = await pier.fetch(`${GATEWAY}/admin`, { headers: { "x-api-key": token } });
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as { type: string }).type).toBe("error");
    expect(fake.requests.length).toBe(sent);
  });

  test("only what Claude Code calls goes on: batches, files, models and the rest get Anthropic's 404 and never reach the API", async () => {
    const { out: token } = await helperToken(session);
    const hits = fake.hits.length;
    const batch = JSON.stringify({ requests: [{ custom_id: "a", params: { model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "hi" }] } }] });
    const tries: Array<[string, string, string?]> = [
      ["POST", "/v1/messages/batches", batch],
      ["GET", "/v1/messages/batches"],
      ["GET", "/v1/messages/batches/msgbatch_01/results"],
      ["POST", "/v1/files", "file"],
      ["GET", "/v1/files"],
      ["DELETE", "/v1/files/file_01"],
      ["GET", "/v1/models"],
      ["POST", "/v1/messages/"],
      ["POST", "/v1/messages%2Fbatches", batch],
    ];
    for (const [method, path, body] of tries) {
      const res = await pier.fetch(`${GATEWAY}${path}`, { method, headers: { "x-api-key": token, "content-type": "application/json", "anthropic-version": "2023-06-01" }, body });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 404`);
      const answer = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(answer.type).toBe("error");
      expect(answer.error.type).toBe("not_found_error");
      expect(answer.error.message).toContain("Pier's gateway forwards only");
    }
    // The paths it does forward, by any other method.
    const get = await pier.fetch(`${GATEWAY}/v1/messages`, { headers: { "x-api-key": token } });
    expect(get.status).toBe(405);
    expect(((await get.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    expect(fake.hits.slice(hits)).toEqual([]);
  });

  test("counting tokens, as Claude Code's /context does, goes on and costs nothing", async () => {
    const { out: token } = await helperToken(session);
    const before = await sessionCost(session.id);
    const hits = fake.hits.length;
    const res = await pier.fetch(`${GATEWAY}/v1/messages/count_tokens?beta=true`, {
      method: "POST",
      headers: { "x-api-key": token, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "Count me." }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    expect(fake.hits.slice(hits)).toEqual(["POST /v1/messages/count_tokens?beta=true"]);
    expect(await sessionCost(session.id)).toBe(before);
  });

  test("a client that goes away right after the last content block still has the answer's final usage recorded", async () => {
    const { out: token } = await helperToken(session);
    const before = await ledger(session.id);
    // message_delta (the final output count) comes a while after the last content block, as the client leaves.
    fake.script({ text: "Read to the end by Pier.", usage: { input_tokens: 70, output_tokens: 4321, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }, finalDelayMs: 1500 });
    const leave = new AbortController();
    const res = await pier.fetch(`${GATEWAY}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": token },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] }),
      signal: leave.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes("event: content_block_stop")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended before its last content block: ${seen}`);
      seen += decoder.decode(value, { stream: true });
    }
    expect(seen).not.toContain("message_delta");
    leave.abort();
    await reader.cancel().catch(() => {});
    await waitFor(async () => (await ledger(session.id)).outputTokens > before.outputTokens);
    const after = await ledger(session.id);
    expect(after.outputTokens - before.outputTokens).toBe(4321);
    expect(after.inputTokens - before.inputTokens).toBe(70);
  });

  test("what is read after the client went away is bounded: an answer far longer than the bound is let go, with what was seen recorded", async () => {
    const { out: token } = await helperToken(session);
    const before = await ledger(session.id);
    // About 25 MB of events after the client leaves, far past the gateway's 1 MiB.
    fake.script({ text: "x".repeat(3 * 1024 * 1024), usage: { input_tokens: 9, output_tokens: 99_999, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } });
    const leave = new AbortController();
    const res = await pier.fetch(`${GATEWAY}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": token },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] }),
      signal: leave.signal,
    });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("event: content_block_delta")) seen += new TextDecoder().decode((await reader.read()).value);
    leave.abort();
    await reader.cancel().catch(() => {});
    await waitFor(async () => (await ledger(session.id)).inputTokens > before.inputTokens);
    const after = await ledger(session.id);
    expect(after.inputTokens - before.inputTokens).toBe(9);
    // message_start's count, not message_delta's: the end was never read.
    expect(after.outputTokens - before.outputTokens).toBe(1);
  });

  test("a body over Pier's 1 MiB goes through; one over the gateway's 32 MiB is refused cleanly, declared or chunked", async () => {
    const { out: token } = await helperToken(session);
    fake.script({ text: "Long conversation." });
    const big = await messages(token, { messages: [{ role: "user", content: "x".repeat(3 * 1024 * 1024) }] });
    expect(big.status).toBe(200);
    await big.text();
    const sent = fake.requests.length;
    const tooBig = "x".repeat(33 * 1024 * 1024);
    const declared = await pier.fetch(`${GATEWAY}/v1/messages`, { method: "POST", headers: { "x-api-key": token, "content-type": "application/json" }, body: tooBig });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { type: string } }).error.type).toBe("request_too_large");
    const chunks = [tooBig.slice(0, 20 * 1024 * 1024), tooBig.slice(20 * 1024 * 1024)];
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const chunked = await pier.fetch(`${GATEWAY}/v1/messages`, { method: "POST", headers: { "x-api-key": token, "content-type": "application/json" }, body: stream });
    expect(chunked.status).toBe(413);
    expect(fake.requests.length).toBe(sent);
  });

  test("another person's pod gets no token for this session, and their own token meters only their own session", async () => {
    await pier.fetch("/api/users", json({ username: "ivy", password: "ivy password", role: "member" }, { cookie }));
    const ivy = await signIn(pier, "ivy", "ivy password");
    const ivySession = await activeSession(pier, ivy, { repoId });
    // Ivy's key helper, asked for the admin's session: her pod's socket says no.
    const theirs = await helperToken(ivySession);
    const asked = Bun.spawn(["sh", "-c", theirs.settings.apiKeyHelper.replace(ivySession.id, session.id)], { stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(asked.stdout).text(), asked.exited]);
    expect(code).not.toBe(0);
    expect(out).not.toContain("pier_gw_");
    // Her own token works, and what it spends is hers.
    const adminBefore = await sessionCost(session.id);
    fake.script({ text: "Ivy's." });
    const res = await messages(theirs.out, { stream: true });
    expect(res.status).toBe(200);
    await res.text();
    await waitFor(async () => (await sessionCost(ivySession.id)) > 0);
    expect(await sessionCost(session.id)).toBe(adminBefore);
  }, 60_000);

  test("no credential: a clear error in the API's shape", async () => {
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: "" }, { cookie }), method: "PUT" });
    try {
      const { out: token } = await helperToken(session);
      const res = await messages(token, {});
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe("authentication_error");
      expect(body.error.message).toContain("No Anthropic API key or Claude subscription token");
    } finally {
      await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    }
  });

  test("gatewayEnvFor, where pods reach Pier: the gateway and a token of the session's own, metered, no credential", async () => {
    const launch = await pier.pier.gatewayEnvFor(pier.pier.sessions.get(session.id));
    expect(launch.meteredByGateway).toBe(true);
    expect(launch.notice).toBeNull();
    expect(Object.keys(launch.env).sort()).toEqual(["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]);
    expect(launch.env.ANTHROPIC_BASE_URL).toBe(`${pier.pier.podUrl()}${GATEWAY}`);
    expect(JSON.stringify(launch.env)).not.toContain(API_KEY);
    fake.script({ text: "For the engine's process." });
    const res = await messages(launch.env.ANTHROPIC_API_KEY!, {});
    expect(res.status).toBe(200);
    await res.text();
  });

  test("ending the session ends its tokens at once", async () => {
    const { out: token } = await helperToken(session);
    fake.script({ text: "Still live." });
    const live = await messages(token, {});
    expect(live.status).toBe(200);
    await live.text();
    const ended = await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    expect(ended.status).toBe(200);
    const sent = fake.requests.length;
    const res = await messages(token, {});
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    expect(fake.requests.length).toBe(sent);
    expect(() => pier.pier.gateway.mint(session.id)).toThrow();
  }, 60_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(20);
  }
}
