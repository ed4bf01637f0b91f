/**
 * What a session does on the local engine it does on another Docker engine, where its pod shares
 * nothing of Pier's disk (tests/pods/remote-pod-disk.test.ts): a second dockerd of the test's own
 * stands in for a remote host, one for the whole file. The repository is on the fake GitHub; the
 * model is the fake Anthropic. The pods use host networking, as a remote pod reaches Pier's
 * address: its clone comes from Pier's /git, its gateway and its push go to 127.0.0.1.
 *
 * In one pod there, one session of each kind: Pier's own agent runs its tools in the pod and
 * launches an admin's MCP server there (the launcher asks Pier through the services socket, which
 * the pod reaches through its bridge); a push from its worktree goes through the credential helper
 * to the repo's origin; Claude Code (from the engine's tools volume) and opencode (an ACP agent
 * from the same volume) answer through the gateway, metered in the session's ledger.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { costOf, priceOf } from "../../src/costs/costs.ts";
import { findUserByUsername } from "../../src/auth/users.ts";
import { podServicesDir } from "../../src/repos/layout.ts";
import { getRepo } from "../../src/repos/repos.ts";
import { ChatClient } from "../support/chat-client.ts";
import { claudeCodeOnHost } from "../support/claude-code.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-remote-conformance-0000000000";
const GITHUB_TOKEN = "ghp_remoteConformance0000000000";
const MCP_SECRET = "echo-secret-far-away-5a1d";
const MODEL = "claude-sonnet-4-6";

/** opencode names its sessions with a request of its own; those are answered apart from the script. */
const isTitleRequest = (body: any) => JSON.stringify(body.system ?? "").includes("title") && !JSON.stringify(body.tools ?? []).includes("bash");

