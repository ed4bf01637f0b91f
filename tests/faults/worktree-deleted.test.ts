/**
 * Fault: a session's worktree deleted by hand (`rm -rf "$PIER_WORKTREE"` typed in its own
 * terminal), on each runtime. What must hold: Pier notices (GET /api/sessions/:id/worktree), and
 * restoring it (POST /api/sessions/:id/restore-worktree) brings back the branch's commits, says
 * that what was never committed is gone, leaves git's worktree records whole (no stale entry), and
 * the shell that was in the deleted directory can go on in the restored one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

for (const runtime of ["local", "docker"] as const) {
  describe(`fault: a worktree deleted by hand, ${runtime} runtime`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `pier-fault-worktree-${runtime}-`));
    let pier: TestPier;
    let cookie: string;
    let repoId: string;
    const headers = () => ({ cookie, origin: pier.url });
    const sh = (session: SessionJson, script: string) =>
      pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: join(session.worktreePath, ".."), timeoutMs: 30_000 });
    const worktree = async (session: SessionJson) => (await pier.fetch(`/api/sessions/${session.id}/worktree`, { headers: headers() })).json();
    const restore = (id: string) => pier.fetch(`/api/sessions/${id}/restore-worktree`, json({}, headers()));

    beforeAll(async () => {
      const env = runtime === "docker" ? await dockerTestEnv() : { PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1" };
      pier = await startTestPier(env, dataDir);
      cookie = await setUpAdmin(pier);
      repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo(`deleted-${runtime}`).path}`, `deleted-${runtime}`);
    }, 120_000);

    afterAll(async () => {
      await closeForGood(pier);
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    test("broke: the worktree, from its own terminal; held: Pier says it is gone, restores the branch's commits, says the uncommitted change is gone", async () => {
      const session = await activeSession(pier, cookie, { repoId });
      const wt = JSON.stringify(session.worktreePath);
      const committed = await sh(session, `cd ${wt} && echo kept > kept.txt && git add kept.txt && git commit -qm "Keep this" && echo never-committed > draft.txt && git rev-parse HEAD`);
      expect(committed.exitCode).toBe(0);
      const head = committed.stdout.trim();
      expect(await worktree(session)).toEqual({ present: true });

      const term = await TermClient.connect(pier.url, session.id, headers());
      await term.run('rm -rf "$PIER_WORKTREE" && echo deleted-$((4+4))', /deleted-8/);
      expect((await sh(session, `test -e ${wt} || echo gone`)).stdout).toBe("gone\n");
      expect(await worktree(session)).toEqual({ present: false });

      const restored = await restore(session.id);
      const body = (await restored.json()) as SessionJson & { worktreeHead: string; message: string };
      expect(restored.status, JSON.stringify(body)).toBe(200);
      expect(body.worktreeHead).toBe(head);
      expect(body.state).toBe("active");
      expect(body.message).toContain("Keep this");
      expect(body.message).toContain("never committed");
      expect(await worktree(session)).toEqual({ present: true });

      // The branch's commit is back, the uncommitted file is not, and git has one record of the worktree.
      const look = await sh(session, `cd ${wt} && cat kept.txt && (test -e draft.txt || echo no-draft) && git rev-parse --abbrev-ref HEAD && git status --porcelain && git worktree list --porcelain | grep -c '^worktree ${session.worktreePath}$' && (git worktree list --porcelain | grep -q prunable || echo none-prunable)`);
      expect(look.stdout.split("\n")).toEqual(["kept", "no-draft", session.branch, "1", "none-prunable", ""]);

      // The shell that was in the deleted directory goes on in the restored one.
      await term.run('cd "$PIER_WORKTREE" && cat kept.txt && echo back-$((5+5))', /kept\r\nback-10/);
      term.close();

      const again = await apiError(await restore(session.id));
      expect(again).toMatchObject({ status: 409, code: "worktree_present" });
      expect((await pier.fetch(`/api/sessions/${session.id}/end`, json({}, headers()))).status).toBe(200);
      expect(await apiError(await restore(session.id))).toMatchObject({ status: 409, code: "session_not_active" });
      expect((await restore("nosuchsession000")).status).toBe(404);
    }, 90_000);
  });
}
