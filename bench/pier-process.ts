import Docker from "dockerode";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_CACHE } from "../tests/support/claude-code.ts";
import { makeRemoteRepo } from "../tests/support/git-fixtures.ts";
import { dockerTestEnv } from "../tests/support/workspace-image.ts";

/**
 * Pier as its own process for a benchmark, the way `bun start` runs it: Docker runtime, the
 * suite's test workspace image, pods without network, local repositories allowed. Its tools
 * directory is the tests' cache, so Claude Code (for pods without one) and the terminal holder are
 * fetched and built once, not in the background of every run (a download of some 170 MB).
 */
export async function startBenchPier(name: string, extraEnv: Record<string, string> = {}) {
  const dockerEnv = await dockerTestEnv();
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  const dataDir = mkdtempSync(join(tmpdir(), `pier-bench-${name}-`));
  const server = Bun.spawn(["bun", "src/main.ts"], {
    cwd: join(import.meta.dir, ".."),
    env: {
      ...process.env,
      PIER_PORT: String(port),
      PIER_PREVIEW_PORT: "0",
      PIER_HOST: "127.0.0.1",
      PIER_DATA_DIR: dataDir,
      PIER_TOOLS_DIR: TEST_CACHE,
      ...dockerEnv,
      ...extraEnv,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400 && !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); i++) await Bun.sleep(25);
  return {
    base,
    /** The server's process id, for the CPU time it has used (`cpuSeconds`). */
    pid: server.pid,
    /** Resident memory now, and its peak so far, in MiB. */
    memory() {
      const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
      const kib = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))![1]);
      return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
    },
    async stop() {
      server.kill("SIGTERM");
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The CPU time (user and system) a process has used so far, in seconds, from /proc (a pod's processes too: they are this machine's; counted in ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds a process's children have used, once they ended and it reaped them (the preview splicer's, for Pier). */
export function childrenCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * For the chat benches: sets Pier up with a user and an Anthropic key, adds a repository and
 * starts a session on it, waiting until the session is active.
 */
export async function startChatSession(base: string, apiKey: string, repoName: string) {
  const call = async (path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method: body === undefined ? "GET" : path === "/api/settings" ? "PUT" : "POST",
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  await call("/api/setup", { username: "bench", password: "bench password" });
  const cookie = (await call("/api/auth/login", { username: "bench", password: "bench password" })).headers.getSetCookie()[0]!.split(";")[0]!;
  await call("/api/settings", { anthropicApiKey: apiKey }, { cookie });
  const repoId = ((await (await call("/api/repos", { url: `file://${makeRemoteRepo(repoName).path}` }, { cookie })).json()) as { id: string }).id;
  let session = (await (await call("/api/sessions", { repoId }, { cookie })).json()) as { id: string; state: string; error?: string };
  while (session.state !== "active") {
    if (session.state === "failed") throw new Error(session.error);
    await Bun.sleep(50);
    session = (await (await call(`/api/sessions/${session.id}`, undefined, { cookie })).json()) as typeof session;
  }
  return { cookie, repoId, sessionId: session.id };
}

/** Removes the pods a bench's Pier made for a repository (they outlive Pier by design). */
export async function removeRepoPods(repoId: string): Promise<void> {
  const docker = new Docker();
  for (const pod of await docker.listContainers({ all: true, filters: { label: [`pier.repo=${repoId}`] } })) {
    await docker.getContainer(pod.Id).remove({ force: true });
  }
}

/** Sets a fresh Pier up with its first user and returns an API token of theirs. */
export async function benchToken(base: string): Promise<string> {
  const credentials = JSON.stringify({ username: "bench", password: "bench password" });
  await fetch(`${base}/api/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: credentials });
  const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: credentials });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const tokenRes = await fetch(`${base}/api/tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) });
  return ((await tokenRes.json()) as { token: string }).token;
}

/** Pier's API as a bench calls it, with a bearer token: the answer's JSON, null for an answer with no body; any other status throws. */
export type BenchApi = (path: string, init?: RequestInit & { token?: string }) => Promise<any>;

export function benchApi(base: string): BenchApi {
  return async (path, init = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const res = await fetch(base + path, { ...init, headers });
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 || res.status === 202 ? null : res.json();
  };
}

/** Starts a session on the repo and polls until it is active: its id, when the POST was sent, and how long it took to be active (ms). */
export async function sessionUntilActive(api: BenchApi, token: string, repoId: string): Promise<{ id: string; started: number; active: number }> {
  const started = performance.now();
  const session = await api("/api/sessions", { method: "POST", token, body: JSON.stringify({ repoId }) });
  for (;;) {
    const now = await api(`/api/sessions/${session.id}`, { token });
    if (now.state === "active") break;
    if (now.state === "failed") throw new Error(now.error);
    await Bun.sleep(2);
  }
  return { id: session.id, started, active: performance.now() - started };
}
