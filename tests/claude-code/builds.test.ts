/**
 * Fetching Pier's copies of Claude Code from the real npm registry (the one outside service this
 * machine reaches), into a fresh directory so the download really happens: a session starts
 * without waiting for it and its page says how far it is, everyone asking meanwhile shares one
 * download, whose progress is published, and the program runs once it is there. An unknown
 * version and an unreachable registry are each a sentence, tried again later, never a crash.
 * The download is about 175 MB, once per run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildStatus, ClaudeCodeBuilds } from "../../src/claude-code/builds.ts";
import { DEFAULT_CLAUDE_CODE_VERSION } from "../../src/claude-code/package.ts";
import { EventBus } from "../../src/infra/events.ts";
import { NPM_REGISTRY } from "../support/claude-code.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

describe("builds that cannot be fetched", () => {
  const dir = mkdtempSync(join(tmpdir(), "pier-builds-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("an unknown version fails with a sentence, which stands until it is tried again later", async () => {
    const builds = new ClaudeCodeBuilds({ dir, registry: NPM_REGISTRY, bus: new EventBus(), retryAfterMs: 200 });
    const first = await builds.fetch("0.0.1", "linux-x64").catch((error: Error) => error.message);
    expect(first).toBe("Claude Code 0.0.1 could not be fetched: The npm registry has no @anthropic-ai/claude-code-linux-x64 0.0.1.");
    const status = builds.status("0.0.1", "linux-x64");
    expect(status?.state).toBe("failed");
    // Asked again at once, the failure stands (no new request); later it is tried again.
    const at = status?.state === "failed" ? status.at : 0;
    await builds.fetch("0.0.1", "linux-x64").catch(() => {});
    expect((builds.status("0.0.1", "linux-x64") as { at: number }).at).toBe(at);
    await Bun.sleep(250);
    await builds.fetch("0.0.1", "linux-x64").catch(() => {});
    expect((builds.status("0.0.1", "linux-x64") as { at: number }).at).toBeGreaterThan(at);
  });

  test("an unreachable registry fails with a sentence, never a crash", async () => {
    const builds = new ClaudeCodeBuilds({ dir, registry: "http://127.0.0.1:9", bus: new EventBus() });
    const failure = await builds.fetch(DEFAULT_CLAUDE_CODE_VERSION, "linux-x64").catch((error: Error) => error.message);
    expect(failure).toStartWith(`Claude Code ${DEFAULT_CLAUDE_CODE_VERSION} could not be fetched: `);
  });
});

describe("a Pier whose tools directory is empty", () => {
  const tools = mkdtempSync(join(tmpdir(), "pier-tools-"));
  const seen: Array<{ at: number; status: BuildStatus }> = [];
  let activeAt = 0;
  let pier: TestPier;
  let cookie: string;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", PIER_TOOLS_DIR: tools, PIER_NPM_REGISTRY: NPM_REGISTRY });
    pier.pier.bus.subscribe("claude-code.build", null, (status) => seen.push({ at: performance.now(), status }));
    pier.pier.bus.subscribe("session.state", null, ({ state }) => {
      if (state === "active") activeAt ||= performance.now();
    });
    cookie = await setUpAdmin(pier);
  }, 60_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(tools, { recursive: true, force: true });
  }, 60_000);

  test("a session starts without waiting for the fetch; everyone asking shares one download; then claude runs", async () => {
    if (Bun.which("claude")) return; // the local runtime uses this machine's own claude then
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("fetching").path}`, "fetching");
    const session = await activeSession(pier, cookie, { repoId });
    const fetchingNow = seen.some(({ status }) => status.state === "fetching") && !seen.some(({ status }) => status.state === "ready");
    const page = await (await pier.fetch(`/sessions/${session.id}`, { headers: { cookie } })).text();
    if (fetchingNow) expect(page).toContain(`Fetching Claude Code ${DEFAULT_CLAUDE_CODE_VERSION}`);

    const commands = await Promise.all(Array.from({ length: 5 }, () => pier.pier.claudeCodeCommandFor(session)));
    const path = join(tools, "claude-code", DEFAULT_CLAUDE_CODE_VERSION, "linux-x64", "claude");
    expect(new Set(commands)).toEqual(new Set([path]));
    const started = seen.filter(({ status }) => status.state === "fetching" && status.fraction === null);
    const ready = seen.filter(({ status }) => status.state === "ready");
    expect(started).toHaveLength(1);
    expect(ready).toHaveLength(1);
    expect(seen.filter(({ status }) => status.state === "fetching" && status.fraction !== null && status.fraction > 0 && status.fraction < 1).length).toBeGreaterThan(0);
    // The session was active before the download was done: nothing waits for Claude Code but what needs it.
    expect(activeAt).toBeGreaterThan(0);
    expect(activeAt).toBeLessThan(ready[0]!.at);

    expect(await pier.pier.claudeCode.noticeFor(session)).toBeNull();
    const ran = await pier.pier.runtime.exec({ id: "local", image: "local" }, ["claude", "--version"], { cwd: session.worktreePath });
    expect(ran.stdout).toBe(`${DEFAULT_CLAUDE_CODE_VERSION} (Claude Code)\n`);
  }, 300_000);
});
