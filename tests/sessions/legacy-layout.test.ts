/**
 * An install from before pods were per person: one pod per repo and one shared clone under
 * data/repos/<repo>. The first start after the change retires both without losing anyone's
 * work: uncommitted changes of live sessions become commits, every session's branch reaches its
 * person's own clone, and the shared pod is gone.
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import Docker from "dockerode";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitAt, makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, addRepo, waitForState } from "../support/sessions.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";

const docker = new Docker();
const dataDir = mkdtempSync(join(tmpdir(), "pier-legacy-"));
const env = await dockerTestEnv();
let pier: TestPier | null = null;
let repoId = "";

afterAll(async () => {
  for (const pod of await docker.listContainers({ all: true, filters: { label: [`pier.repo=${repoId}`] } })) {
    await docker.getContainer(pod.Id).remove({ force: true });
  }
  await pier?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test("the first start retires the shared pod and clone: live work is saved, every branch reaches its person's own clone", async () => {
  pier = await startTestPier(env, dataDir);
  const cookie = await setUpAdmin(pier);
  await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie }));
  const remote = makeRemoteRepo("shared");
  repoId = await addRepo(pier, cookie, `file://${remote.path}`, "shared");
  const instance = pier.pier.settings.instanceId();
  const users = pier.pier.db.$client.query("SELECT id, username FROM users").all() as Array<{ id: string; username: string }>;
  const adminId = users.find((u) => u.username === "admin")!.id;
  const bobId = users.find((u) => u.username === "bob")!.id;
  await pier.close();
  pier = null;

  // The old layout, as the old code made it: a bare clone with origin/* branches and worktrees beside it.
  const old = join(dataDir, "repos", repoId);
  const clone = join(old, "clone.git");
  mkdirSync(join(old, "worktrees"), { recursive: true });
  gitAt(old, "init", "-q", "--bare", clone);
  gitAt(clone, "fetch", "-q", remote.path, "+refs/heads/*:refs/remotes/origin/*");
  gitAt(clone, "config", "extensions.worktreeConfig", "true");
  gitAt(clone, "config", "--unset", "core.bare");
  gitAt(clone, "config", "--worktree", "core.bare", "true");
  const liveWorktree = join(old, "worktrees", "liveadmin0000000");
  gitAt(clone, "worktree", "add", "-q", "-b", "pier/admin/live0000", liveWorktree, "origin/main");
  gitAt(liveWorktree, "config", "--worktree", "user.name", "admin");
  gitAt(liveWorktree, "config", "--worktree", "user.email", "admin@users.pier.local");
  writeFileSync(join(liveWorktree, "half-done.txt"), "not committed yet\n");
  const bobWorktree = join(old, "worktrees", "endedbob00000000");
  gitAt(clone, "worktree", "add", "-q", "-b", "pier/bob/done0000", bobWorktree, "origin/main");
  writeFileSync(join(bobWorktree, "bob.txt"), "bob's unpushed work\n");
  gitAt(bobWorktree, "add", "bob.txt");
  gitAt(bobWorktree, "-c", "user.name=bob", "-c", "user.email=bob@users.pier.local", "commit", "-q", "-m", "Bob's unpushed commit");
  gitAt(clone, "worktree", "remove", bobWorktree);
  Bun.spawnSync(["chown", "-R", "1000:1000", old]);

  const db = new Database(join(dataDir, "pier.db"));
  const insert = db.query(
    `INSERT INTO sessions (id, repo_id, user_id, title, branch, created_branch, base_ref, worktree_path, state, model, cost_usd, created_at, ended_at)
     VALUES (?, ?, ?, ?, ?, 1, 'origin/main', ?, ?, 'claude-sonnet-4-6', 0, ?, ?)`,
  );
  insert.run("liveadmin0000000", repoId, adminId, "Live", "pier/admin/live0000", liveWorktree, "active", Date.now(), null);
  insert.run("endedbob00000000", repoId, bobId, "Ended", "pier/bob/done0000", bobWorktree, "ended", Date.now(), Date.now());
  db.close();
  const oldPod = await docker.createContainer({
    Image: TEST_WORKSPACE_IMAGE,
    Cmd: ["sleep", "infinity"],
    Labels: { "pier.instance": instance, "pier.repo": repoId },
    HostConfig: { NetworkMode: "none", Binds: [`${old}:${old}`] },
  });
  await oldPod.start();

  pier = await startTestPier(env, dataDir);
  expect(await oldPod.inspect().then(() => "still there", () => "removed")).toBe("removed");
  expect(existsSync(liveWorktree)).toBe(false);

  const live = await waitForState(pier, cookie, "liveadmin0000000", "active");
  expect(live.worktreePath).toBe(join(dataDir, "workspaces", repoId, adminId, "worktrees", "liveadmin0000000"));
  const inPod = (session: SessionJson, script: string) =>
    pier!.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 30_000 });
  const liveLook = await inPod(live, "cat half-done.txt; git log -1 --format=%s; git status --short | wc -l");
  expect(liveLook.stdout.trim().split("\n")).toEqual(["not committed yet", "Save uncommitted work from a Pier session", "0"]);

  const bob = await signIn(pier, "bob", "bob password");
  expect((await pier.fetch("/api/sessions/endedbob00000000/resume", json({}, { cookie: bob }))).status).toBe(200);
  const resumed = await waitForState(pier, bob, "endedbob00000000", "active");
  expect(resumed.worktreePath).toBe(join(dataDir, "workspaces", repoId, bobId, "worktrees", "endedbob00000000"));
  expect(resumed.podId).not.toBe(live.podId);
  const bobLook = await inPod(resumed, "cat bob.txt; git log -1 --format=%s");
  expect(bobLook.stdout.trim().split("\n")).toEqual(["bob's unpushed work", "Bob's unpushed commit"]);
  // Bob's clone took his branches only; the admin's live branch is not his to have.
  expect((await inPod(resumed, "git branch --format='%(refname:short)'")).stdout.trim().split("\n").sort()).toEqual(["pier/bob/done0000"]);

  // Once only: a further start finds nothing to retire and leaves the sessions as they are.
  await pier.close();
  pier = await startTestPier(env, dataDir);
  const again = (await (await pier.fetch("/api/sessions/liveadmin0000000", { headers: { cookie } })).json()) as SessionJson;
  expect(again).toMatchObject({ state: "active", worktreePath: live.worktreePath });
  for (const [id, who] of [["liveadmin0000000", cookie], ["endedbob00000000", bob]] as const) {
    expect((await pier.fetch(`/api/sessions/${id}/end`, json({}, { cookie: who }))).status).toBe(200);
  }
}, 300_000);
