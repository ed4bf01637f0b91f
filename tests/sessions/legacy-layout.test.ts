/**
 * An install from before pods were per person: one pod per repo and one shared clone under
 * data/repos/<repo>. The first start after the change retires both without losing anyone's
 * work: uncommitted changes of live sessions become commits, every session's branch reaches its
 * person's own clone, and the shared pod is gone. The shared clone, with everyone's saved work in
 * it, is mounted into a person's pod only until their branches are taken, and removed once
 * everyone's are.
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import Docker from "dockerode";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitAt, makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, addRepo, waitForState } from "../support/sessions.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";

const docker = new Docker();
const env = await dockerTestEnv();
const dataDirs: string[] = [];
let pier: TestPier | null = null;

afterAll(async () => {
  if (pier) await closeForGood(pier);
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/**
 * An install as the old code left it, in a new data dir: a bare clone with origin/* branches and
 * worktrees beside it (the admin's live one with uncommitted work, and a second live one if asked;
 * bob's ended one whose branch has an unpushed commit), the sessions in the database, and the
 * repo's one shared pod running.
 */
async function legacyInstall(options: { secondLive?: boolean } = {}) {
  // The last test's Pier, on a data dir of its own, is done with.
  if (pier) await closeForGood(pier);
  const dataDir = mkdtempSync(join(tmpdir(), "pier-legacy-"));
  dataDirs.push(dataDir);
  pier = await startTestPier(env, dataDir);
  const cookie = await setUpAdmin(pier);
  await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie }));
  const remote = makeRemoteRepo("shared");
  const repoId = await addRepo(pier, cookie, `file://${remote.path}`, "shared");
  const instance = pier.pier.settings.instanceId();
  const users = pier.pier.db.$client.query("SELECT id, username FROM users").all() as Array<{ id: string; username: string }>;
  const adminId = users.find((u) => u.username === "admin")!.id;
  const bobId = users.find((u) => u.username === "bob")!.id;
  await pier.close();
  pier = null;

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
  const secondWorktree = join(old, "worktrees", "liveadmin0000002");
  if (options.secondLive) gitAt(clone, "worktree", "add", "-q", "-b", "pier/admin/live0002", secondWorktree, "origin/main");
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
  if (options.secondLive) insert.run("liveadmin0000002", repoId, adminId, "Live too", "pier/admin/live0002", secondWorktree, "active", Date.now(), null);
  db.close();
  const oldPod = await docker.createContainer({
    Image: TEST_WORKSPACE_IMAGE,
    Cmd: ["sleep", "infinity"],
    Labels: { "pier.instance": instance, "pier.repo": repoId },
    HostConfig: { NetworkMode: "none", Binds: [`${old}:${old}`] },
  });
  await oldPod.start();
  return { dataDir, cookie, repoId, adminId, bobId, clone, liveWorktree, oldPod };
}

const inPod = (session: SessionJson, script: string) =>
  pier!.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 30_000 });

/** Where a pod's container mounts things, as the engine says. */
const mountsOf = async (session: SessionJson): Promise<string[]> => ((await docker.getContainer(session.podId!).inspect()).Mounts ?? []).map((m) => m.Destination);

test("the first start retires the shared pod and clone: live work is saved, every branch reaches its person's own clone", async () => {
  const { dataDir, cookie, repoId, adminId, bobId, liveWorktree, oldPod } = await legacyInstall();
  pier = await startTestPier(env, dataDir);
  expect(await oldPod.inspect().then(() => "still there", () => "removed")).toBe("removed");
  expect(existsSync(liveWorktree)).toBe(false);

  const live = await waitForState(pier, cookie, "liveadmin0000000", "active");
  expect(live.worktreePath).toBe(join(dataDir, "workspaces", repoId, adminId, "worktrees", "liveadmin0000000"));
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

test("once a person's branches are in their own clone, their pod mounts the shared clone no more (others' saved work is out of reach); once everyone's are, it is gone", async () => {
  const { dataDir, cookie, repoId, clone } = await legacyInstall();
  pier = await startTestPier(env, dataDir);
  // The admin's live session moved to their own pod at start, and took their branches with it.
  const live = await waitForState(pier, cookie, "liveadmin0000000", "active");
  expect(await mountsOf(live)).not.toContain(clone);
  const look = await inPod(live, `git --git-dir=${clone} log -1 --format=%s pier/bob/done0000 2>/dev/null; ls ${clone} >/dev/null 2>&1 && echo readable || echo unreadable`);
  expect(look.stdout.trim().split("\n")).toEqual(["unreadable"]);
  expect((await inPod(live, "cat half-done.txt; git log -1 --format=%s")).stdout.trim().split("\n")).toEqual(["not committed yet", "Save uncommitted work from a Pier session"]);
  // Bob has not been back: his saved work waits for him in the shared clone.
  expect(existsSync(join(clone, "HEAD"))).toBe(true);

  const bob = await signIn(pier, "bob", "bob password");
  expect((await pier.fetch("/api/sessions/endedbob00000000/resume", json({}, { cookie: bob }))).status).toBe(200);
  const resumed = await waitForState(pier, bob, "endedbob00000000", "active");
  expect(await mountsOf(resumed)).not.toContain(clone);
  expect((await inPod(resumed, "cat bob.txt; git log -1 --format=%s")).stdout.trim().split("\n")).toEqual(["bob's unpushed work", "Bob's unpushed commit"]);

  // Everyone's branches are in their own clones: the shared clone goes, and with it its record.
  const recorded = () => pier!.pier.db.$client.query("SELECT repo_id FROM legacy_clones WHERE repo_id = ?").all(repoId);
  const deadline = Date.now() + 60_000;
  while ((existsSync(clone) || recorded().length > 0) && Date.now() < deadline) await Bun.sleep(200);
  expect(existsSync(clone)).toBe(false);
  expect(recorded()).toEqual([]);
  for (const [id, who] of [["liveadmin0000000", cookie], ["endedbob00000000", bob]] as const) {
    expect((await pier.fetch(`/api/sessions/${id}/end`, json({}, { cookie: who }))).status).toBe(200);
  }
}, 300_000);

test("a pod in which the person has other live sessions keeps the shared clone until none is live: their shells are not ended, nor their work lost", async () => {
  const { dataDir, cookie, clone } = await legacyInstall({ secondLive: true });
  pier = await startTestPier(env, dataDir);
  const [one, two] = [await waitForState(pier, cookie, "liveadmin0000000", "active"), await waitForState(pier, cookie, "liveadmin0000002", "active")];
  // Each started while the other was live in the same pod: it is kept as it is, mount and all.
  expect(two.podId).toBe(one.podId);
  expect(await mountsOf(one)).toContain(clone);
  await inPod(two, "echo unsaved > draft.txt");

  for (const id of ["liveadmin0000000", "liveadmin0000002"]) expect((await pier.fetch(`/api/sessions/${id}/end`, json({}, { cookie }))).status).toBe(200);
  // The next start finds nothing of theirs live in the pod: it is re-created without the clone; the work is all there.
  expect((await pier.fetch("/api/sessions/liveadmin0000002/resume", json({}, { cookie }))).status).toBe(200);
  const resumed = await waitForState(pier, cookie, "liveadmin0000002", "active");
  expect(resumed.podId).not.toBe(one.podId);
  expect(await mountsOf(resumed)).not.toContain(clone);
  expect((await inPod(resumed, "cat draft.txt")).stdout).toBe("unsaved\n");
  expect((await pier.fetch("/api/sessions/liveadmin0000002/end", json({}, { cookie }))).status).toBe(200);
}, 300_000);
