import { join } from "node:path";

/**
 * Where a repo's files live in the data dir, and who may write them.
 *
 * Server-only (no pod can write them): the mirror of each repo, each pod's services directory,
 * recordings, the database and the secret key. Pods mount a mirror and their services directory
 * read-only.
 *
 * Pod-writable: each person's workspace of a repo (their clone and their sessions' worktrees),
 * mounted into that person's pod only, at the same absolute path as the server sees it, so the
 * worktrees' .git files resolve on both sides. The server never opens anything under it; git
 * and file work there goes through the runtime into the pod.
 */
export function mirrorDir(dataDir: string, repoId: string): string {
  return join(dataDir, "mirrors", `${repoId}.git`);
}

/**
 * One person's directory of one repo: their pod's only writable directory. Workspaces live in
 * `<data dir>/workspaces` unless PIER_WORKSPACES_DIR puts them on a volume of their own.
 */
export function workspaceDir(workspacesDir: string, repoId: string, userId: string): string {
  return join(workspacesDir, repoId, userId);
}

/** A bare clone with origin/* branches, fetched from the mirror; sessions check out worktrees from it. */
export function cloneDir(workspacesDir: string, repoId: string, userId: string): string {
  return join(workspaceDir(workspacesDir, repoId, userId), "clone.git");
}

export function worktreeDir(workspacesDir: string, repoId: string, userId: string, sessionId: string): string {
  return join(workspaceDir(workspacesDir, repoId, userId), "worktrees", sessionId);
}

/** What Pier offers one pod (its socket, credential helper, gh wrapper), mounted read-only. */
export function podServicesDir(dataDir: string, repoId: string, userId: string): string {
  return join(dataDir, "pods", repoId, userId);
}

/**
 * Where repos lived before pods were per person: one clone and every person's worktrees under
 * one directory that the repo's one pod could write. Only ever reached through a pod.
 */
export function legacyRepoDir(dataDir: string, repoId: string): string {
  return join(dataDir, "repos", repoId);
}

export function legacyCloneDir(dataDir: string, repoId: string): string {
  return join(legacyRepoDir(dataDir, repoId), "clone.git");
}
