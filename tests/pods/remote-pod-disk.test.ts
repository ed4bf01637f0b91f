/**
 * A pod on another Docker engine shares nothing of Pier's disk: a second dockerd of the test's own
 * (its own socket and data root) stands in for a remote host. The person's workspace is a volume of
 * that engine, kept across a rebuild; the clone and its fetches come from the mirror over Pier's
 * smart HTTP with the pod's own credential (the pods use host networking to reach Pier on
 * 127.0.0.1, as a remote pod reaches Pier's address); Claude Code comes from the engine's read-only
 * tools volume; its sockets are reached through its bridge (src/bridge), so no path under Pier's
 * data dir is bound into it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CLAUDE_CODE_VERSION } from "../../src/claude-code/package.ts";
import { mirrorDir, podServicesDir, workspaceDir } from "../../src/repos/layout.ts";
import { findUserByUsername } from "../../src/auth/users.ts";
import { getRepo } from "../../src/repos/repos.ts";
import { claudeCodeOnHost } from "../support/claude-code.ts";
import { commitFiles, gitAt, makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

interface MountJson {
  Type: string;
  Source: string;
  Destination: string;
  Name?: string;
  RW: boolean;
}

describe("a pod on another Docker engine has nothing of Pier's disk", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-remote-disk-"));
  let engine: SecondEngine;
  let pier: TestPier;
  let cookie: string;
  let remote: RemoteRepo;
  let repoId: string;
  let session: SessionJson;

  /** A script in the pod on the second engine, as the pod user; its output and exit code. */
  const inPod = async (podId: string, script: string) => {
    const child = Bun.spawn(["docker", "-H", engine.host, "exec", podId, "bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { stdout, stderr, code };
  };
  const mountsOf = async (podId: string) => JSON.parse(await engine.docker("inspect", "--format", "{{json .Mounts}}", podId)) as MountJson[];
  const mirrorUrl = () => `http://127.0.0.1:${new URL(pier.url).port}/git/${repoId}.git`;

  beforeAll(async () => {
    await claudeCodeOnHost();
    engine = await startSecondEngine();
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host" }, dataDir);
    cookie = await setUpAdmin(pier);
    const added = await pier.fetch("/api/config/docker-engines", { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "far", host: engine.host, capacity: 10 }) });
    expect(added.status).toBe(201);
    remote = makeRemoteRepo("far-away");
    repoId = await addRepo(pier, cookie, `file://${remote.path}`, "far-away");
    const pinned = await pier.fetch(`/api/repos/${repoId}`, { method: "PATCH", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ dockerEngine: "far" }) });
    expect(pinned.status).toBe(200);
  }, 600_000);

  afterAll(async () => {
    if (pier) await closeForGood(pier).catch(() => undefined);
    await engine?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
    if (remote) rmSync(join(remote.path, ".."), { recursive: true, force: true });
  }, 120_000);

  test("its Mounts are the workspace volume and the tools volume (read-only), and no bind of any path under the data dir", async () => {
    // A pod of its own, made with no session in it.
    const userId = findUserByUsername(pier.pier.db, ADMIN.username)!.id;
    const shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, repoId), userId);
    const podId = shell.pod.id;
    const mounts = await mountsOf(podId);
    const fromDataDir = mounts.filter((mount) => mount.Type === "bind" && (mount.Source === dataDir || mount.Source.startsWith(`${dataDir}/`)));
    expect(fromDataDir.map(({ Source, Destination, RW }) => ({ Source, Destination, RW }))).toEqual([]);
    const volumes = mounts.filter((mount) => mount.Type === "volume").map(({ Name, Destination, RW }) => ({ Name, Destination, RW }));
    expect(volumes).toHaveLength(2);
    expect(volumes).toContainEqual({ Name: `pier-ws-${repoId}-${userId}`, Destination: workspaceDir(join(dataDir, "workspaces"), repoId, userId), RW: true });
    expect(volumes.find((volume) => volume.Destination === "/opt/pier-tools")).toMatchObject({ RW: false });
    expect(mounts.filter((mount) => mount.Type !== "volume" && !fromDataDir.includes(mount))).toEqual([]);
    // The mirror is nowhere in the pod; Pier's helpers are, written into it and not the pod user's to change.
    expect((await inPod(podId, `test -e ${mirrorDir(dataDir, repoId)} && echo there`)).stdout).toBe("");
    const helper = join(podServicesDir(dataDir, repoId, userId), "git-credential-pier");
    const owned = await inPod(podId, `stat -c '%U %a' ${helper}; echo x >> ${helper} 2>/dev/null || echo refused`);
    expect(owned.stdout).toBe("root 755\nrefused\n");
  }, 60_000);

  test("the session's worktree is made from /git, and a git fetch in it gets the mirror's new commit through the pod's credential helper", async () => {
    session = await activeSession(pier, cookie, { repoId });
    const worktree = session.worktreePath!;
    const head = await inPod(session.podId!, `git -C ${worktree} rev-parse HEAD && stat -c %U ${worktree}`);
    expect(head.stdout.trim().split("\n")).toEqual([remote.git("rev-parse", "main"), "pier"]);
    commitFiles(remote, { "later.txt": "a later change\n" }, "A later change");
    gitAt(mirrorDir(dataDir, repoId), "fetch", "--quiet", "--prune", "--no-tags", "origin");
    const fetched = await inPod(session.podId!, `cd ${worktree} && GIT_TERMINAL_PROMPT=0 git fetch --quiet ${mirrorUrl()} main && git rev-parse FETCH_HEAD`);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout.trim()).toBe(remote.git("rev-parse", "main"));
  }, 120_000);

  test("its terminal runs, in the worktree on the workspace volume", async () => {
    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await term.run("echo AT-$(pwd)-$((6*7))", /AT-\S+-42/);
    expect(term.text).toContain(`AT-${session.worktreePath}-42`);
    term.close();
  }, 60_000);

  test("a plain clone of /git checks out the remote's default branch: the mirror's HEAD follows it", async () => {
    const helper = join(podServicesDir(dataDir, repoId, session.userId), "git-credential-pier");
    const cloned = await inPod(session.podId!, `rm -rf /tmp/plain && GIT_TERMINAL_PROMPT=0 git -c credential.helper=${helper} clone --quiet ${mirrorUrl()} /tmp/plain && git -C /tmp/plain rev-parse --abbrev-ref HEAD`);
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(cloned.stdout.trim()).toBe("main");
  }, 60_000);

  test("Claude Code runs in the pod from the engine's tools volume", async () => {
    const command = await pier.pier.claudeCodeCommandFor(session);
    const ran = await inPod(session.podId!, `readlink ${command}; ${command} --version`);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`/opt/pier-tools/claude-code-${DEFAULT_CLAUDE_CODE_VERSION}-linux-x64/claude`);
    expect(ran.stdout).toContain(`${DEFAULT_CLAUDE_CODE_VERSION} (Claude Code)`);
  }, 300_000);

  test("an uncommitted file in the workspace survives the pod being made again", async () => {
    const worktree = session.worktreePath!;
    expect((await inPod(session.podId!, `echo unsaved work > ${worktree}/draft.txt`)).code).toBe(0);
    const before = session.podId!;
    await pier.pier.pods.recreate(getRepo(pier.pier.db, repoId), session.userId, () => {}, null);
    const after = (await engine.docker("ps", "-q", "--no-trunc", "--filter", `label=pier.repo=${repoId}`)).trim();
    expect(after).not.toBe("");
    expect(before.startsWith(after) || after.startsWith(before)).toBe(false);
    const read = await inPod(after, `cat ${worktree}/draft.txt && git -C ${worktree} status --porcelain`);
    expect(read.stdout).toBe("unsaved work\n?? draft.txt\n");
  }, 180_000);
});
