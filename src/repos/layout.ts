import { join } from "node:path";

/**
 * Where a repo's files live in the data dir. Everything of one repo sits under one directory,
 * which is the only part of the data dir its pod can see (mounted at the same absolute path, so
 * the worktrees' .git files resolve on both sides).
 */
export function repoDir(dataDir: string, repoId: string): string {
  return join(dataDir, "repos", repoId);
}

/** A bare clone with remote-tracking branches; sessions check out worktrees from it. */
export function cloneDir(dataDir: string, repoId: string): string {
  return join(repoDir(dataDir, repoId), "clone.git");
}

export function worktreeDir(dataDir: string, repoId: string, sessionId: string): string {
  return join(repoDir(dataDir, repoId), "worktrees", sessionId);
}
