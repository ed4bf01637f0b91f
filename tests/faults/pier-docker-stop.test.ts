/**
 * Fault: `docker stop` on Pier's own image (built from the Dockerfile, Pier as the container's
 * PID 1), with a live session whose shell runs in its pod.
 * Held: Pier exits 0 by itself within docker stop's 10 s (not killed at the end of them), saying
 * it stops; the session's pod and the shell in it (the same process) run on.
 *
 * The container uses --network host and listens on 127.0.0.1:<free port>; its pods have no network.
 */
import { afterAll, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { buildPierImage, docker } from "../support/pier-image.ts";
import { freePort } from "../support/pier-process.ts";
import { TEST_WORKSPACE_IMAGE, ensureTestWorkspaceImage } from "../support/workspace-image.ts";

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `pier-stop-test:${suffix}`;
const CONTAINER = `pier-stop-test-${suffix}`;
const VOLUME = `pier-stop-test-data-${suffix}`;
const REMOTE = makeRemoteRepo("stopped");
let repoId = "";

afterAll(async () => {
  await docker(["rm", "-f", CONTAINER]).catch(() => "");
  if (repoId) {
    const pods = (await docker(["ps", "-aq", "--filter", `label=pier.repo=${repoId}`])).trim();
    if (pods) await docker(["rm", "-f", ...pods.split("\n")]);
  }
  await docker(["volume", "rm", "-f", VOLUME]).catch(() => "");
  await docker(["rmi", IMAGE]).catch(() => "");
}, 60_000);

test("docker stop: Pier exits 0 within 10 s by itself; the session's pod and shell run on", async () => {
  await ensureTestWorkspaceImage();
  await buildPierImage(IMAGE);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await docker(["volume", "create", VOLUME]);
  await docker([
    "run", "-d", "--pull", "never", "--name", CONTAINER, "--network", "host",
    "-e", "PIER_HOST=127.0.0.1", "-e", `PIER_PORT=${port}`, "-e", "PIER_PREVIEW_PORT=0",
    "-v", "/var/run/docker.sock:/var/run/docker.sock",
    "-e", "PIER_POD_NETWORK=none", "-e", `PIER_WORKSPACE_IMAGE=${TEST_WORKSPACE_IMAGE}`, "-e", "PIER_ALLOW_LOCAL_REPOS=1",
    "-v", `${REMOTE.path}:${REMOTE.path}:ro`, "-v", `${VOLUME}:/data`,
    IMAGE,
  ]);
  await until("/healthz to answer", async () => (await fetch(`${base}/healthz`)).ok);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  expect((await post("/api/setup", { username: "admin", password: "admin password" })).status).toBe(201);
  const cookie = (await post("/api/auth/login", { username: "admin", password: "admin password" })).headers.getSetCookie()[0]!.split(";")[0]!;
  repoId = ((await (await post("/api/repos", { url: `file://${REMOTE.path}` }, { cookie })).json()) as { id: string }).id;
  const created = (await (await post("/api/sessions", { repoId }, { cookie })).json()) as { id: string };
  let podId = "";
  await until("the session to become active", async () => {
    const session = (await (await fetch(`${base}/api/sessions/${created.id}`, { headers: { cookie } })).json()) as { state: string; podId: string };
    podId = session.podId;
    return session.state === "active";
  });
  // The session's shell: its terminal holder in the pod, by process id.
  const holderPid = async () => (await docker(["exec", podId, "ps", "-eo", "pid=,args="])).split("\n").find((line) => line.includes(`pier-pty serve`) && line.includes(` ${created.id} -- `))?.trim().split(" ")[0] ?? null;
  let before: string | null = null;
  await until("the session's shell in its pod", async () => (before = await holderPid()) !== null);

  // Broken: docker stop (SIGTERM to PID 1, SIGKILL after 10 s).
  const started = performance.now();
  await docker(["stop", "--time", "10", CONTAINER]);
  const tookMs = performance.now() - started;
  const state = JSON.parse(await docker(["inspect", "--format", "{{json .State}}", CONTAINER])) as { ExitCode: number; OOMKilled: boolean };
  const logs = Bun.spawnSync(["docker", "logs", CONTAINER]).stdout.toString();
  expect(state.ExitCode, logs).toBe(0);
  expect(tookMs).toBeLessThan(10_000);
  expect(logs).toContain("Pier is stopping (SIGTERM)");
  // Held: the pod, and the very same shell in it.
  expect((await docker(["inspect", "--format", "{{.State.Running}}", podId])).trim()).toBe("true");
  expect(await holderPid()).toBe(before);
}, 85_000);

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await Bun.sleep(300);
  }
}
