/**
 * The real Claude Code CLI (2.1.330, from npm) typed in a session's terminal, through Pier's model
 * gateway: `claude -p` in the worktree finds the gateway and its key helper in the worktree's
 * Claude Code settings, is answered by the suite's stand-in for the Anthropic API behind Pier, and
 * what it spends lands in the session's cost. The real key reaches the fake and nothing else: not
 * the pod's environment, processes, arguments or files, nor any process on this machine.
 *
 * The pod uses host networking (PIER_POD_NETWORK=host) so that it reaches Pier, and Pier the fake,
 * on 127.0.0.1; nothing else is reached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claudeCodeTestImage } from "../support/claude-code.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = `sk-ant-real-key-${crypto.randomUUID()}`;
/** claude-sonnet-4-6 in the price table Pier starts with: USD per million tokens. */
const SONNET = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };

describe("claude typed in the terminal, through the gateway", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-gateway-cc-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;

  /** As root in the pod, to see every process there. */
  const asRoot = async (script: string) => {
    const child = Bun.spawn(["docker", "exec", "-u", "0", session.podId!, "bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const [out] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    return out;
  };
  const sessionCost = async () => ((await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { costUsd: number }).costUsd;

  beforeAll(async () => {
    const image = await claudeCodeTestImage();
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    // Host networking: the pod reaches Pier (and so the fake behind it) on 127.0.0.1.
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: image, PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("claude-gated").path}`, "claude-gated");
    session = await activeSession(pier, cookie, { repoId });
  }, 600_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("claude -p is answered through Pier, metered at the price table, and the real key never enters the pod", async () => {
    const usage = { input_tokens: 4321, output_tokens: 123, cache_creation_input_tokens: 1000, cache_read_input_tokens: 20_000 };
    // Held a while before answering, so the running claude's processes can be looked at.
    fake.script({ text: "Hello from the fake, through Pier.", usage, delayMs: 4000 });
    const term = await TermClient.connect(pier.url, session.id, { cookie });
    try {
      const before = await sessionCost();
      // The shell has where the gateway is, and nothing secret.
      term.input("echo \"BASE=$ANTHROPIC_BASE_URL\"\r");
      await term.waitFor(/BASE=http:\/\/127\.0\.0\.1:\d+\/api\/gateway\/anthropic/);
      term.input(`CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 claude -p "Say hello." ; echo "CC-EXIT-$?"\r`);
      const deadline = Date.now() + 90_000;
      while (fake.requests.length === 0) {
        if (Date.now() > deadline) throw new Error(`claude never reached the fake; the terminal shows ${JSON.stringify(term.text.slice(-1500))}`);
        await Bun.sleep(100);
      }
      // While claude waits for its answer: every process in the pod, its environment and arguments.
      const procs = await asRoot("for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done");
      expect(procs).toContain("claude");
      expect(procs).toContain("ANTHROPIC_BASE_URL=");
      expect(procs).not.toContain(API_KEY);
      const host = Bun.spawn(["ps", "-eww", "-o", "args="], { stdout: "pipe" });
      expect(await new Response(host.stdout).text()).not.toContain(API_KEY);

      await term.waitFor(/CC-EXIT-0/, 90_000);
      expect(term.text).toContain("Hello from the fake, through Pier.");

      const request = fake.requests.find((seen) => seen.body?.model === "claude-sonnet-4-6")!;
      expect(request.path).toBe("/v1/messages?beta=true");
      expect(request.headers["x-api-key"]).toBe(API_KEY);
      expect(request.headers["user-agent"]).toContain("claude-cli/2.1.330");
      for (const seen of fake.requests) expect(JSON.stringify(seen.headers)).not.toContain("pier_gw_");

      const expected = (4321 * SONNET.input + 123 * SONNET.output + 1000 * SONNET.cacheWrite + 20_000 * SONNET.cacheRead) / 1e6;
      const answered = fake.requests.filter((seen) => seen.body?.model === "claude-sonnet-4-6").length;
      expect(answered).toBe(1);
      expect(await sessionCost()).toBeCloseTo(before + expected, 10);
      const rows = (await (await pier.fetch("/api/costs?groupBy=session", { headers: { cookie } })).json()) as Array<{ key: string; inputTokens: number; outputTokens: number; cacheWriteTokens: number; cacheReadTokens: number }>;
      expect(rows.find((row) => row.key === session.id)).toMatchObject({ inputTokens: 4321, outputTokens: 123, cacheWriteTokens: 1000, cacheReadTokens: 20_000 });

      // Nothing of the key anywhere a pod sees: the container's own config, its files, the worktree.
      const inspect = Bun.spawn(["docker", "inspect", session.podId!], { stdout: "pipe" });
      expect(await new Response(inspect.stdout).text()).not.toContain(API_KEY);
      const files = await asRoot(`grep -rl -- ${JSON.stringify(API_KEY)} ${session.worktreePath} /home /tmp /root /etc 2>/dev/null; echo searched`);
      expect(files.trim()).toBe("searched");
    } finally {
      term.close();
    }
  }, 300_000);
});
