/**
 * How Pier fetches an agent's package, against a registry on loopback that speaks the npm
 * registry's wire format (a version's document, its tarball made by the real `tar`, each with a
 * correct sha512 integrity): the first start of an agent does not wait, it says how far the fetch
 * is and gives a promise to wait on; starts meanwhile share one download, whose progress is
 * published; then the platform build's program runs. A build holding a link is refused with a
 * sentence, and a package with no build for this machine says so. A Node program is installed with
 * its dependencies (by Bun's installer, from this registry) and run by the machine's node. On the
 * local runtime, with a tools directory of its own (the real packages are tested in pods by
 * agent-supply.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentBuildStatus } from "../../src/agents/agent-builds.ts";
import { type AgentLaunch, NODE_VERSION } from "../../src/agents/agent-supply.ts";
import { findUserByUsername } from "../../src/auth/users.ts";
import { getRepo } from "../../src/repos/repos.ts";
import type { PodShell } from "../../src/workspaces/pod-script.ts";
import { run } from "../support/commands.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";

const PROGRAM = "#!/bin/sh\necho \"a fake agent from the test registry: $*\"\n";
const ARCH = process.arch === "arm64" ? "arm64" : "x64";
const OTHER_ARCH = ARCH === "x64" ? "arm64" : "x64";

/** A tarball made by the real tar from a `package` directory laid out by `lay`. */
async function tarball(lay: (pkg: string) => void): Promise<Uint8Array<ArrayBuffer>> {
  const stage = mkdtempSync(join(tmpdir(), "pier-agent-pkg-"));
  try {
    const pkg = join(stage, "package");
    mkdirSync(pkg);
    lay(pkg);
    await run(["tar", "-czf", join(stage, "out.tgz"), "-C", stage, "package"], stage);
    return new Uint8Array(readFileSync(join(stage, "out.tgz")));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const integrity = (bytes: Uint8Array) => `sha512-${createHash("sha512").update(bytes).digest("base64")}`;

/** A registry on loopback: documents and tarballs by path; notes every request. */
function registry() {
  const routes = new Map<string, () => Response>();
  const seen: string[] = [];
  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      seen.push(path);
      return routes.get(path)?.() ?? Response.json({ error: "Not found" }, { status: 404 });
    },
  });
  const url = `http://127.0.0.1:${http.port}`;
  /** Publishes a version's document, and its tarball when given. */
  const publish = (name: string, version: string, doc: Record<string, unknown>, bytes?: Uint8Array<ArrayBuffer>) => {
    const file = `/tarballs/${name}-${version}.tgz`;
    const body = { name, version, ...doc, dist: { tarball: `${url}${file}`, integrity: integrity(bytes ?? new Uint8Array()) } };
    routes.set(`/${name}/${version}`, () => Response.json(body));
    routes.set(`/${name}/latest`, () => Response.json(body));
    // The whole document of the package, as installers ask for it.
    routes.set(`/${name}`, () => Response.json({ name, "dist-tags": { latest: version }, versions: { [version]: body } }));
    if (bytes) routes.set(file, () => new Response(bytes));
  };
  return { url, seen, publish, stop: () => http.stop(true) };
}

