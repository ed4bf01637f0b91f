/**
 * Builds the real Docker image from the repository's Dockerfile, runs it, and checks it from
 * the outside: the health endpoint, the first-run setup page, the security headers, and
 * Docker's own health status. Slow (minutes on a cold cache), so each step sets its own timeout.
 *
 * The container uses --network host and listens on 127.0.0.1:<free port>, so the test only
 * ever talks to this machine's loopback.
 */
import { afterAll, expect, test } from "bun:test";
import { ensureBunBaseImage } from "../support/base-image.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { buildPierImage, docker } from "../support/pier-image.ts";
import { TEST_WORKSPACE_IMAGE, ensureTestWorkspaceImage } from "../support/workspace-image.ts";

const IMAGE = "pier-test:latest";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const CONTAINER = `pier-test-${suffix}`;
const VOLUME = `pier-test-data-${suffix}`;
const PORT = freePort();
const BASE = `http://127.0.0.1:${PORT}`;

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const REMOTE = makeRemoteRepo("packaged");
let repoId = "";
let imageBuilt = false;
let containerStarted = false;
let failed = false;

/**
 * A test that records failure, so afterAll knows to print the container's logs.
 * `needs` names what an earlier step must have done, so a failed build fails the rest at once.
 */
function step(name: string, timeout: number, fn: () => Promise<void>, needs?: "image" | "container"): void {
  test(
    name,
    async () => {
      try {
        if (needs === "image" && !imageBuilt) throw new Error("Not run: the image was not built.");
        if (needs === "container" && !containerStarted) throw new Error("Not run: the container did not start.");
        await fn();
      } catch (error) {
        failed = true;
        throw error;
      }
    },
    timeout,
  );
}

step("the Bun base image named in the Dockerfile exists locally", 10 * MINUTE, async () => {
  const tag = await ensureBunBaseImage();
  await ensureTestWorkspaceImage();
  expect(await docker(["image", "inspect", "--format", "{{.Id}}", tag])).toStartWith("sha256:");
});

step("docker build succeeds", 15 * MINUTE, async () => {
  const started = performance.now();
  await buildPierImage(IMAGE);
  imageBuilt = true;
  console.error(`[image] built ${IMAGE} in ${Math.round((performance.now() - started) / SECOND)} s`);
});

step("the image declares its port, data volume and health check", 30 * SECOND, async () => {
  const [image] = JSON.parse(await docker(["image", "inspect", IMAGE]));
  expect(Object.keys(image.Config.ExposedPorts ?? {})).toContain("7070/tcp");
  expect(Object.keys(image.Config.Volumes ?? {})).toContain("/data");
  expect(image.Config.Healthcheck?.Test?.length ?? 0).toBeGreaterThan(0);
}, "image");

step("the image has the docker CLI, and the devcontainer CLI runs under its Bun, for building repositories' features", 30 * SECOND, async () => {
  const versions = await docker(["run", "--rm", "--pull", "never", "--network", "none", "--entrypoint", "sh", IMAGE, "-c", "docker --version && bun node_modules/@devcontainers/cli/devcontainer.js --version"]);
  expect(versions).toMatch(/^Docker version \d+\.\d+\.\d+.*\n\d+\.\d+\.\d+\n$/);
}, "image");

step("the container starts and /healthz reports ok", 2 * MINUTE, async () => {
  await docker(["volume", "create", VOLUME]);
  await docker([
    "run", "-d",
    "--pull", "never", // never reach for a registry if the tag is somehow missing
    "--name", CONTAINER,
    "--network", "host",
    "-e", "PIER_HOST=127.0.0.1",
    "-e", `PIER_PORT=${PORT}`,
    "-e", "PIER_PREVIEW_PORT=0",
    // As the README runs it: the Docker socket, so Pier creates pods beside itself.
    "-v", "/var/run/docker.sock:/var/run/docker.sock",
    "-e", "PIER_POD_NETWORK=none",
    "-e", `PIER_WORKSPACE_IMAGE=${TEST_WORKSPACE_IMAGE}`,
    "-e", "PIER_ALLOW_LOCAL_REPOS=1",
    "-v", `${REMOTE.path}:${REMOTE.path}:ro`,
    "-v", `${VOLUME}:/data`,
    "--health-interval=2s",
    IMAGE,
  ]);
  containerStarted = true;

  const health = await waitFor("/healthz to answer ok", 60 * SECOND, async () => {
    const response = await fetch(`${BASE}/healthz`, { signal: AbortSignal.timeout(2 * SECOND) });
    if (response.status !== 200) return null;
    const body = (await response.json()) as { ok?: boolean; db?: string; runtime?: string };
    return body.ok === true && body.db === "ok" ? body : null;
  });
  expect(health.runtime).toBe("docker");
}, "image");

step("a fresh install shows the setup page, with security headers", 30 * SECOND, async () => {
  const setup = await fetch(`${BASE}/setup`);
  expect(setup.status).toBe(200);
  expect(setup.headers.get("content-type")).toContain("text/html");
  expect(setup.headers.get("content-security-policy")).toBeTruthy();
  expect(await setup.text()).toContain("Welcome to Pier");

  const home = await fetch(`${BASE}/`, { redirect: "manual" });
  expect(home.status).toBe(303);
  expect(new URL(home.headers.get("location") ?? "", BASE).pathname).toBe("/setup");
}, "container");

