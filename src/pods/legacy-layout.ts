import { and, eq, like, lte, notInArray } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { join } from "node:path";
import { legacyCloneDir, legacyRepoDir, worktreeDir } from "../repos/layout.ts";
import { getRepo } from "../repos/repos.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { sessions } from "../sessions/tables.ts";
import { expectSuccess, podScript, runPodScript } from "../workspaces/pod-script.ts";
import { legacyClones, legacyImports } from "./tables.ts";

const RETIRE = podScript("retire-legacy.sh");
const REMOVE = podScript("remove-legacy.sh");
/** The one-off pod that retires a repo's old directory is labelled with this in place of a person. */
const RETIRING = "retiring-shared-clone";

export interface LegacyDeps {
  db: Db;
  dataDir: string;
  workspacesDir: string;
  runtime: Runtime;
  imageFor(repoId: string): string;
}

/**
 * Before pods were per person, each repo had one pod (no `pier.user` label) and one clone that
 * everyone's worktrees shared, in data/repos/<repo>, which that pod could write. At the first
 * start after the change, for each repo with sessions there:
 * - its old pod is removed (it could write the shared clone, and ran everyone's shells);
 * - a one-off pod mounting the old directory saves the uncommitted work of every live session as
 *   a commit on its branch, then removes those worktrees (nothing is lost; the shells end);
 * - its sessions get worktree paths in their person's own workspace, and live ones are
 *   provisioned again there;
 * - the old clone is recorded, so each person's pod mounts it read-only and their new clone
 *   takes the branches of their sessions from it once (see prepare.sh). After that their pod
 *   mounts it no more (see Pods.ensure), and once everyone who had work in it has taken theirs,
 *   it is removed (removeImportedLegacyClone).
 * A repo whose old directory cannot be retired is left as it was and tried again at next start.
 */
export async function retireLegacyLayout(deps: LegacyDeps): Promise<void> {
  const { db, dataDir, runtime } = deps;
  const oldRoot = join(dataDir, "repos") + "/";
  const legacy = db
    .select()
    .from(sessions)
    .where(like(sessions.worktreePath, `${oldRoot}%`))
    .all()
    .filter((s) => s.worktreePath.startsWith(oldRoot));
  const repoIds = [...new Set(legacy.map((s) => s.repoId))];
  if (repoIds.length === 0) return;
  const oldPods = (await runtime.listOrphans(() => true)).filter((pod) => !pod.userId);
  for (const repoId of repoIds) {
    try {
      for (const pod of oldPods.filter((p) => p.repoId === repoId)) await runtime.removeOrphan(pod.id);
      const dir = legacyRepoDir(dataDir, repoId);
      const live = legacy.filter((s) => s.repoId === repoId && (s.state === "active" || s.state === "provisioning"));
      const key = { repoId, userId: RETIRING };
      const pod = await runtime.ensurePod(
        { key, repoName: getRepo(db, repoId).name, username: "pier", image: deps.imageFor(repoId), workDir: dir, mounts: [{ path: dir, readOnly: false }] },
        () => {},
      );
      const message = "Save uncommitted work from a Pier session\n\nPier made this commit when it moved the session to its person's own pod, so nothing was lost.";
      const result = await runPodScript(
        { runtime, pod, cwd: dir, gitConfig: "/dev/null" },
        RETIRE,
        [legacyCloneDir(dataDir, repoId), ...live.flatMap((s) => [s.worktreePath, s.branch, s.id])],
        { stdin: message, timeoutMs: 10 * 60_000 },
      );
      await runtime.removePod(key);
      const out = expectSuccess(result, "Retiring the shared clone").split("\n");
      db.transaction((tx) => {
        for (const session of legacy.filter((s) => s.repoId === repoId)) {
          const moved = worktreeDir(deps.workspacesDir, repoId, session.userId, session.id);
          const wasLive = live.includes(session);
          tx.update(sessions)
            .set({ worktreePath: moved, ...(wasLive ? { state: "provisioning" as const, step: "Moving to your own pod…" } : {}) })
            .where(eq(sessions.id, session.id))
            .run();
        }
        if (out.includes("clone")) {
          tx.insert(legacyClones).values({ repoId, path: legacyCloneDir(dataDir, repoId), migratedAt: new Date() }).onConflictDoNothing().run();
        }
      });
      console.warn(`[pier] moved ${legacy.filter((s) => s.repoId === repoId).length} session(s) of repo ${repoId} from its shared pod to their people's own pods`);
    } catch (error) {
      console.error(`[pier] could not retire the shared pod and clone of repo ${repoId}; its sessions stay as they were until the next start:`, error instanceof Error ? error.message : error);
    }
  }
}

/**
 * Whether everyone who had sessions in the repo's old shared clone (those started before it was
 * retired) has taken their branches from it into their own clone.
 */
export function everyoneImported(db: Db, repoId: string): boolean {
  const legacy = db.select().from(legacyClones).where(eq(legacyClones.repoId, repoId)).get();
  if (!legacy) return false;
  const imported = db.select({ userId: legacyImports.userId }).from(legacyImports).where(eq(legacyImports.repoId, repoId));
  const waiting = db
    .select({ userId: sessions.userId })
    .from(sessions)
    .where(and(eq(sessions.repoId, repoId), lte(sessions.createdAt, legacy.migratedAt), notInArray(sessions.userId, imported)))
    .get();
  return waiting === undefined;
}

/**
 * Removes the repo's old shared clone (everyone's saved work from before pods were per person)
 * once everyone has taken their branches from it: through a one-off pod mounting only that
 * directory, as it was retired, since a pod could once write it. Its record goes with it, so no
 * pod mounts it again. Returns whether it was removed; a failure is said and tried again at the
 * next import or start.
 */
export async function removeImportedLegacyClone(deps: LegacyDeps, repoId: string): Promise<boolean> {
  const { db, dataDir, runtime } = deps;
  if (!everyoneImported(db, repoId)) return false;
  const dir = legacyRepoDir(dataDir, repoId);
  const key = { repoId, userId: RETIRING };
  try {
    const pod = await runtime.ensurePod(
      { key, repoName: getRepo(db, repoId).name, username: "pier", image: deps.imageFor(repoId), workDir: dir, mounts: [{ path: dir, readOnly: false }] },
      () => {},
    );
    const result = await runPodScript({ runtime, pod, cwd: dir, gitConfig: "/dev/null" }, REMOVE, [dir], { timeoutMs: 10 * 60_000 }).finally(() => runtime.removePod(key));
    expectSuccess(result, "Removing the shared clone");
    db.transaction((tx) => {
      tx.delete(legacyImports).where(eq(legacyImports.repoId, repoId)).run();
      tx.delete(legacyClones).where(eq(legacyClones.repoId, repoId)).run();
    });
    console.warn(`[pier] removed the shared clone of repo ${repoId} from before pods were per person: everyone's branches are in their own clones now`);
    return true;
  } catch (error) {
    console.error(`[pier] could not remove the shared clone of repo ${repoId}; tried again at the next import or start:`, error instanceof Error ? error.message : error);
    return false;
  }
}

/** At start: the old shared clones whose people have all taken their branches (a removal cut off last time) go. */
export async function removeImportedLegacyClones(deps: LegacyDeps): Promise<void> {
  for (const { repoId } of deps.db.select({ repoId: legacyClones.repoId }).from(legacyClones).all()) {
    await removeImportedLegacyClone(deps, repoId);
  }
}
