/**
 * A move of a person's pod to another Docker engine that fails after the workspace was copied
 * there, as the target is making the pod: the target refuses to make it (a container of the
 * test's own already has the pod's name there), or the target stops at that moment (its dockerd
 * stopped as Pier says it is creating the pod). Both targets are the test's own second dockerd.
 * Held each time: the pod runs on the engine it was on, with the session's uncommitted file and
 * commit; the session stays active and its terminal works; its sessions were told it failed, in a
 * sentence; nothing of the pod stays on the target (its container, the workspace volume with the
 * copy, the helper containers of the copy), once the target answers again; and a later move to
 * the target succeeds. And an old copy that cannot be removed after a move (a container of the
 * test's own holds its workspace volume) is said, refuses the pod's next move until it can be,
 * and goes at the next reconciliation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RECONCILE_PODS } from "../../src/jobs/pod-jobs.ts";
import type { TestPier } from "../support/pier.ts";
import type { SecondEngine } from "../support/second-engine.ts";
import type { SessionJson } from "../support/sessions.ts";
import { type MovedPod, NOTHING, type Told, callAs, dockerOn, expectTerminalWorks as expectTerminal, expectWorkThere as expectWork, type MoveWorld, endMoveWorld, moveAndWait, podThings as thingsOf, startMoveWorld } from "../support/pod-moves.ts";
import { until } from "../support/until.ts";
import { TEST_WORKSPACE_IMAGE } from "../support/workspace-image.ts";

describe("a move that fails as the target makes the pod", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-pod-move-fails-"));
  let world: MoveWorld | undefined;
  let engine: SecondEngine;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let farId: string;
  let session: SessionJson;

  const call = (method: string, path: string, body?: unknown) => callAs(pier, cookie, method, path, body);
  const docker = dockerOn;
  const podOf = async () => (await call("GET", `/api/repos/${repoId}`)).body.pod as MovedPod;
  const podThings = (host: string | null) => thingsOf(host, repoId, pier.pier.settings.instanceId());
  const nothing = NOTHING;
  const move = async (to: string, listen?: (told: Told) => void) => moveAndWait(pier, cookie, { repoId, userId: session.userId, containerId: (await podOf()).containerId }, to, listen);
  const expectWorkThere = (host: string | null, podId: string) => expectWork(host, podId, session.worktreePath!);
  const expectTerminalWorks = (marker: string) => expectTerminal(pier, cookie, session, marker);
  /** After a failed move: the pod runs on the local engine again, as it was, with the work, and its session carries on. */
  const expectBackHome = async (marker: string) => {
    const pod = await until("the pod running on the local engine again", podOf, (p) => p.state === "running");
    expect(pod.dockerEngine).toBe("local");
    expect((await podThings(null)).containers).toEqual([pod.containerId]);
    expect((await call("GET", `/api/sessions/${session.id}`)).body).toMatchObject({ state: "active", podId: pod.containerId });
    await expectWorkThere(null, pod.containerId);
    await expectTerminalWorks(marker);
  };

  beforeAll(async () => {
    world = await startMoveWorld("unmovable", dataDir);
    ({ engine, pier, cookie, farId, repoId, session } = world);
  }, 600_000);

  afterAll(() => endMoveWorld(world ?? { dataDir }), 120_000);

  test("the target refuses to make the pod: it runs where it was with its work, its session was told and carries on, the target keeps nothing of it", async () => {
    // The pod's container has the same name on every engine: a container of the test's own takes it on the target.
    const name = (await docker(null, "inspect", "--format", "{{.Name}}", (await podOf()).containerId)).stdout.trim().replace(/^\//, "");
    await engine.loadImage(TEST_WORKSPACE_IMAGE);
    await engine.docker("create", "--name", name, "--network", "none", TEST_WORKSPACE_IMAGE, "true");
    try {
      const told = await move("far");
      expect(told.some((t) => t.notice.includes("copying your workspace"))).toBe(true);
      const failed = told.at(-1)!;
      expect(failed.state).toBe("failed");
      expect(failed.notice).toStartWith("Your pod could not be moved to far (");
      expect(failed.notice).toContain(name);
      expect(failed.notice).toEndWith("it stays on local, with all your work.");
      await expectBackHome("REFUSED");
      expect(await podThings(engine.host)).toEqual(nothing);
    } finally {
      await engine.docker("rm", "-f", name);
    }
  }, 600_000);

  test("the target stops as the pod is made there: it runs where it was with its work, its session was told, and the copy left there goes once the target is back", async () => {
    let stopped = false;
    const told = await move("far", (event) => {
      // The step right before the target is asked to make the pod's volume and container.
      if (!stopped && event.notice.includes("Creating your pod")) {
        stopped = true;
        engine.stopNow();
      }
    });
    expect(stopped).toBe(true);
    const failed = told.at(-1)!;
    expect(failed.state).toBe("failed");
    expect(failed.notice).toStartWith("Your pod could not be moved to far (");
    expect(failed.notice).toContain("The Docker engine far is not answering");
    expect(failed.notice).toEndWith("it stays on local, with all your work.");
    await expectBackHome("TARGET-STOPPED");

    await engine.stop();
    await engine.start();
    // The copy the failed move left on the target goes once it answers again (at the pods' next reconciliation, or at start-up).
    await pier.pier.jobs.runNow(RECONCILE_PODS);
    expect(await podThings(engine.host)).toEqual(nothing);
    expect((await podOf()).dockerEngine).toBe("local");
    await expectWorkThere(null, (await podOf()).containerId);
  }, 600_000);

  test("a later move to the target succeeds, with the work", async () => {
    const told = await move("far");
    expect(told.at(-1)).toMatchObject({ state: "moved" });
    const pod = await podOf();
    expect(pod).toMatchObject({ dockerEngine: farId, state: "running" });
    expect((await podThings(engine.host)).containers).toEqual([pod.containerId]);
    expect(await podThings(null)).toEqual(nothing);
    expect((await call("GET", `/api/sessions/${session.id}`)).body).toMatchObject({ state: "active", podId: pod.containerId });
    await expectWorkThere(engine.host, pod.containerId);
    await expectTerminalWorks("MOVED-AT-LAST");
  }, 600_000);

  test("an old copy that cannot be removed yet is said, refuses the next move with pod_move_unfinished (changing nothing), and goes at the next reconciliation", async () => {
    // A container of the test's own holds the pod's workspace volume on far, so far answers but cannot remove it.
    const volume = (await engine.docker("volume", "ls", "-q", "--filter", `name=pier-ws-${repoId}`)).trim();
    expect(volume).not.toBe("");
    const holder = (await engine.docker("run", "-d", "--network", "none", "-v", `${volume}:/held`, TEST_WORKSPACE_IMAGE, "sleep", "infinity")).trim();
    let podId: string;
    try {
      const told = await move("local");
      expect(told.at(-1)).toMatchObject({ state: "moved" });
      expect(told.at(-1)!.notice).toEndWith("Its old copy on far could not be removed yet; Pier removes it once far answers.");
      const pod = await podOf();
      podId = pod.containerId;
      expect(pod).toMatchObject({ dockerEngine: "local", state: "running" });
      await expectWorkThere(null, podId);

      // The next move first tries to remove the old copy again; it cannot, so the move is refused and nothing changes.
      const refused = await call("POST", `/api/pods/${podId}/move`, { dockerEngine: "far" });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe("pod_move_unfinished");
      expect(refused.body.error.message).toBe("An earlier move left a copy of this pod on the Docker engine far, which could not be removed yet; try again once far answers.");
      expect(await podOf()).toMatchObject({ dockerEngine: "local", state: "running", containerId: podId });
      expect((await call("GET", `/api/sessions/${session.id}`)).body).toMatchObject({ state: "active", podId });
      await expectWorkThere(null, podId);
      await expectTerminalWorks("STILL-HERE");
      expect((await podThings(engine.host)).volumes).toEqual([volume]);
    } finally {
      await engine.docker("rm", "-f", holder);
    }

    // Once it can be removed, the next reconciliation does, and a move is taken again.
    await pier.pier.jobs.runNow(RECONCILE_PODS);
    expect(await podThings(engine.host)).toEqual(nothing);
    const again = await move("far");
    expect(again.at(-1)).toMatchObject({ state: "moved" });
    expect(again.at(-1)!.notice).not.toContain("could not be removed");
    expect(await podOf()).toMatchObject({ dockerEngine: farId, state: "running" });
    await expectWorkThere(engine.host, (await podOf()).containerId);
  }, 600_000);
});
