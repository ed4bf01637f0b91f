import { expect, test } from "bun:test";
import Docker from "dockerode";
import { join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { json } from "../support/pier.ts";
import { activeSession, addRepo, waitForState } from "../support/sessions.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";
import { defineLifecycleTests } from "./lifecycle.ts";

const docker = new Docker();

defineLifecycleTests("docker", await dockerTestEnv(), (context) => {
  test("the pod is isolated: limits, no privileged mode, no network, no socket, and only its person's directories of its repo", async () => {
    const { pier, cookie, repoId } = context();
    const otherRepo = await addRepo(pier, cookie, `file://${makeRemoteRepo("gadgets").path}`, "gadgets");
    const other = await activeSession(pier, cookie, { repoId: otherRepo });
    const s = await activeSession(pier, cookie, { repoId });
    expect(s.podId).not.toBe(other.podId);

    const info = await docker.getContainer(s.podId!).inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.CapDrop).toEqual(["NET_RAW", "MKNOD"]);
    expect(info.HostConfig.NetworkMode).toBe("none");
    expect(info.HostConfig.Memory).toBe(4096 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(2e9);
    expect(info.HostConfig.PidsLimit).toBe(1024);
    expect(info.Config.User).toBe("1000:1000");
    const workspace = join(pier.dataDir, "workspaces", repoId, s.userId);
    const mirror = join(pier.dataDir, "mirrors", `${repoId}.git`);
    const services = join(pier.dataDir, "pods", repoId, s.userId);
    expect(info.Mounts.map((m) => `${m.Source}:${m.Destination}:${m.RW ? "rw" : "ro"}`).sort()).toEqual(
      [`${workspace}:${workspace}:rw`, `${mirror}:${mirror}:ro`, `${services}:${services}:ro`, `${services}/profile.sh:/etc/profile.d/pier.sh:ro`].sort(),
    );

    const look = await context().sh(s, [
      `test -e ${pier.dataDir}/pier.db && echo db-visible`,
      `test -e ${pier.dataDir}/secret.key && echo key-visible`,
      `test -e ${join(pier.dataDir, "workspaces", otherRepo)} && echo other-repo-visible`,
      `test -e /var/run/docker.sock && echo socket-visible`,
      `touch ${mirror}/planted 2>/dev/null && echo mirror-writable`,
      `touch ${services}/planted 2>/dev/null && echo services-writable`,
      `ls ${join(pier.dataDir, "workspaces")}`,
      "id -un",
    ].join("; "));
    expect(look.stdout.trim().split("\n")).toEqual([repoId, "pier"]);

    const repo = (await (await pier.fetch(`/api/repos/${repoId}`, { headers: { cookie } })).json()) as { pod: unknown };
    expect(repo.pod).toEqual({ state: "running", image: TEST_WORKSPACE_IMAGE, containerId: s.podId, dockerEngine: "local" });
    for (const x of [s, other]) await pier.fetch(`/api/sessions/${x.id}/end`, json({}, { cookie }));
  }, 300_000);

  test("a person can install tools as root in their own pod: sudo works, and root still cannot write the mirror", async () => {
    const { pier, cookie, repoId } = context();
    const s = await activeSession(pier, cookie, { repoId });
    const mirror = join(pier.dataDir, "mirrors", `${repoId}.git`);
    const root = await context().sh(s, `sudo -n id -u && sudo -n touch /usr/local/bin/installed-tool && ls /usr/local/bin; sudo -n touch ${mirror}/by-root || echo mirror-refused`);
    expect(root.stdout.trim().split("\n")).toEqual(["0", "installed-tool", "mirror-refused"]);
    expect(root.stderr).toContain("Read-only file system");
    await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }));
  }, 300_000);

  test("a pod removed behind Pier's back is noticed and re-created for the next session", async () => {
    const { pier, cookie, repoId } = context();
    const first = await activeSession(pier, cookie, { repoId });
    await pier.fetch(`/api/sessions/${first.id}/end`, json({}, { cookie }));
    await docker.getContainer(first.podId!).remove({ force: true });

    await pier.pier.pods.reconcile();
    expect(pier.pier.pods.view(repoId, first.userId)).toMatchObject({ state: "missing", containerId: null });

    const next = await activeSession(pier, cookie, { repoId });
    expect(next.podId).not.toBe(first.podId);
    expect((await docker.getContainer(next.podId!).inspect()).State.Running).toBe(true);
    expect((await context().sh(next, "cat README.md")).stdout).toBe("# widgets\n");
    await pier.fetch(`/api/sessions/${next.id}/end`, json({}, { cookie }));
  }, 300_000);

  test("a container still being made (its -making name) is never taken for the pod: not recorded by a reconciliation, nothing run in it, and made again at the next start", async () => {
    const { pier, cookie, repoId } = context();
    const first = await activeSession(pier, cookie, { repoId });
    await pier.fetch(`/api/sessions/${first.id}/end`, json({}, { cookie }));
    const key = { repoId, userId: first.userId };
    // What a Pier cut off as it made the pod leaves (or what a reconciliation meets while a pod is being made): a running container with the pod's labels under its making name.
    const pod = await docker.getContainer(first.podId!).inspect();
    await docker.getContainer(first.podId!).remove({ force: true });
    const half = await docker.createContainer({ name: `${pod.Name.replace(/^\//, "")}-making`, Image: TEST_WORKSPACE_IMAGE, Cmd: ["sleep", "infinity"], Labels: pod.Config.Labels, HostConfig: { NetworkMode: "none" } });
    await half.start();
    try {
      await pier.pier.pods.reconcile();
      expect(pier.pier.pods.view(repoId, first.userId)?.containerId).not.toBe(half.id);
      expect(await pier.pier.pods.runningShell(key)).toBeNull();

      const next = await activeSession(pier, cookie, { repoId });
      expect(next.podId).not.toBe(half.id);
      expect(await half.inspect().then(() => "still there", () => "gone")).toBe("gone");
      expect(pier.pier.pods.view(repoId, first.userId)).toMatchObject({ state: "running", containerId: next.podId });
      expect((await context().sh(next, "cat README.md")).stdout).toBe("# widgets\n");
      await pier.fetch(`/api/sessions/${next.id}/end`, json({}, { cookie }));
    } finally {
      await half.remove({ force: true }).catch(() => undefined);
    }
  }, 300_000);

  test("two removals of one pod at once both finish, and the next pod is made under the same name", async () => {
    const { pier, cookie, repoId } = context();
    const first = await activeSession(pier, cookie, { repoId });
    await pier.fetch(`/api/sessions/${first.id}/end`, json({}, { cookie }));
    const key = { repoId, userId: first.userId };
    // A rebuild and a repository's removal (or the engine's own) can race: one finds the container the other is removing.
    await Promise.all([pier.pier.runtime.removePod(key), pier.pier.runtime.removePod(key), docker.getContainer(first.podId!).remove({ force: true }).catch(() => undefined)]);
    expect(await docker.getContainer(first.podId!).inspect().then(() => "still there", () => "gone")).toBe("gone");
    const next = await activeSession(pier, cookie, { repoId });
    expect(next.podId).not.toBe(first.podId);
    await pier.fetch(`/api/sessions/${next.id}/end`, json({}, { cookie }));
  }, 300_000);

  test("an idle pod is stopped, never while a session is live, and started again on next use", async () => {
    const { pier, cookie, repoId } = context();
    const live = await activeSession(pier, cookie, { repoId });
    const pod = { repoId, userId: live.userId };
    const later = Date.now() + 24 * 60 * 60_000;
    const inUse = (key: { repoId: string; userId: string }) => pier.pier.sessions.hasLiveSession(key.repoId, key.userId);
    expect(await pier.pier.pods.stopIdle(30, inUse, later)).not.toContainEqual(pod);
    await pier.fetch(`/api/sessions/${live.id}/end`, json({}, { cookie }));

    expect(await pier.pier.pods.stopIdle(30, inUse, Date.now())).not.toContainEqual(pod);
    expect(await pier.pier.pods.stopIdle(30, inUse, later)).toContainEqual(pod);
    expect((await docker.getContainer(live.podId!).inspect()).State.Running).toBe(false);
    expect(pier.pier.pods.view(repoId, live.userId)?.state).toBe("stopped");

    const resumed = await pier.fetch(`/api/sessions/${live.id}/resume`, json({}, { cookie }));
    expect(resumed.status).toBe(200);
    const back = await waitForState(pier, cookie, live.id, "active");
    expect(back.podId).toBe(live.podId);
    expect((await docker.getContainer(live.podId!).inspect()).State.Running).toBe(true);
    await pier.fetch(`/api/sessions/${live.id}/end`, json({}, { cookie }));
  }, 300_000);

  test("provisioning that cannot get its image fails with a sentence a person can act on", async () => {
    const { pier, cookie } = context();
    const remote = makeRemoteRepo("imageless").path;
    const cases: Array<[string, RegExp]> = [
      ["registry.invalid/team/workspace:1", /^Could not pull registry\.invalid\/team\/workspace:1: /],
      ["pier-workspace:latest", /^Could not build pier-workspace:latest: /],
    ];
    for (const [image, message] of cases) {
      const res = await pier.fetch("/api/repos", json({ url: `file://${remote}`, name: `img-${cases.findIndex((c) => c[0] === image)}`, image }, { cookie }));
      const repo = (await res.json()) as { id: string };
      const created = (await (await pier.fetch("/api/sessions", json({ repoId: repo.id }, { cookie }))).json()) as { id: string };
      const failed = await waitForState(pier, cookie, created.id, "failed");
      expect(failed.error).toMatch(message);
      expect(failed.podId).toBeNull();
      // A failed session can be ended (nothing to save) and keeps its place in the history.
      const ended = await pier.fetch(`/api/sessions/${created.id}/end`, json({}, { cookie }));
      expect(((await ended.json()) as { state: string }).state).toBe("ended");
    }
  }, 300_000);

  test("containers labelled as this Pier's with no repository are listed, not deleted", async () => {
    const { pier, cookie } = context();
    const instance = pier.pier.settings.instanceId();
    const stray = await docker.createContainer({
      Image: TEST_WORKSPACE_IMAGE,
      Cmd: ["sleep", "infinity"],
      Labels: { "pier.instance": instance, "pier.repo": "gone0000000000000", "pier.user": "nobody0000000000" },
      HostConfig: { NetworkMode: "none" },
    });
    try {
      await pier.pier.pods.reconcile();
      const orphans = await pier.pier.pods.reconcile();
      expect(orphans.map((o) => o.id)).toContain(stray.id);
      const listed = (await (await pier.fetch("/api/repos/orphan-pods", { headers: { cookie } })).json()) as Array<{ id: string; repoId: string }>;
      expect(listed).toEqual([expect.objectContaining({ id: stray.id, repoId: "gone0000000000000" })]);
      expect((await stray.inspect()).Id).toBe(stray.id);
    } finally {
      await stray.remove({ force: true });
    }
  }, 60_000);

  test("a pod of a removed repository is removed with it; its files stay", async () => {
    const { pier, cookie } = context();
    const doomed = await addRepo(pier, cookie, `file://${makeRemoteRepo("doomed").path}`, "doomed");
    const s = await activeSession(pier, cookie, { repoId: doomed });
    await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }));
    expect((await pier.fetch(`/api/repos/${doomed}`, { method: "DELETE", headers: { cookie } })).status).toBe(204);
    expect(await docker.getContainer(s.podId!).inspect().then(() => "exists", () => "gone")).toBe("gone");
    expect(await Bun.file(join(pier.dataDir, "workspaces", doomed, s.userId, "clone.git", "HEAD")).exists()).toBe(true);
    expect(await Bun.file(join(pier.dataDir, "mirrors", `${doomed}.git`, "HEAD")).exists()).toBe(true);
  }, 300_000);

  test("on pods with no network, a task's session says its terminal cannot reach Pier's MCP endpoint, and writes no .mcp.json", async () => {
    const { pier, cookie, repoId } = context();
    const task = (await (await pier.fetch("/api/tasks", json({ title: "Offline task" }, { cookie }))).json()) as { id: string };
    const s = await activeSession(pier, cookie, { repoId, taskId: task.id });
    const page = await (await pier.fetch(`/sessions/${s.id}`, { headers: { cookie } })).text();
    expect(page).toContain('data-notice="mcp-unreachable"');
    expect(page).toContain("cannot reach Pier&#x27;s MCP endpoint");
    expect((await context().sh(s, "test -e .mcp.json && echo written || echo absent")).stdout.trim()).toBe("absent");
    await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }));
    const plain = await activeSession(pier, cookie, { repoId });
    expect(await (await pier.fetch(`/sessions/${plain.id}`, { headers: { cookie } })).text()).not.toContain("data-notice=");
    await pier.fetch(`/api/sessions/${plain.id}/end`, json({}, { cookie }));
  }, 300_000);
});
