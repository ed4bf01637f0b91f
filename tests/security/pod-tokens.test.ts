/**
 * The tokens a pod asks Pier for (a gateway key for Claude Code's key helper, an MCP header),
 * attacked from inside a real pod on the Docker runtime with Pier's own client for the pod's
 * socket: a loop of asks gets the same tokens back, adds no rows, and is refused with a 429 past
 * the limit; expired tokens are deleted by the expiry job; and a session whose provisioning fails
 * takes its tokens with it, so the gateway and the MCP endpoint refuse them then and after the
 * session is resumed. The model API is the suite's stand-in; everything else is real.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { gatewayTokens } from "../../src/gateway/tables.ts";
import { mcpTokens } from "../../src/mcp-endpoint/tables.ts";
import { TOKEN_ASKS_PER_MINUTE } from "../../src/pods/token-asks.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { serveGitHttp } from "../support/fake-github/git-http.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, startSession, waitForState } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = `sk-ant-tokens-${crypto.randomUUID()}`;

/**
 * A git remote over smart HTTP on 127.0.0.1 whose answers can be held back and then refused, so a
 * test can keep a session's provisioning waiting on its fetch and then make that fetch fail.
 */
async function gatedRemote(name: string) {
  const bare = makeRemoteRepo(name).path;
  let gate: { opened: Promise<void>; open(): void } | null = null;
  let refusing = false;
  let held = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (gate) {
        held++;
        await gate.opened;
      }
      if (refusing) return new Response("The remote is down.\n", { status: 500 });
      return serveGitHttp(request, { projectRoot: dirname(bare), pathInfo: new URL(request.url).pathname, remoteUser: null });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/${basename(bare)}`,
    get held() {
      return held;
    },
    /** Requests wait from now on, until `release`. */
    hold() {
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { opened, open };
      held = 0;
    },
    /** Lets the waiting requests (and later ones) through, refused with a 500 when `refuse`. */
    release(refuse: boolean) {
      refusing = refuse;
      gate?.open();
      gate = null;
    },
    stop: () => server.stop(true),
  };
}

describe("a pod's tokens", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-pod-tokens-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  /** The gateway key the pod's loop was handed (the same every time). */
  let podKey: string;

  /** Runs a script in the pod of `of` as the pod user, as code in the pod runs. */
  const inPod = (of: SessionJson, script: string) => pier.pier.runtime.exec({ id: of.podId!, image: "" }, ["bash", "-c", script], { cwd: of.worktreePath, timeoutMs: 120_000 });
  /** Pier's client for the pod's socket, asking `path` for `sessionId`, as the pod's helpers run it. */
  const askCommand = (of: SessionJson, path: string, sessionId: string) => {
    const services = join(dataDir, "pods", of.repoId, of.userId);
    return `${join(services, "pier-ask")} ${join(services, "pier.sock")} GET ${path} session=${sessionId}`;
  };
  const rowsOf = (sessionId: string) => ({
    gateway: pier.pier.db.select().from(gatewayTokens).where(eq(gatewayTokens.sessionId, sessionId)).all().length,
    mcp: pier.pier.db.select().from(mcpTokens).where(eq(mcpTokens.sessionId, sessionId)).all().length,
  });
  const askGateway = (token: string) =>
    pier.fetch("/api/gateway/anthropic/v1/messages", {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": token },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
  const askMcp = (authorization: string) =>
    pier.fetch("/mcp", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    const saved = await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    expect(saved.status).toBe(200);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("looped").path}`, "looped");
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("500 asks from one pod get the same two tokens, leave one row each, and are refused with a 429 past the limit", async () => {
    const loop = [
      "for i in $(seq 250); do",
      `  if out=$(${askCommand(session, "/anthropic-key", session.id)} 2>&1); then echo "ok gateway $out"; else echo "no gateway $out"; fi`,
      `  if out=$(${askCommand(session, "/mcp-headers", session.id)} 2>&1); then echo "ok mcp $out"; else echo "no mcp $out"; fi`,
      "done",
    ].join("\n");
    const run = await inPod(session, loop);
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(500);
    const answered = lines.filter((line) => line.startsWith("ok "));
    const refused = lines.filter((line) => line.startsWith("no "));
    // The first asks are all answered; the first refusal is the one past the limit.
    expect(lines.slice(0, TOKEN_ASKS_PER_MINUTE).every((line) => line.startsWith("ok "))).toBe(true);
    expect(lines[TOKEN_ASKS_PER_MINUTE]).toMatch(/^no /);
    expect(refused.length).toBeGreaterThan(0);
    for (const line of refused) {
      expect(line).toMatch(new RegExp(`^no (gateway|mcp) Pier: This pod asked Pier for more than ${TOKEN_ASKS_PER_MINUTE} tokens in a minute; ask again in \\d+ s\\.$`));
    }
    const gatewayKeys = new Set(answered.filter((line) => line.startsWith("ok gateway ")).map((line) => line.slice("ok gateway ".length)));
    const mcpHeaders = new Set(answered.filter((line) => line.startsWith("ok mcp ")).map((line) => line.slice("ok mcp ".length)));
    expect(gatewayKeys.size).toBe(1);
    expect(mcpHeaders.size).toBe(1);
    expect(rowsOf(session.id)).toEqual({ gateway: 1, mcp: 1 });

    // The one token of each still works.
    podKey = [...gatewayKeys][0]!;
    expect(podKey).toMatch(/^pier_gw_\S+$/);
    fake.script({ text: "Still answered." });
    const answer = await askGateway(podKey);
    expect(answer.status).toBe(200);
    await answer.text();
    const { Authorization } = JSON.parse([...mcpHeaders][0]!) as { Authorization: string };
    const tools = await askMcp(Authorization);
    expect(tools.status).toBe(200);
    await tools.text();
  }, 180_000);

  test("the expiry job deletes the tokens whose time is up, and only those", async () => {
    const before = rowsOf(session.id);
    const shortGateway = pier.pier.gateway.mint(session.id, 1);
    const shortMcp = pier.pier.mcp.mint(session.id, 1);
    expect(rowsOf(session.id)).toEqual({ gateway: before.gateway + 1, mcp: before.mcp + 1 });
    await Bun.sleep(5);
    // Expired tokens are refused already; the job only clears their rows.
    expect((await askGateway(shortGateway)).status).toBe(401);
    expect((await askMcp(`Bearer ${shortMcp}`)).status).toBe(401);

    await pier.pier.jobs.runNow("delete expired tokens");
    expect(rowsOf(session.id)).toEqual(before);
    // The pod's own token (good for hours) stays and still works.
    fake.script({ text: "Kept." });
    const answer = await askGateway(podKey);
    expect(answer.status).toBe(200);
    await answer.text();
  }, 60_000);

  test("a session whose provisioning fails loses its tokens: refused then, and after it is resumed", async () => {
    const remote = await gatedRemote("gated");
    try {
      const repoId = await addRepo(pier, cookie, remote.url, "gated");
      // A live session of the same person and repository: its pod (another than the loop's, so
      // under a limit of its own) is where the new session's tokens are asked from.
      const first = await activeSession(pier, cookie, { repoId });

      // The next session's fetch waits on the remote, so it stays provisioning (live) meanwhile.
      remote.hold();
      const res = await startSession(pier, cookie, { repoId });
      expect(res.status).toBe(201);
      const provisioning = (await res.json()) as SessionJson;
      for (const deadline = Date.now() + 60_000; remote.held === 0; await Bun.sleep(20)) {
        if (Date.now() > deadline) throw new Error("the new session's fetch never reached the remote");
      }
      expect(((await (await pier.fetch(`/api/sessions/${provisioning.id}`, { headers: { cookie } })).json()) as SessionJson).state).toBe("provisioning");

      // Code in the pod asks for the provisioning session's tokens, as its helpers would.
      const key = await inPod(first, askCommand(first, "/anthropic-key", provisioning.id));
      expect(key.stderr).toBe("");
      expect(key.stdout).toMatch(/^pier_gw_\S+$/);
      const header = await inPod(first, askCommand(first, "/mcp-headers", provisioning.id));
      expect(header.stderr).toBe("");
      const { Authorization } = JSON.parse(header.stdout) as { Authorization: string };
      expect(Authorization).toMatch(/^Bearer pier_mcp_/);
      expect(rowsOf(provisioning.id)).toEqual({ gateway: 1, mcp: 1 });

      // The remote refuses: the session fails.
      remote.release(true);
      const failed = await waitForState(pier, cookie, provisioning.id, "failed");
      expect(failed.error).toContain("500");
      expect(rowsOf(provisioning.id)).toEqual({ gateway: 0, mcp: 0 });
      const sent = fake.requests.length;
      expect((await askGateway(key.stdout)).status).toBe(401);
      expect((await askMcp(Authorization)).status).toBe(401);

      // Resumed once the remote is back, the session is live again; its old tokens stay dead.
      remote.release(false);
      const resumed = await pier.fetch(`/api/sessions/${provisioning.id}/resume`, json({}, { cookie }));
      expect(resumed.status).toBe(200);
      await waitForState(pier, cookie, provisioning.id, "active");
      const stale = await askGateway(key.stdout);
      expect(stale.status).toBe(401);
      expect(((await stale.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
      expect((await askMcp(Authorization)).status).toBe(401);
      expect(fake.requests.length).toBe(sent);
      // The pod gets fresh ones for the live session.
      const fresh = await inPod(first, askCommand(first, "/anthropic-key", provisioning.id));
      expect(fresh.stdout).toMatch(/^pier_gw_\S+$/);
      expect(fresh.stdout).not.toBe(key.stdout);

      for (const id of [provisioning.id, first.id]) expect((await pier.fetch(`/api/sessions/${id}/end`, json({}, { cookie }))).status).toBe(200);
    } finally {
      remote.release(true);
      remote.stop();
    }
  }, 300_000);
});