describe("a session on another Docker engine, as on the local one", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-remote-conform-"));
  let engine: SecondEngine;
  let github: FakeGitHub;
  let anthropic: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let agentSession: SessionJson;
  const headers = () => ({ cookie, origin: pier.url });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await pier.fetch(path, { method, headers: { cookie, origin: pier.url, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return text ? JSON.parse(text) : null;
  };
  /** A script in the session's pod on the second engine, as the pod user, in its worktree. */
  const inPod = async (session: SessionJson, script: string) => {
    const child = Bun.spawn(["docker", "-H", engine.host, "exec", "-w", session.worktreePath!, session.podId!, "bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { stdout, stderr, code };
  };
  /** The session's row in the costs ledger. */
  const ledgerOf = async (session: SessionJson) => ((await api("GET", "/api/costs?groupBy=session")) as Array<{ key: string; costUsd: number; inputTokens: number; outputTokens: number }>).find((row) => row.key === session.id);

  beforeAll(async () => {
    await claudeCodeOnHost();
    engine = await startSecondEngine();
    // The repository holds an MCP server (the suite's echo server, bundled into one file) for the pod to run.
    const bundleDir = mkdtempSync(join(tmpdir(), "pier-echo-server-"));
    const built = await Bun.build({ entrypoints: [join(import.meta.dir, "..", "mcp-servers", "fixtures", "echo-server.ts")], target: "bun", outdir: bundleDir });
    expect(built.success).toBe(true);
    const remote = makeRemoteRepo("far-conform");
    const work = join(dirname(remote.path), "work");
    remote.git("checkout", "--quiet", "main");
    Bun.spawnSync(["mkdir", "-p", join(work, "tools")]);
    writeFileSync(join(work, "tools", "echo-server.js"), readFileSync(built.outputs[0]!.path));
    rmSync(bundleDir, { recursive: true, force: true });
    remote.git("add", "tools/echo-server.js");
    remote.git("commit", "--quiet", "-m", "An MCP server for the agent");
    remote.git("push", "--quiet", "origin", "main");
    github = await startFakeGitHub({ token: GITHUB_TOKEN });
    await github.createRepo("octo", "far", { from: remote.path });
    rmSync(dirname(remote.path), { recursive: true, force: true });

    anthropic = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host", GITHUB_API_URL: github.apiUrl, ANTHROPIC_BASE_URL: anthropic.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await api("PUT", "/api/settings", { githubToken: GITHUB_TOKEN, anthropicApiKey: API_KEY });
    await api("PUT", "/api/config/tool-policies", { mode: "allow_all" });
    await api("POST", "/api/config/docker-engines", { name: "far", host: engine.host });
    repoId = await addRepo(pier, cookie, `${github.url}/octo/far.git`, "far");
    await api("PATCH", `/api/repos/${repoId}`, { dockerEngine: "far" });
    agentSession = await activeSession(pier, cookie, { repoId, model: MODEL });
    // The pod is on the second engine.
    expect((await engine.docker("ps", "-q", "--no-trunc", "--filter", `label=pier.repo=${repoId}`)).trim()).toBe(agentSession.podId!);
  }, 600_000);

  afterAll(async () => {
    if (pier) await closeForGood(pier).catch(() => undefined);
    await engine?.destroy();
    await github?.stop();
    await anthropic?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  test("a pod made there is handed out with its bridge up: the credential helper gets Pier's answer at once", async () => {
    // Another person's pod, new: a session's git runs in it as soon as it is handed out.
    await api("POST", "/api/users", { username: "far-member", password: "far member password 1", role: "member" });
    const member = findUserByUsername(pier.pier.db, "far-member")!.id;
    const shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, repoId), member);
    const helper = join(podServicesDir(dataDir, repoId, member), "git-credential-pier");
    const asked = await shell.runtime.exec(shell.pod, ["sh", "-c", `printf 'protocol=http\\nhost=${new URL(pier.url).host}\\n\\n' | ${helper} get`], { cwd: "/", timeoutMs: 30_000 });
    expect(asked.stdout).toContain("username=");
    expect(asked.stdout).toMatch(/password=\S+/);
  }, 120_000);

  test("Pier's agent reads, writes and runs in the pod there", async () => {
    expect((await inPod(agentSession, "echo 'from the terminal' > terminal.txt")).code).toBe(0);
    anthropic.script(
      { toolUse: { name: "read_file", input: { path: "terminal.txt" } } },
      { toolUse: { name: "write_file", input: { path: "notes/agent.txt", content: "written by the agent\n" } } },
      { toolUse: { name: "bash", input: { command: "echo ran-in-$(hostname)-$((6*7)) && cat notes/agent.txt" } } },
      { text: "Done." },
    );
    const chat = await ChatClient.connect(pier.url, agentSession.id, headers());
    const events = await chat.turn("Read, write and run.", 120_000);
    chat.close();
    const results = events.filter((e) => e.type === "tool_result");
    expect(results.map((r) => r.isError)).toEqual([false, false, false]);
    expect(results[0]!.output).toContain("from the terminal");
    expect(results[1]!.diff).toContain("+written by the agent");
    const hostname = (await inPod(agentSession, "hostname")).stdout.trim();
    expect(results[2]!.output).toContain(`ran-in-${hostname}-42`);
    expect(results[2]!.output).toContain("written by the agent");
    expect((await inPod(agentSession, "stat -c '%u %n' notes/agent.txt")).stdout).toBe("1000 notes/agent.txt\n");
  }, 180_000);

  test("a push from the session's worktree reaches the repo's origin through the credential helper", async () => {
    const pushed = await inPod(agentSession, "git add notes && git commit -qm 'A note from far away' && GIT_TERMINAL_PROMPT=0 git push -q origin HEAD");
    expect(pushed.code, pushed.stderr).toBe(0);
    const head = (await inPod(agentSession, "git rev-parse HEAD")).stdout.trim();
    expect(github.gitAt("octo", "far", "rev-parse", `refs/heads/${agentSession.branch}`)).toBe(head);
    // No file in the pod holds the token: the helper asked Pier for it.
    expect((await inPod(agentSession, `grep -rl ${GITHUB_TOKEN} "$HOME" /tmp /etc /run . "$(git rev-parse --git-common-dir)" 2>/dev/null || true`)).stdout).toBe("");
  }, 120_000);

  test("an admin's MCP server is launched in the pod there, its command and secret fetched through the bridge", async () => {
    const server = await api("POST", "/api/config/mcps", { name: "echo", command: "bun", args: ["tools/echo-server.js", "--far"], env: { ECHO_SECRET: MCP_SECRET } });
    try {
      anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "far" } } }, { text: "It told me." });
      const chat = await ChatClient.connect(pier.url, agentSession.id, headers());
      const events = await chat.turn("What does the echo server know?", 120_000);
      chat.close();
      expect(events.filter((e) => e.type === "error")).toEqual([]);
      const result = events.find((e) => e.type === "tool_result")!;
      expect(result.isError).toBe(false);
      const hash = `sha256:${createHash("sha256").update(MCP_SECRET).digest("hex")}`;
      expect(result.output).toContain(`label=far secret=${hash} cwd=${agentSession.worktreePath} args=--far`);
      expect((await inPod(agentSession, "ps -eo args")).stdout).toContain("tools/echo-server.js --far");
    } finally {
      await api("DELETE", `/api/config/mcps/${server.id}`);
    }
  }, 180_000);

  test("Claude Code, from the engine's tools volume, answers a turn through the gateway, metered in the session's ledger", async () => {
    const session = await activeSession(pier, cookie, { repoId, engine: "claude-code", model: MODEL });
    expect(session.podId).toBe(agentSession.podId);
    const before = anthropic.requests.length;
    anthropic.script(
      { toolUse: { name: "Bash", input: { command: "echo 'written by claude code' > cc.txt", description: "Write a note" } }, usage: { input_tokens: 1000, output_tokens: 200 } },
      { text: "I wrote cc.txt.", usage: { input_tokens: 1200, output_tokens: 30 } },
    );
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    const events = await chat.turn("Write a note.", 300_000);
    chat.close();
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect(events.filter((e) => e.type === "tool_result").map((r) => r.isError)).toEqual([false]);
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("I wrote cc.txt.");
    expect((await inPod(session, "cat cc.txt")).stdout).toBe("written by claude code\n");
    const usage = { inputTokens: 2200, outputTokens: 230, cacheWriteTokens: 0, cacheReadTokens: 0 };
    const end = events.at(-1)!;
    expect(end.usage).toEqual(usage);
    const cost = costOf(priceOf(pier.pier.db, MODEL)!, { ...usage, inputTokens: 1000, outputTokens: 200 }) + costOf(priceOf(pier.pier.db, MODEL)!, { ...usage, inputTokens: 1200, outputTokens: 30 });
    expect(end.costUsd).toBeCloseTo(cost, 10);
    expect(await ledgerOf(session)).toMatchObject({ inputTokens: 2200, outputTokens: 230 });
    expect((await ledgerOf(session))!.costUsd).toBeCloseTo(cost, 10);
    // Through the gateway: the pod holds no key, so the one the fake got is Pier's.
    const fromClaude = anthropic.requests.slice(before);
    expect(fromClaude.length).toBeGreaterThanOrEqual(2);
    for (const request of fromClaude) expect(request.headers["x-api-key"]).toBe(API_KEY);
    // The claude that ran is Pier's link into the engine's tools volume.
    const ran = (await inPod(session, "ps -eo args")).stdout.match(/^(\S+\/claude) -p /m);
    expect((await inPod(session, `readlink ${ran![1]}`)).stdout).toStartWith("/opt/pier-tools/claude-code-");
    await api("POST", `/api/sessions/${session.id}/end`, {});
  }, 600_000);

  test("opencode, an ACP agent supplied from the engine's tools volume, answers a turn and runs its tool in the pod", async () => {
    const session = await activeSession(pier, cookie, { repoId, engine: "acp", agent: "opencode", model: MODEL });
    expect(session.podId).toBe(agentSession.podId);
    anthropic.scriptWhen(isTitleRequest, { text: "Far" }, { text: "Far" }, { text: "Far" });
    anthropic.script(
      { toolUse: { name: "bash", input: { command: "echo opencode-was-here > oc.txt && cat oc.txt", description: "Write" } }, usage: { input_tokens: 900, output_tokens: 40 } },
      { text: "Hello from opencode, far away.", usage: { input_tokens: 1000, output_tokens: 200 } },
    );
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    // The first turn waits for opencode's build to be fetched (once per machine) and copied to the engine.
    const events = await chat.turn("Say hello.", 600_000);
    chat.close();
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    expect(events.find((e) => e.type === "assistant_message")!.text).toBe("Hello from opencode, far away.");
    const result = events.find((e) => e.type === "tool_result")!;
    expect(result.isError).toBe(false);
    expect(result.output).toContain("opencode-was-here");
    expect((await inPod(session, "cat oc.txt")).stdout).toBe("opencode-was-here\n");
    expect((await inPod(session, "ps -eo args")).stdout).toMatch(/\/opt\/pier-tools\/\S+\/bin\/opencode acp/);
    expect((await ledgerOf(session))!.outputTokens).toBeGreaterThanOrEqual(240);
    await api("POST", `/api/sessions/${session.id}/end`, {});
  }, 900_000);
});