describe("an agent's package fetched from the registry", () => {
  const tools = mkdtempSync(join(tmpdir(), "pier-agent-tools-"));
  const npm = registry();
  const statuses: AgentBuildStatus[] = [];
  let pier: TestPier;
  let cookie: string;
  let shell: PodShell;
  let key: { repoId: string; userId: string };

  /** A shim `fake-agent` at this version over builds for these CPUs, each holding what `lay` puts in it. */
  const publishAgent = async (version: string, cpus: string[], lay: (pkg: string) => void) => {
    const builds = Object.fromEntries(cpus.map((cpu) => [`fake-agent-linux-${cpu}`, version]));
    npm.publish("fake-agent", version, { bin: { "fake-agent": "bin/fake-agent.js" }, optionalDependencies: builds }, await tarball(() => {}));
    for (const cpu of cpus) npm.publish(`fake-agent-linux-${cpu}`, version, { os: ["linux"], cpu: [cpu] }, await tarball(lay));
  };
  const addAgent = async (id: string, version: string) => {
    const res = await pier.fetch("/api/config/agents", json({ id, name: "Fake", package: "fake-agent", version, args: ["--acp"], service: "none" }, { cookie }));
    expect(res.status, await res.clone().text()).toBe(201);
  };
  const launch = (id: string): Promise<AgentLaunch> => pier.pier.agents.launchFor(id, key, shell);

  beforeAll(async () => {
    // Claude Code is fetched from this registry too (which has none), so no real download happens.
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", PIER_TOOLS_DIR: tools, PIER_NPM_REGISTRY: npm.url });
    pier.pier.bus.subscribe("agents.build", null, (status) => statuses.push(status));
    cookie = await setUpAdmin(pier);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("fetching-agents").path}`, "fetching-agents");
    const me = findUserByUsername(pier.pier.db, ADMIN.username)!;
    key = { repoId, userId: me.id };
    shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, repoId), me.id);
  }, 60_000);

  afterAll(async () => {
    if (pier) await closeForGood(pier);
    npm.stop();
    rmSync(tools, { recursive: true, force: true });
  }, 60_000);

  test("the first start says how far the fetch is without waiting; starts meanwhile share one download; then its program runs", async () => {
    await publishAgent("1.0.0", [ARCH, OTHER_ARCH], (pkg) => {
      mkdirSync(join(pkg, "bin"));
      // Not executable in the tarball, as some platform packages ship it: npm (and Pier) make it so.
      writeFileSync(join(pkg, "bin", "fake-agent"), PROGRAM, { mode: 0o644 });
      // Big enough (and random, so it stays so in the tarball) for progress to be told on the way.
      writeFileSync(join(pkg, "bin", "data"), randomBytes(10 << 20));
    });
    await addAgent("fake", "1.0.0");
    const [first, second] = await Promise.all([launch("fake"), launch("fake")]);
    for (const answer of [first, second]) {
      if (!("unavailable" in answer)) throw new Error("started before its build was fetched");
      expect(answer.unavailable).toMatch(/^Fetching Fake 1\.0\.0…( \d+ %)?$/);
      expect(answer.ready).not.toBeNull();
    }
    await (first as { ready: Promise<void> }).ready;
    const tarballs = npm.seen.filter((path) => path.startsWith("/tarballs/"));
    expect(tarballs).toEqual([`/tarballs/fake-agent-linux-${ARCH}-1.0.0.tgz`]);
    // Progress was published on the way: some fractions, then ready.
    const mine = statuses.filter((status) => status.key === `packages/fake-agent-linux-${ARCH}@1.0.0`);
    expect(mine.some((status) => status.state === "fetching" && status.fraction !== null && status.fraction > 0 && status.fraction < 1)).toBe(true);
    expect(mine.at(-1)?.state).toBe("ready");

    const answer = await launch("fake");
    if (!("command" in answer)) throw new Error(answer.unavailable);
    const program = join(tools, "agents", "packages", `fake-agent-linux-${ARCH}@1.0.0`, "bin", "fake-agent");
    expect(answer).toEqual({ command: [program, "--acp"], env: {} });
    expect(statSync(program).mode & 0o7777).toBe(0o755);
    const ran = await shell.runtime.exec(shell.pod, answer.command, { cwd: shell.cwd, timeoutMs: 30_000 });
    expect(ran.stdout).toBe("a fake agent from the test registry: --acp\n");
  }, 60_000);

  test("a build holding a link is refused with a sentence, and nothing is kept", async () => {
    const victim = join(tools, "server-secret");
    writeFileSync(victim, "only the server reads this\n", { mode: 0o600 });
    await publishAgent("1.0.1", [ARCH], (pkg) => {
      mkdirSync(join(pkg, "bin"));
      symlinkSync(victim, join(pkg, "bin", "fake-agent"));
    });
    await addAgent("linked", "1.0.1");
    const fetching = await launch("linked");
    if (!("unavailable" in fetching)) throw new Error("a linked build was started");
    await fetching.ready;
    const answer = await launch("linked");
    expect(answer).toEqual({
      unavailable: `Fake 1.0.1 could not be fetched: The fake-agent-linux-${ARCH} 1.0.1 package is refused: it holds a link (package/bin/fake-agent → ${victim}), and Pier takes only plain files from a coding agent package. Pier tries again when it is next needed.`,
      ready: null,
    });
    expect(existsSync(join(tools, "agents", "packages", `fake-agent-linux-${ARCH}@1.0.1`))).toBe(false);
    expect(statSync(victim).mode & 0o777).toBe(0o600);
  }, 60_000);

  test("a package with no build for this machine says so", async () => {
    await publishAgent("1.0.2", [OTHER_ARCH], (pkg) => {
      mkdirSync(join(pkg, "bin"));
      writeFileSync(join(pkg, "bin", "fake-agent"), PROGRAM);
    });
    await addAgent("elsewhere", "1.0.2");
    const machine = ARCH === "x64" ? "x86_64" : "aarch64";
    expect(await launch("elsewhere")).toEqual({ unavailable: `Fake has no build for this pod's machine (${machine}).`, ready: null });
  });

  test("a Node program is installed with its dependencies and run by the machine's own node, when it is new enough for it", async () => {
    npm.publish("fake-dep", "1.2.0", { main: "index.js" }, await tarball((pkg) => {
      writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "fake-dep", version: "1.2.0", main: "index.js" }));
      writeFileSync(join(pkg, "index.js"), 'module.exports = "a dependency of the test registry";\n');
    }));
    const cli = 'console.log(require("fake-dep") + ": " + process.argv.slice(2).join(" "));\n';
    const publishNodeAgent = async (version: string, node: string) => {
      const doc = { name: "fake-node-agent", version, bin: { "fake-node-agent": "cli.js" }, dependencies: { "fake-dep": "^1.0.0" }, engines: { node } };
      npm.publish("fake-node-agent", version, doc, await tarball((pkg) => {
        writeFileSync(join(pkg, "package.json"), JSON.stringify(doc));
        writeFileSync(join(pkg, "cli.js"), cli);
      }));
      const res = await pier.fetch("/api/config/agents", json({ id: `node-agent-${version.replaceAll(".", "-")}`, name: "Fake Node", package: "fake-node-agent", version, args: ["--acp"], service: "none" }, { cookie }));
      expect(res.status, await res.clone().text()).toBe(201);
      return `node-agent-${version.replaceAll(".", "-")}`;
    };

    const id = await publishNodeAgent("2.0.0", ">=18");
    const fetching = await launch(id);
    if (!("unavailable" in fetching)) throw new Error("started before it was installed");
    expect(fetching.unavailable).toBe("Fetching Fake Node 2.0.0 with its dependencies…");
    await fetching.ready;
    const node = Bun.which("node");
    const answer = await launch(id);
    if (!node) {
      // No node on this machine: Pier's own is asked of the registry (which has none).
      expect(answer).toMatchObject({ unavailable: expect.stringContaining("The npm registry has no node-linux-") });
      return;
    }
    const installed = join(tools, "agents", "installs", `fake-node-agent@2.0.0-linux-${ARCH}`, "node_modules");
    expect(answer).toEqual({ command: [node, join(installed, "fake-node-agent", "cli.js"), "--acp"], env: {} });
    if (!("command" in answer)) return;
    const ran = await shell.runtime.exec(shell.pod, answer.command, { cwd: shell.cwd, timeoutMs: 30_000 });
    expect(ran.stdout).toBe("a dependency of the test registry: --acp\n");
    expect(existsSync(join(installed, "fake-dep", "index.js"))).toBe(true);

    // A program that wants a newer node than the machine's gets Pier's own, from the registry (which has none here).
    const newer = await publishNodeAgent("2.0.1", ">=999");
    // Waiting would not help: the install goes on, and the answer says both.
    expect(await launch(newer)).toEqual({
      unavailable: `Fetching Fake Node 2.0.1 with its dependencies… The npm registry has no node-linux-${ARCH} ${NODE_VERSION}, the Node.js Pier supplies.`,
      ready: null,
    });
  }, 120_000);
});
