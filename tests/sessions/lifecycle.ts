import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RemoteRepo, gitAt, makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError, startSession, waitForState } from "../support/sessions.ts";

export interface LifecycleContext {
  pier: TestPier;
  cookie: string;
  remote: RemoteRepo;
  repoId: string;
  /** Runs a shell command in the session's worktree, the way the session's pod runs it. */
  sh(session: SessionJson, script: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  restart(): Promise<void>;
}

/**
 * The session lifecycle every runtime must pass: shared pods, separate worktrees, existing
 * branches, ending with uncommitted work, resuming, and a server restart.
 */
export function defineLifecycleTests(runtime: "local" | "docker", env: Record<string, string>, extra?: (ctx: () => LifecycleContext) => void) {
  describe(`session lifecycle on the ${runtime} runtime`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `pier-${runtime}-sessions-`));
    const fullEnv = { PIER_RUNTIME: runtime, PIER_ALLOW_LOCAL_REPOS: "1", ...env };
    let ctx: LifecycleContext;

    beforeAll(async () => {
      const pier = await startTestPier(fullEnv, dataDir);
      const cookie = await setUpAdmin(pier);
      const remote = makeRemoteRepo();
      const repoId = await addRepo(pier, cookie, `file://${remote.path}`);
      ctx = {
        pier,
        cookie,
        remote,
        repoId,
        async sh(session, script) {
          const pod = { id: session.podId!, image: "" };
          return ctx.pier.pier.runtime.exec(pod, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 30_000 });
        },
        async restart() {
          await ctx.pier.close();
          ctx.pier = await startTestPier(fullEnv, dataDir);
        },
      };
    }, 300_000);

    afterAll(async () => {
      const repos = ctx?.pier.pier.db.$client.query("SELECT id FROM repos").all() as Array<{ id: string }>;
      for (const { id } of repos ?? []) await ctx.pier.pier.pods.removeAll(id);
      if (ctx) await closeForGood(ctx.pier);
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    test("two sessions on one repo share one pod and have separate worktrees and branches", async () => {
      const { pier, cookie, repoId } = ctx;
      const [a, b] = await Promise.all([activeSession(pier, cookie, { repoId }), activeSession(pier, cookie, { repoId, title: "Second" })]);
      expect(a.podId).toBeTruthy();
      expect(a.podId).toBe(b.podId);
      expect(a.worktreePath).not.toBe(b.worktreePath);
      expect(a.branch).toMatch(/^pier\/admin\/[a-z2-7]{8}$/);
      expect(b.branch).not.toBe(a.branch);
      expect(a.baseRef).toBe("origin/main");

      const made = await ctx.sh(a, "echo from-a > only-in-a.txt && git status --short");
      expect(made.exitCode).toBe(0);
      expect(made.stdout).toContain("only-in-a.txt");
      expect(existsSync(join(a.worktreePath, "only-in-a.txt"))).toBe(true);
      expect(existsSync(join(b.worktreePath, "only-in-a.txt"))).toBe(false);
      const inB = await ctx.sh(b, "test -e only-in-a.txt; echo $?; git rev-parse --abbrev-ref HEAD; cat README.md");
      expect(inB.stdout.split("\n").slice(0, 3)).toEqual(["1", b.branch, "# widgets"]);

      for (const s of [a, b]) expect((await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }))).status).toBe(200);
    }, 300_000);

    test("provisioning progress streams as server-sent events, step by step", async () => {
      const { pier, cookie } = ctx;
      const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("streamed").path}`, "streamed");
      const created = (await (await startSession(pier, cookie, { repoId })).json()) as SessionJson;
      const res = await pier.fetch(`/api/sessions/${created.id}/events`, { headers: { cookie } });
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const events: Array<{ type: string; step?: string; state?: string; fraction?: number }> = [];
      const reader = res.body!.getReader();
      let buffer = "";
      while (!events.some((e) => e.type === "state")) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += new TextDecoder().decode(value);
        const frames = buffer.split("\n\n");
        buffer = frames.pop()!;
        for (const frame of frames) events.push(JSON.parse(frame.replace(/^data: /, "")));
      }
      await reader.cancel();
      expect(events.at(-1)).toEqual({ type: "state", state: "active" });
      const steps = events.filter((e) => e.type === "progress").map((e) => e.step);
      expect(steps).toEqual(expect.arrayContaining(["pod", "clone", "worktree"]));
      expect(events.filter((e) => e.step === "worktree").at(-1)?.fraction).toBe(1);
      await pier.fetch(`/api/sessions/${created.id}/end`, json({}, { cookie }));
      await pier.pier.pods.removeAll(repoId);
    }, 300_000);

    test("a mirror fetch that fails while the pod is readied fails the session with git's sentence and makes nothing; the next start works", async () => {
      const { pier, cookie, repoId } = ctx;
      const away = `${ctx.remote.path}.away`;
      renameSync(ctx.remote.path, away);
      let failed: SessionJson;
      try {
        const created = (await (await startSession(pier, cookie, { repoId })).json()) as SessionJson;
        failed = await waitForState(pier, cookie, created.id, "failed");
      } finally {
        renameSync(away, ctx.remote.path);
      }
      expect(failed.error).toBe(`fatal: '${ctx.remote.path}' does not appear to be a git repository`);
      expect(existsSync(failed.worktreePath)).toBe(false);
      // The person's clone (if an earlier session made it) has no branch or worktree of it.
      const clone = join(pier.dataDir, "workspaces", repoId, failed.userId, "clone.git");
      if (existsSync(clone)) {
        expect(gitAt(clone, "branch", "--list", failed.branch)).toBe("");
        expect(gitAt(clone, "worktree", "list", "--porcelain")).not.toContain(failed.worktreePath);
      }

      const next = await activeSession(pier, cookie, { repoId });
      expect((await ctx.sh(next, "cat README.md")).stdout).toBe("# widgets\n");
      await pier.fetch(`/api/sessions/${next.id}/end`, json({}, { cookie }));
    }, 300_000);

    test("commits made in the worktree carry the Pier user's name", async () => {
      const s = await activeSession(ctx.pier, ctx.cookie, { repoId: ctx.repoId });
      const commit = await ctx.sh(s, "echo x > x.txt && git add x.txt && git commit -q -m 'From the terminal' && git log -1 --format='%an <%ae>'");
      expect(commit.stderr).toBe("");
      expect(commit.stdout.trim()).toBe("admin <admin@users.pier.local>");
      const end = await ctx.pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie: ctx.cookie }));
      expect(((await end.json()) as { unpushedCommits: number }).unpushedCommits).toBe(1);
    }, 300_000);

    test("git asks Pier for the GitHub token when it needs one, for the GitHub host only; a new token works at once", async () => {
      const { pier, cookie, repoId } = ctx;
      const put = (githubToken: string) => pier.fetch("/api/settings", { ...json({ githubToken }, { cookie }), method: "PUT" });
      const fill = (host: string) => `printf 'protocol=https\\nhost=${host}\\n\\n' | GIT_TERMINAL_PROMPT=0 git credential fill 2>&1`;
      await put("ghp_lifecycle_first");
      const s = await activeSession(pier, cookie, { repoId });
      expect((await ctx.sh(s, fill("github.com"))).stdout).toContain("password=ghp_lifecycle_first");
      await put("ghp_lifecycle_second");
      expect((await ctx.sh(s, fill("github.com"))).stdout).toContain("password=ghp_lifecycle_second");
      expect((await ctx.sh(s, fill("example.com"))).stdout).not.toContain("ghp_");
      expect((await ctx.sh(s, "git config --show-origin --get credential.helper")).stdout).toContain("git-credential-pier");
      await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }));
      await put("");
    }, 300_000);

    test("an existing branch is checked out; unknown, busy and malformed branches are refused", async () => {
      const { pier, cookie, repoId } = ctx;
      const feature = await activeSession(pier, cookie, { repoId, branch: "feature/login" });
      expect(feature.branch).toBe("feature/login");
      expect(existsSync(join(feature.worktreePath, "login.txt"))).toBe(true);

      const busy = await apiError(await startSession(pier, cookie, { repoId, branch: "feature/login" }));
      expect(busy).toMatchObject({ status: 409, code: "branch_in_use" });
      const missing = await apiError(await startSession(pier, cookie, { repoId, branch: "no-such-branch" }));
      expect(missing).toMatchObject({ status: 400, code: "branch_not_found" });
      for (const branch of ["-x", "--upload-pack=touch /tmp/pwned", "a..b", "has space", "tab\tname", "bell\x07", "new\nline"]) {
        const bad = await apiError(await startSession(pier, cookie, { repoId, branch }));
        expect(`${JSON.stringify(branch)} ${bad.status} ${bad.code}`).toBe(`${JSON.stringify(branch)} 400 invalid_branch`);
      }
      const unknownRepo = await apiError(await startSession(pier, cookie, { repoId: "nope" }));
      expect(unknownRepo).toMatchObject({ status: 400, code: "invalid_repo_id" });
      const unknownTask = await apiError(await startSession(pier, cookie, { repoId, taskId: "nope" }));
      expect(unknownTask).toMatchObject({ status: 400, code: "invalid_task_id" });

      // A branch that appeared on the remote after the clone is found by fetching.
      ctx.remote.git("checkout", "--quiet", "-b", "late-branch");
      ctx.remote.git("push", "--quiet", "origin", "late-branch");
      ctx.remote.git("checkout", "--quiet", "main");
      const late = await activeSession(pier, cookie, { repoId, branch: "late-branch" });
      // And on a repo that has no clone yet, the remote itself is asked.
      const fresh = await addRepo(pier, cookie, `file://${ctx.remote.path}`, "fresh-clone");
      const onFresh = await activeSession(pier, cookie, { repoId: fresh, branch: "feature/login" });
      expect(existsSync(join(onFresh.worktreePath, "login.txt"))).toBe(true);
      await pier.fetch(`/api/sessions/${onFresh.id}/end`, json({}, { cookie }));
      expect(late.branch).toBe("late-branch");
      for (const s of [feature, late]) await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }));
    }, 300_000);

    test("ending saves uncommitted work as a commit, removes the worktree and keeps the branch; resume brings it back", async () => {
      const { pier, cookie, repoId } = ctx;
      const s = await activeSession(pier, cookie, { repoId });
      await ctx.sh(s, "echo 'half-done work' > notes.txt && echo changed >> README.md");

      const preview = (await (await pier.fetch(`/api/sessions/${s.id}/changes`, { headers: { cookie } })).json()) as {
        uncommittedFiles: string[];
        unpushedCommits: number;
      };
      expect(preview.uncommittedFiles.sort()).toEqual(["README.md", "notes.txt"]);

      const diff = (await (await pier.fetch(`/api/sessions/${s.id}/diff`, { headers: { cookie } })).json()) as {
        files: Array<{ path: string; status: string; additions: number; deletions: number }>;
        patch: string;
      };
      expect(diff.files).toContainEqual({ path: "README.md", status: "modified", additions: 1, deletions: 0 });
      expect(diff.files.map((f) => f.path)).toContain("notes.txt");
      expect(diff.patch).toContain("+changed");

      const endRes = await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }));
      expect(endRes.status).toBe(200);
      const ended = (await endRes.json()) as SessionJson & { savedUncommitted: boolean; unpushedCommits: number };
      expect(ended.state).toBe("ended");
      expect(ended.savedUncommitted).toBe(true);
      expect(ended.unpushedCommits).toBe(1);
      expect(ended.endedAt).toBeTruthy();
      expect(existsSync(s.worktreePath)).toBe(false);

      const clone = join(ctx.pier.dataDir, "workspaces", repoId, s.userId, "clone.git");
      expect(gitAt(clone, "rev-parse", `refs/heads/${s.branch}`)).toBe(ended.savedCommit!);
      expect(gitAt(clone, "show", `${s.branch}:notes.txt`)).toBe("half-done work");
      expect(gitAt(clone, "log", "-1", "--format=%s", s.branch)).toBe(`Save uncommitted work from Pier session ${s.id}`);

      const again = (await (await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }))).json()) as SessionJson;
      expect(again.state).toBe("ended");

      const resumeRes = await pier.fetch(`/api/sessions/${s.id}/resume`, json({}, { cookie }));
      expect(resumeRes.status).toBe(200);
      const resumed = await waitForState(pier, cookie, s.id, "active");
      expect(resumed.id).toBe(s.id);
      expect(resumed.branch).toBe(s.branch);
      expect(resumed.endedAt).toBeNull();
      const back = await ctx.sh(resumed, "cat notes.txt && git status --short | wc -l");
      expect(back.stdout.split("\n").slice(0, 2)).toEqual(["half-done work", "0"]);
      await pier.fetch(`/api/sessions/${s.id}/end`, json({}, { cookie }));
    }, 300_000);

    test("a member sees only their own sessions; others' answer 404", async () => {
      const { pier, cookie, repoId } = ctx;
      await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie }));
      const bob = await signIn(pier, "bob", "bob password");
      const mine = await activeSession(pier, bob, { repoId });
      expect(mine.branch).toMatch(/^pier\/bob\//);
      const adminSessions = (await (await pier.fetch("/api/sessions", { headers: { cookie } })).json()) as SessionJson[];
      const adminOwn = adminSessions.find((x) => !x.branch.startsWith("pier/bob/"))!;
      expect((await pier.fetch(`/api/sessions/${adminOwn.id}`, { headers: { cookie: bob } })).status).toBe(404);
      expect((await pier.fetch(`/api/sessions/${adminOwn.id}/end`, json({}, { cookie: bob }))).status).toBe(404);
      const bobs = (await (await pier.fetch("/api/sessions", { headers: { cookie: bob } })).json()) as SessionJson[];
      expect(bobs.map((x) => x.id)).toEqual([mine.id]);
      const active = (await (await pier.fetch(`/api/sessions?state=active&repoId=${repoId}`, { headers: { cookie } })).json()) as SessionJson[];
      expect(active.map((x) => x.id)).toEqual([mine.id]);
      expect((await pier.fetch(`/api/repos/${repoId}`, { method: "DELETE", headers: { cookie } })).status).toBe(409);
      await pier.fetch(`/api/sessions/${mine.id}/end`, json({}, { cookie: bob }));
    }, 300_000);

    test("after the server is stopped and started again, active sessions are still active and provisioning resumes", async () => {
      const s = await activeSession(ctx.pier, ctx.cookie, { repoId: ctx.repoId });
      await ctx.sh(s, "echo survives > restart.txt");
      // Two sessions whose provisioning was cut off by the stop, one before its worktree was
      // made (the directory is gone but git still has it registered).
      const cut = await activeSession(ctx.pier, ctx.cookie, { repoId: ctx.repoId });
      await ctx.sh(cut, "git commit -q --allow-empty -m 'kept on the branch'");
      rmSync(cut.worktreePath, { recursive: true, force: true });
      ctx.pier.pier.db.$client
        .query("UPDATE sessions SET state = 'provisioning', step = 'Cloning…' WHERE id IN (?, ?)")
        .run(s.id, cut.id);
      await ctx.restart();
      const after = await waitForState(ctx.pier, ctx.cookie, s.id, "active");
      expect(after.worktreePath).toBe(s.worktreePath);
      expect((await ctx.sh(after, "cat restart.txt")).stdout.trim()).toBe("survives");
      const rebuilt = await waitForState(ctx.pier, ctx.cookie, cut.id, "active");
      expect((await ctx.sh(rebuilt, "git log -1 --format=%s")).stdout.trim()).toBe("kept on the branch");
      for (const x of [s, cut]) await ctx.pier.fetch(`/api/sessions/${x.id}/end`, json({}, { cookie: ctx.cookie }));
    }, 300_000);

    extra?.(() => ctx);
  });
}