step("a session started by Pier in its container gets a pod that sees the repo's directory of the data volume", 3 * MINUTE, async () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(BASE + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  expect((await post("/api/setup", { username: "admin", password: "admin password" })).status).toBe(201);
  const login = await post("/api/auth/login", { username: "admin", password: "admin password" });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const repo = (await (await post("/api/repos", { url: `file://${REMOTE.path}` }, { cookie })).json()) as { id: string };
  repoId = repo.id;
  const created = (await (await post("/api/sessions", { repoId }, { cookie })).json()) as { id: string };
  const session = await waitFor("the session to become active", 2 * MINUTE, async () => {
    const s = (await (await fetch(`${BASE}/api/sessions/${created.id}`, { headers: { cookie } })).json()) as {
      userId: string;
      state: string;
      error: string | null;
      podId: string;
      worktreePath: string;
    };
    if (s.state === "failed") throw new Error(`session failed: ${s.error}`);
    return s.state === "active" ? s : null;
  });
  expect(session.worktreePath.startsWith(`/data/workspaces/${repoId}/${session.userId}/worktrees/`)).toBe(true);

  // The pod's mounts come from the volume behind Pier's own /data, found by inspecting itself.
  const [pod] = JSON.parse(await docker(["inspect", session.podId]));
  const [volume] = JSON.parse(await docker(["volume", "inspect", VOLUME]));
  const workspace = `workspaces/${repoId}/${session.userId}`;
  const services = `pods/${repoId}/${session.userId}`;
  expect(pod.Mounts.map((m: { Source: string; Destination: string }) => `${m.Source}:${m.Destination}`).sort()).toEqual(
    [
      `${volume.Mountpoint}/${workspace}:/data/${workspace}`,
      `${volume.Mountpoint}/mirrors/${repoId}.git:/data/mirrors/${repoId}.git`,
      `${volume.Mountpoint}/${services}:/data/${services}`,
      `${volume.Mountpoint}/${services}/profile.sh:/etc/profile.d/pier.sh`,
    ].sort(),
  );
  const readme = await docker(["exec", "-w", session.worktreePath, session.podId, "cat", "README.md"]);
  expect(readme).toBe("# packaged\n");
  const hidden = await docker(["exec", session.podId, "sh", "-c", `ls /data; ls /data/workspaces/${repoId}`]);
  expect(hidden.trim().split("\n")).toEqual(["mirrors", "pods", "workspaces", session.userId]);

  // The session's shell runs under the image's terminal holder, which Pier placed in the pod's
  // services directory (the image has no compiler: it was built in the Dockerfile).
  const holder = await waitFor("the terminal holder in the pod", 30 * SECOND, async () => {
    const processes = await docker(["exec", session.podId, "ps", "-eo", "args"]);
    return processes.split("\n").find((line) => line.startsWith(`/data/${services}/pier-pty serve /data/${services}/pty.sock ${created.id} -- `)) ?? null;
  });
  expect(holder).toContain("bash -l");
  expect((await docker(["exec", session.podId, `/data/${services}/pier-pty`, "version"])).trim()).toBe("pier-pty 1");
  // And the helpers' client for Pier's socket, built in the Dockerfile too.
  expect((await docker(["exec", session.podId, `/data/${services}/pier-ask`, "version"])).trim()).toBe("pier-ask 1");
  // And the relay previews reach the pod's ports through, built in the Dockerfile and started as the pod came up.
  await waitFor("the preview relay in the pod", 30 * SECOND, async () => {
    const processes = await docker(["exec", session.podId, "ps", "-eo", "args"]);
    return processes.split("\n").find((line) => line === `/data/${services}/pier-relay start /data/${services}/relay.sock`) ?? null;
  });
  expect((await docker(["exec", session.podId, `/data/${services}/pier-relay`, "version"])).trim()).toBe("pier-relay 1");
}, "container");

step("Docker reports the container healthy", 2 * MINUTE, async () => {
  await waitFor("docker to report healthy", 90 * SECOND, async () => {
    const status = (await docker(["inspect", "--format", "{{.State.Health.Status}}", CONTAINER])).trim();
    return status === "healthy" ? status : null;
  });
}, "container");

afterAll(async () => {
  if (containerStarted && failed) {
    const logs = Bun.spawnSync(["docker", "logs", "--tail", "200", CONTAINER], { stdout: "pipe", stderr: "pipe" });
    console.error(`[image] logs of ${CONTAINER}:\n${logs.stdout.toString()}${logs.stderr.toString()}`);
  }
  // Always clean up, ignoring "no such container/volume" when a step never got that far.
  Bun.spawnSync(["docker", "rm", "-f", CONTAINER], { stdout: "ignore", stderr: "ignore" });
  if (repoId) {
    const pods = Bun.spawnSync(["docker", "ps", "-aq", "--filter", `label=pier.repo=${repoId}`]).stdout.toString().trim();
    if (pods) Bun.spawnSync(["docker", "rm", "-f", ...pods.split("\n")], { stdout: "ignore", stderr: "ignore" });
  }
  Bun.spawnSync(["docker", "volume", "rm", "-f", VOLUME], { stdout: "ignore", stderr: "ignore" });
});

/** Asks the kernel for an unused port by listening on port 0, then frees it for the container. */
function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

/**
 * Polls `check` every 500 ms until it returns a value, or fails after `ms`.
 * Stops early if the container has exited, since it will never answer then.
 */
async function waitFor<T>(what: string, ms: number, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== null) return value;
    } catch (error) {
      lastError = error; // connection refused while the server starts up
    }
    const running = (await docker(["inspect", "--format", "{{.State.Running}}", CONTAINER])).trim();
    if (running !== "true") throw new Error(`The container stopped while waiting for ${what}.`);
    await Bun.sleep(500);
  }
  throw new Error(`Timed out after ${ms / SECOND} s waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}.`);
}
