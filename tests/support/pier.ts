import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../src/infra/config.ts";
import { listRepos } from "../../src/repos/repos.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { tmuxCommand } from "../../src/terminal/tmux-session.ts";
import { tmuxSocketName } from "../../src/terminal/terminals.ts";
import { TEST_CACHE } from "./claude-code.ts";

/**
 * A real Pier on 127.0.0.1 with its own temporary data dir, the same way `bun start` runs it.
 * `env` adds or overrides environment variables.
 */
export interface TestPier extends RunningServer {
  config: Config;
  dataDir: string;
  /** fetch relative to the server's URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestPier(env: Record<string, string> = {}, dataDir?: string): Promise<TestPier> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "pier-test-"));
  // Pier's copies of Claude Code come from the cache every run shares, so the suite fetches one once.
  const config = loadConfig({ PIER_HOST: "127.0.0.1", PIER_PORT: "0", PIER_PREVIEW_PORT: "0", PIER_DATA_DIR: dir, PIER_RUNTIME: "local", PIER_TOOLS_DIR: TEST_CACHE, ...env });
  const running = await startServer(config);
  return {
    ...running,
    config,
    dataDir: dir,
    fetch: (path, init) => fetch(running.url + path, { redirect: "manual", ...init }),
    async close() {
      await running.stop();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Closes a test Pier for good. Its shells outlive Pier by design (a restart keeps them): on Docker
 * its pods are removed, and whatever else of its instance is on the engine; on the local runtime,
 * where they live in tmux servers on this machine, those servers are ended. On a loaded machine
 * that takes more than the 5 s Bun gives a hook by default, so the afterAll hooks that call it
 * give it a minute.
 */
export async function closeForGood(pier: TestPier): Promise<void> {
  const local = pier.pier.runtime.kind === "local";
  // Pods outlive Pier by design too: a test's go with it (as the tests that remove their own do
  // first), or they would run on after the suite.
  if (!local) for (const repo of listRepos(pier.pier.db)) await pier.pier.pods.removeAll(repo.id).catch(() => undefined);
  const instance = pier.pier.settings.instanceId();
  await pier.close();
  // A live session's terminal may have made its pod again while it was being removed: once Pier
  // has stopped nothing makes one, so whatever of this Pier's is left on the engine goes now.
  if (local) endTmuxServers(instance);
  else removeInstanceFromEngine(instance);
}

/** Ends the tmux servers a stopped Pier instance left on this machine: each local session has its own, named after the instance. */
export function endTmuxServers(instance: string): void {
  const prefix = `${tmuxSocketName(instance)}-`;
  const dir = join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`);
  const sockets = existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith(prefix)) : [];
  for (const socket of sockets) Bun.spawnSync(tmuxCommand(socket).concat("kill-server"), { stderr: "ignore" });
}

/**
 * Removes what a stopped Pier instance left on the machine's engine, by the label `pier.instance`
 * it puts on everything it makes there: its containers first (pods and helpers, with their
 * anonymous volumes), as a volume or image in use cannot go; then its volumes (workspaces and
 * tools, which Pier keeps when a pod goes so that a new pod finds them) and its environments'
 * images. Asked of the engine through the docker CLI: Pier's own door to it is closed with its
 * database.
 */
export function removeInstanceFromEngine(instance: string): void {
  const labelled = (list: string[]) => {
    const listed = Bun.spawnSync(["docker", ...list, "--filter", `label=pier.instance=${instance}`], { stderr: "ignore" });
    // An image with several tags is listed once per tag.
    return [...new Set(listed.stdout.toString().split("\n").filter(Boolean))];
  };
  const remove = (command: string[], ids: string[]) => {
    if (ids.length > 0) Bun.spawnSync(["docker", ...command, ...ids], { stdout: "ignore", stderr: "ignore" });
  };
  remove(["rm", "-f", "-v"], labelled(["ps", "-aq"]));
  remove(["volume", "rm", "-f"], labelled(["volume", "ls", "-q"]));
  remove(["image", "rm", "-f"], labelled(["image", "ls", "-q"]));
}

export const ADMIN = { username: "admin", password: "correct horse battery" };

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** Runs first-run setup and signs in; returns the session cookie header value. */
export async function setUpAdmin(pier: Pick<TestPier, "fetch">): Promise<string> {
  const setup = await pier.fetch("/api/setup", json(ADMIN));
  if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${await setup.text()}`);
  return signIn(pier, ADMIN.username, ADMIN.password);
}

export async function signIn(pier: Pick<TestPier, "fetch">, username: string, password: string): Promise<string> {
  const res = await pier.fetch("/api/auth/login", json({ username, password }));
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("pier_session="));
  if (!cookie) throw new Error("login set no pier_session cookie");
  return cookie.split(";")[0]!;
}

/** An API token for the signed-in user behind `cookie`. */
export async function createToken(pier: TestPier, cookie: string, name = "test"): Promise<string> {
  const res = await pier.fetch("/api/tokens", json({ name }, { cookie }));
  if (res.status !== 201) throw new Error(`token failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
