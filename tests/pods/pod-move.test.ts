/**
 * Draining an engine and moving a person's pod to another (POST /api/pods/:id/move): a second
 * dockerd of the test's own stands in for a remote host (pods on host networking, to reach Pier's
 * /git as a remote pod reaches Pier's address). A session's uncommitted file and its commit come
 * with the pod both ways, the session stays active and its terminal opens again in the new pod;
 * refusals change nothing; a drained engine gets no new pods.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestPier, signIn } from "../support/pier.ts";
import type { SecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession } from "../support/sessions.ts";
import { type MovedPod, callAs, dockerOn, expectTerminalWorks as expectTerminal, expectWorkThere as expectWork, type MoveWorld, endMoveWorld, moveAndWait, podContainers, startMoveWorld } from "../support/pod-moves.ts";
import { TEST_WORKSPACE_IMAGE } from "../support/workspace-image.ts";

describe("moving a pod between Docker engines", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-pod-move-"));
  let world: MoveWorld | undefined;
  let engine: SecondEngine;
  let pier: TestPier;
  let cookie: string;
  let memberCookie: string;
  let repoId: string;
  let farId: string;
  let session: SessionJson;

  const call = (method: string, path: string, body?: unknown, as = cookie) => callAs(pier, as, method, path, body);
  const docker = dockerOn;
  const containersOf = (host: string | null) => podContainers(host, repoId);
  const podOf = async () => (await call("GET", `/api/repos/${repoId}`)).body.pod as MovedPod;
  const move = async (to: string) => moveAndWait(pier, cookie, { repoId, userId: session.userId, containerId: (await podOf()).containerId }, to);
  const expectWorkThere = (host: string | null, podId: string) => expectWork(host, podId, session.worktreePath!);
  const expectTerminalWorks = (marker: string) => expectTerminal(pier, cookie, session, marker);

  beforeAll(async () => {
    world = await startMoveWorld("movable", dataDir);
    ({ engine, pier, cookie, farId, repoId, session } = world);
    expect((await call("POST", "/api/users", { username: "mia", password: "a long enough password", role: "member" })).status).toBe(201);
    memberCookie = await signIn(pier, "mia", "a long enough password");
  }, 600_000);

  afterAll(() => endMoveWorld(world ?? { dataDir }), 120_000);

  test("refusals change nothing: a member 403, an unknown pod 404, an unknown engine 400, the same engine 409, a draining engine 409", async () => {
    const podId = (await podOf()).containerId;
    const member = await call("POST", `/api/pods/${podId}/move`, { dockerEngine: "far" }, memberCookie);
    expect(member.status).toBe(403);
    expect((await call("POST", "/api/pods/no-such-pod/move", { dockerEngine: "far" })).status).toBe(404);
    const unknown = await call("POST", `/api/pods/${podId}/move`, { dockerEngine: "nowhere" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("nowhere");
    const missing = await call("POST", `/api/pods/${podId}/move`, {});
    expect(missing.status).toBe(400);
    const same = await call("POST", `/api/pods/${podId}/move`, { dockerEngine: "local" });
    expect(same.status).toBe(409);
    expect(same.body.error.code).toBe("same_engine");
    expect((await call("PATCH", "/api/config/docker-engines/far", { draining: true })).status).toBe(200);
    const draining = await call("POST", `/api/pods/${podId}/move`, { dockerEngine: "far" });
    expect(draining.status).toBe(409);
    expect(draining.body.error.code).toBe("engine_draining");
    expect((await call("PATCH", "/api/config/docker-engines/far", { draining: false })).status).toBe(200);
    expect(await podOf()).toMatchObject({ dockerEngine: "local", containerId: podId, state: "running" });
    expect(await containersOf(engine.host)).toEqual([]);
    const audit = await call("GET", "/api/audit?action=pod_moved");
    expect(audit.body).toEqual([]);
  }, 60_000);

  test("local → far: the uncommitted file and the commit come along, the session stays active, its terminal works in the new pod, the old container is gone", async () => {
    const oldPod = (await podOf()).containerId;
    const told = await move("far");
    expect(told[0]).toMatchObject({ state: "moving", notice: "Moving your pod to far…" });
    expect(told.at(-1)).toMatchObject({ state: "moved" });
    const pod = await podOf();
    expect(pod).toMatchObject({ dockerEngine: farId, state: "running" });
    expect(await containersOf(engine.host)).toEqual([pod.containerId]);
    expect(await containersOf(null)).toEqual([]);
    expect(pod.containerId).not.toBe(oldPod);
    expect((await call("GET", `/api/sessions/${session.id}`)).body).toMatchObject({ state: "active", podId: pod.containerId });
    await expectWorkThere(engine.host, pod.containerId);
    await expectTerminalWorks("ON-FAR");
    // The old copy of the workspace is gone from Pier's disk (read through the engine, as Pier does).
    const left = await docker(null, "run", "--rm", "--network", "none", "-v", `${join(dataDir, "workspaces")}:/w:ro`, "--entrypoint", "find", TEST_WORKSPACE_IMAGE, `/w/${repoId}/${session.userId}`, "-mindepth", "1");
    expect(left.stdout).toBe("");
    const audit = await call("GET", "/api/audit?action=pod_moved");
    expect(audit.body[0]).toMatchObject({ action: "pod_moved", target: { kind: "pod", id: oldPod } });
  }, 600_000);

  test("far → local: the work comes back, the far engine keeps no container and no workspace volume", async () => {
    const told = await move("local");
    expect(told.at(-1)).toMatchObject({ state: "moved" });
    const pod = await podOf();
    expect(pod).toMatchObject({ dockerEngine: "local", state: "running" });
    expect(await containersOf(null)).toEqual([pod.containerId]);
    expect(await containersOf(engine.host)).toEqual([]);
    expect((await docker(engine.host, "volume", "ls", "-q", "--filter", `name=pier-ws-${repoId}`)).stdout).toBe("");
    expect((await call("GET", `/api/sessions/${session.id}`)).body).toMatchObject({ state: "active", podId: pod.containerId });
    await expectWorkThere(null, pod.containerId);
    await expectTerminalWorks("BACK-HOME");
  }, 600_000);

  test("a target engine that is not answering is refused with 503 naming it, and the pod carries on where it is", async () => {
    const before = await podOf();
    await engine.stop();
    try {
      const refused = await call("POST", `/api/pods/${before.containerId}/move`, { dockerEngine: "far" });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("engine_unreachable");
      expect(refused.body.error.message).toContain("far");
      expect(await podOf()).toEqual(before);
      await expectWorkThere(null, before.containerId);
    } finally {
      await engine.start();
    }
  }, 300_000);

  test("with the local engine drained, a new person's pod goes to the far engine", async () => {
    expect((await call("PATCH", "/api/config/docker-engines/local", { draining: true })).status).toBe(200);
    try {
      const theirs = await activeSession(pier, memberCookie, { repoId });
      expect((await containersOf(engine.host)).some((id) => id === theirs.podId)).toBe(true);
      expect(((await call("GET", `/api/repos/${repoId}`, undefined, memberCookie)).body.pod as { dockerEngine: string }).dockerEngine).toBe(farId);
    } finally {
      expect((await call("PATCH", "/api/config/docker-engines/local", { draining: false })).status).toBe(200);
    }
  }, 600_000);
});
