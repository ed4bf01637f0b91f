/**
 * Fault: Pier is killed with SIGKILL in the middle of moving a person's pod to another Docker
 * engine (the test's own second dockerd), then started again on the same data dir and port.
 * Killed while the workspace is being copied: the pod runs again on the engine it was on, with
 * the session's commit, uncommitted file and ballast; the half-done copy and the copy's helper
 * containers are gone from both engines. Killed once the pod is placed on the target (the copy
 * whole) and before the old copy is removed: the pod runs on the target alone, with the work,
 * and nothing of it is left on the engine it came from. Each time the session comes back active
 * and its terminal works; a later move of the pod succeeds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";
import { setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { NOTHING, callAs, dockerOn, expectTerminalWorks as expectTerminal, expectWorkThere as expectWork, lines, makeWorkScript, podThings as thingsOf } from "../support/pod-moves.ts";
import { until } from "../support/until.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";

/** What the workspace carries beside the session's work: enough that copying it takes a while, so a kill lands in the middle of it. */
const BALLAST_MB = 400;

type Pod = { dockerEngine: string; containerId: string | null; state: string };

describe("SIGKILL in the middle of moving a pod to another engine", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-sigkill-move-"));
  let engine: SecondEngine;
  let env: Record<string, string>;
  let port: number;
  let pier: PierProcess;
  let cookie: string;
  let remote: RemoteRepo;
  let repoId = "";
  let farId: string;
  let instance: string;
  let session: SessionJson;

  const call = (method: string, path: string, body?: unknown) => callAs(pier, cookie, method, path, body);
  const docker = dockerOn;
  const podOf = async () => (await call("GET", `/api/repos/${repoId}`)).body.pod as Pod;
  const workspace = () => dirname(dirname(session.worktreePath));
  const podThings = (host: string | null) => thingsOf(host, repoId, instance);
  const nothing = NOTHING;
  /** What is in the person's workspace on Pier's disk, read through the engine (as Pier does): its entries' names. */
  const onPiersDisk = async () => {
    const found = await docker(null, "run", "--rm", "--network", "none", "-v", `${workspace()}:/w:ro`, "--entrypoint", "find", TEST_WORKSPACE_IMAGE, "/w", "-mindepth", "1", "-maxdepth", "1");
    expect(found.code, found.stderr).toBe(0);
    return lines(found.stdout);
  };
  /** How many bytes the workspace volume on the far engine holds. */
  const bytesOnFar = async () => {
    const du = await docker(engine.host, "run", "--rm", "--network", "none", "-v", `pier-ws-${repoId}-${session.userId}:/w:ro`, "--entrypoint", "du", TEST_WORKSPACE_IMAGE, "-sb", "/w");
    expect(du.code, du.stderr).toBe(0);
    return Number(du.stdout.split("\t")[0]);
  };
  /** Starts a move of the pod, once what Pier does with it after a restart (a move it takes up) is done. */
  const startMove = async (to: string) => {
    const ask = async () => call("POST", `/api/pods/${(await podOf()).containerId}/move`, { dockerEngine: to });
    const started = await until("the move started", ask, (res) => res.body?.error?.code !== "pod_moving");
    expect(started.status, JSON.stringify(started.body)).toBe(202);
  };
  const killPier = async () => expect(await pier.signal("SIGKILL")).not.toBe(0);
  const restartPier = async () => {
    pier = await startPierProcess(dataDir, port, env);
  };
  /** The session's work, read in its pod: the uncommitted file, git's view of it, the commit, and the ballast whole. */
  const expectWorkThere = (host: string | null, podId: string) =>
    expectWork(host, podId, session.worktreePath, { command: `stat -c %s ${workspace()}/ballast.bin`, output: `${BALLAST_MB * 1024 * 1024}\n` });
  const expectTerminalWorks = (marker: string) => expectTerminal(pier, cookie, session, marker, 120_000);
  const runningOf = async (host: string | null) => lines((await docker(host, "ps", "-q", "--no-trunc", "--filter", `label=pier.repo=${repoId}`)).stdout);
  /** The pod runs on `engineId` and nowhere else, with the work; its container on the other engine goes; the session carries on in it. */
  const expectRunningOn = async (engineId: string, marker: string) => {
    const [host, other] = engineId === "local" ? [null, engine.host] : [engine.host, null];
    // The pod's row is placed on the target a moment before its new container is written in: the engine says which runs.
    const read = async () => ({ pod: await podOf(), running: await runningOf(host) });
    const { pod } = await until("the pod running", read, ({ pod, running }) => pod.state === "running" && pod.dockerEngine === engineId && running.includes(pod.containerId!), 300_000);
    expect(await runningOf(host)).toEqual([pod.containerId!]);
    expect(await runningOf(other)).toEqual([]);
    await until("the old container gone", async () => (await podThings(other)).containers, (ids) => ids.length === 0);
    expect((await podThings(host)).containers).toEqual([pod.containerId!]);
    const now = await until("the session in the pod", async () => (await call("GET", `/api/sessions/${session.id}`)).body, (s) => s.podId === pod.containerId, 60_000);
    expect(now.state).toBe("active");
    await expectWorkThere(host, pod.containerId!);
    await expectTerminalWorks(marker);
    return pod;
  };

  beforeAll(async () => {
    engine = await startSecondEngine();
    port = await freePort();
    env = { ...(await dockerTestEnv()), PIER_POD_NETWORK: "host" };
    pier = await startPierProcess(dataDir, port, env);
    cookie = await setUpAdmin(pier);
    const added = await call("POST", "/api/config/docker-engines", { name: "far", host: engine.host, capacity: 10 });
    expect(added.status).toBe(201);
    farId = added.body.id;
    remote = makeRemoteRepo("sigkill-move");
    repoId = await addRepo(pier, cookie, `file://${remote.path}`, "sigkill-move");
    session = await activeSession(pier, cookie, { repoId });
    instance = (await docker(null, "inspect", "--format", '{{index .Config.Labels "pier.instance"}}', session.podId!)).stdout.trim();
    const worktree = session.worktreePath;
    const work = await docker(null, "exec", session.podId!, "bash", "-c", makeWorkScript(worktree, `head -c ${BALLAST_MB}M /dev/urandom > ${workspace()}/ballast.bin`));
    expect(work.code, work.stderr).toBe(0);
    // The image is on the target already, so the copy of the workspace is all a move waits for.
    await engine.loadImage(TEST_WORKSPACE_IMAGE);
  }, 600_000);

  afterAll(async () => {
    // The test's pods outlive Pier by design: they go with the test.
    if (pier) await stopForGood(pier);
    await engine?.destroy();
    // The workspace is the pod user's: emptied through the engine, as Pier does, before the directory goes.
    if (session) await docker(null, "run", "--rm", "--network", "none", "-v", `${dataDir}:/d`, "--entrypoint", "rm", TEST_WORKSPACE_IMAGE, "-rf", "/d/workspaces");
    rmSync(dataDir, { recursive: true, force: true });
    if (remote) rmSync(join(remote.path, ".."), { recursive: true, force: true });
  }, 120_000);

  test("killed while the workspace is copied: back on its engine with all its work; the half-done copy and the copy's helpers are gone", async () => {
    await startMove("far");
    // The helper that unpacks the copy on the target is there while the copy streams in.
    await until("the copy streaming into the far engine", async () => (await docker(engine.host, "ps", "-a", "--filter", "label=pier.role=workspace-copy", "--format", "{{.Command}}")).stdout, (out) => out.includes('"true"'), 120_000);
    await killPier();
    // What the kill left: the pod stopped where it was, a copy on the target that is not whole.
    expect(await bytesOnFar()).toBeLessThan(BALLAST_MB * 1024 * 1024);

    await restartPier();
    await expectRunningOn("local", "BACK-AFTER-KILL");
    expect(await podThings(engine.host)).toEqual(nothing);
    expect((await podThings(null)).helpers).toEqual([]);
  }, 900_000);

  test("killed once the pod is placed on the target: it runs there alone, with all its work, and nothing of it is left where it was", async () => {
    await startMove("far");
    await until("the pod placed on the far engine", podOf, (p) => p.dockerEngine === farId, 300_000);
    await killPier();
    // What the kill left: the old container, stopped, and the old copy of the workspace, whole, where the pod was.
    expect((await podThings(null)).containers).toHaveLength(1);
    expect(await onPiersDisk()).toContain("/w/ballast.bin");

    await restartPier();
    await expectRunningOn(farId, "ON-FAR-AFTER-KILL");
    expect(await podThings(null)).toEqual(nothing);
    expect(await onPiersDisk()).toEqual([]);
    expect((await podThings(engine.host)).helpers).toEqual([]);
  }, 900_000);

  test("a later move of the pod succeeds, with the work", async () => {
    await startMove("local");
    await expectRunningOn("local", "HOME-AGAIN");
    expect(await podThings(engine.host)).toEqual(nothing);
  }, 900_000);
});
