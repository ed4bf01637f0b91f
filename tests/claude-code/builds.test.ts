/**
 * Fetching Pier's copies of Claude Code, against a local npm registry of our own on 127.0.0.1
 * that serves a small stand-in package (a shell script as `claude`) with its real sha512 integrity
 * and counts its downloads: one download per version and variant however many ask at once,
 * progress as it comes, a failure said as a sentence and tried again later, and the session page
 * telling how it stands.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildStatus, ClaudeCodeBuilds } from "../../src/claude-code/builds.ts";
import { EventBus } from "../../src/infra/events.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";

interface FakeRegistry {
  url: string;
  downloads: () => number;
  /** Holds tarball answers until released. */
  hold(): () => void;
  stop(): void;
}

/** A package per version listed here; any other version is unknown (404), as on npm. */
function fakeRegistry(versions: string[]): FakeRegistry {
  const work = mkdtempSync(join(tmpdir(), "pier-fake-npm-"));
  const tarballs = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const version of versions) {
    const dir = join(work, version, "package");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "claude"), `#!/bin/sh\necho "${version} (Claude Code)"\n`, { mode: 0o755 });
    // Incompressible padding, so the download is big enough to report progress on the way.
    writeFileSync(join(dir, "padding"), randomBytes(9 << 20));
    const tgz = join(work, `${version}.tgz`);
    Bun.spawnSync(["tar", "-czf", tgz, "-C", join(work, version), "package"]);
    tarballs.set(version, new Uint8Array(readFileSync(tgz)));
  }
  let downloads = 0;
  let gate: Promise<void> | null = null;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request): Promise<Response> {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const meta = path.match(/^\/@anthropic-ai\/claude-code-(linux-[a-z0-9-]+)\/([^/]+)$/);
      if (meta) {
        const tarball = tarballs.get(meta[2]!);
        if (!tarball) return Response.json({ error: "version not found" }, { status: 404 });
        const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
        return Response.json({ dist: { tarball: `${server.url.origin}/tarballs/${meta[2]}.tgz`, integrity } });
      }
      const file = path.match(/^\/tarballs\/([^/]+)\.tgz$/);
      if (file && tarballs.has(file[1]!)) {
        downloads++;
        if (gate) await gate;
        return new Response(tarballs.get(file[1]!), { headers: { "content-length": String(tarballs.get(file[1]!)!.length) } });
      }
      return new Response("not found", { status: 404 });
    },
  });
  return {
    url: server.url.origin,
    downloads: () => downloads,
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        gate = null;
        release();
      };
    },
    stop() {
      server.stop(true);
      rmSync(work, { recursive: true, force: true });
    },
  };
}

describe("fetching Pier's copies of Claude Code", () => {
  const registry = fakeRegistry(["9.1.0"]);
  const dir = mkdtempSync(join(tmpdir(), "pier-builds-"));
  afterAll(() => {
    registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("many asking at once share one download, whose progress is published", async () => {
    const bus = new EventBus();
    const seen: BuildStatus[] = [];
    bus.subscribe("claude-code.build", null, (status) => seen.push(status));
    const builds = new ClaudeCodeBuilds({ dir, registry: registry.url, bus });
    const paths = await Promise.all(Array.from({ length: 5 }, () => builds.fetch("9.1.0", "linux-x64")));
    expect(new Set(paths).size).toBe(1);
    expect(registry.downloads()).toBe(1);
    const fractions = seen.filter((s) => s.state === "fetching").map((s) => (s.state === "fetching" ? s.fraction : null));
    expect(fractions[0]).toBeNull();
    expect(fractions.filter((f) => f !== null && f > 0 && f < 1).length).toBeGreaterThan(0);
    expect(seen.at(-1)?.state).toBe("ready");
    expect(Bun.spawnSync([paths[0]!]).stdout.toString()).toBe("9.1.0 (Claude Code)\n");
    // Kept: asking again downloads nothing.
    expect(await builds.fetch("9.1.0", "linux-x64")).toBe(paths[0]!);
    expect(registry.downloads()).toBe(1);
  });

  test("an unknown version fails with a sentence, which stands until it is tried again later", async () => {
    const builds = new ClaudeCodeBuilds({ dir, registry: registry.url, bus: new EventBus(), retryAfterMs: 200 });
    const first = await builds.fetch("9.9.9", "linux-x64").catch((error: Error) => error.message);
    expect(first).toBe("Claude Code 9.9.9 could not be fetched: The npm registry has no @anthropic-ai/claude-code-linux-x64 9.9.9.");
    const status = builds.status("9.9.9", "linux-x64");
    expect(status?.state).toBe("failed");
    // Asked again at once, the failure stands (no new request); later it is tried again.
    const at = status?.state === "failed" ? status.at : 0;
    await builds.fetch("9.9.9", "linux-x64").catch(() => {});
    expect((builds.status("9.9.9", "linux-x64") as { at: number }).at).toBe(at);
    await Bun.sleep(250);
    await builds.fetch("9.9.9", "linux-x64").catch(() => {});
    expect((builds.status("9.9.9", "linux-x64") as { at: number }).at).toBeGreaterThan(at);
  });

  test("an unreachable registry fails with a sentence, never a crash", async () => {
    const builds = new ClaudeCodeBuilds({ dir, registry: "http://127.0.0.1:9", bus: new EventBus() });
    const failure = await builds.fetch("9.1.1", "linux-x64").catch((error: Error) => error.message);
    expect(failure).toStartWith("Claude Code 9.1.1 could not be fetched: ");
  });
});

describe("the session page while Pier fetches Claude Code", () => {
  const registry = fakeRegistry(["9.2.0"]);
  const tools = mkdtempSync(join(tmpdir(), "pier-tools-"));
  let pier: TestPier;
  let cookie: string;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", PIER_TOOLS_DIR: tools, PIER_NPM_REGISTRY: registry.url });
    cookie = await setUpAdmin(pier);
  }, 60_000);

  afterAll(async () => {
    await closeForGood(pier);
    registry.stop();
    rmSync(tools, { recursive: true, force: true });
  });

  test("the session starts at once, says how far the fetch is, and has claude when it is done", async () => {
    if (Bun.which("claude")) return; // the local runtime uses this machine's own claude then
    const release = registry.hold();
    const put = await pier.fetch("/api/settings", { ...json({ claudeCodeVersion: "9.2.0" }, { cookie }), method: "PUT" });
    expect(put.status).toBe(200);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("fetching").path}`, "fetching");
    // Active while the download is held: nothing waits for Claude Code but what needs it.
    const session = await activeSession(pier, cookie, { repoId });
    const page = await (await pier.fetch(`/sessions/${session.id}`, { headers: { cookie } })).text();
    expect(page).toContain("Fetching Claude Code 9.2.0…");
    const command = pier.pier.claudeCodeCommandFor(session);
    release();
    expect(await command).toBe(join(tools, "claude-code", "9.2.0", "linux-x64", "claude"));
    expect(await pier.pier.claudeCode.noticeFor(session)).toBeNull();
    const ran = await pier.pier.runtime.exec({ id: "local", image: "local" }, ["claude"], { cwd: session.worktreePath });
    expect(ran.stdout).toBe("9.2.0 (Claude Code)\n");
    expect(registry.downloads()).toBe(1);
  }, 120_000);
});
