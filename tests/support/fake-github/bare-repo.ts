/**
 * What the fake GitHub asks of its bare repositories: branch tips, what a pull request would
 * contain, whether it merges cleanly, and the merge itself. Everything is answered by real git,
 * so a push over HTTP is seen by the next API request exactly as on GitHub.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Runs git in `dir` and returns its trimmed output; throws with git's own message on failure. */
export async function git(dir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { exitCode, stdout, stderr } = await run(dir, args, env);
  if (exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${dir}: ${stderr.trim()}`);
  return stdout.trim();
}

async function run(dir: string, args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn(["git", "-c", "safe.directory=*", ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout, stderr };
}

/** Every branch's tip, by branch name. */
export async function branchTips(dir: string): Promise<Map<string, string>> {
  const lines = await git(dir, ["for-each-ref", "--format=%(objectname) %(refname:lstrip=2)", "refs/heads"]);
  const tips = new Map<string, string>();
  for (const line of lines.split("\n").filter(Boolean)) {
    const space = line.indexOf(" ");
    tips.set(line.slice(space + 1), line.slice(0, space));
  }
  return tips;
}

/** The commit a sha, branch, tag or `heads/<branch>` names, or null when it names none. */
export async function resolveCommit(dir: string, ref: string): Promise<string | null> {
  // "--end-of-options" keeps a ref that looks like an option from being read as one.
  const { exitCode, stdout } = await run(dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  return exitCode === 0 ? stdout.trim() : null;
}

/** The branch HEAD names: a bare repository's default branch. Read from the file, as it is asked for on every answer. */
export function defaultBranch(dir: string): string {
  return readFileSync(join(dir, "HEAD"), "utf8").trim().replace(/^ref: refs\/heads\//, "");
}

export interface PullStats {
  commits: number;
  additions: number;
  deletions: number;
  changedFiles: number;
}

/** A pull request's numbers as GitHub shows them: commits on head not on base, and the diff from their merge base. */
export async function pullStats(dir: string, base: string, head: string): Promise<PullStats> {
  const commits = Number(await git(dir, ["rev-list", "--count", `${base}..${head}`]));
  const numstat = await git(dir, ["diff", "--numstat", `${base}...${head}`]);
  const stats = { commits, additions: 0, deletions: 0, changedFiles: 0 };
  for (const line of numstat.split("\n").filter(Boolean)) {
    // Binary files count as changed with "-" for both numbers.
    const [added, deleted] = line.split("\t");
    stats.additions += Number(added) || 0;
    stats.deletions += Number(deleted) || 0;
    stats.changedFiles += 1;
  }
  return stats;
}

/** Whether head merges into base without conflicts (a trial merge that writes no ref). */
export async function mergesCleanly(dir: string, base: string, head: string): Promise<boolean> {
  const { exitCode, stderr } = await run(dir, ["merge-tree", "--write-tree", base, head]);
  // 1 means conflicts; anything else is git failing, which must not read as "not mergeable".
  if (exitCode > 1) throw new Error(`git merge-tree failed in ${dir}: ${stderr.trim()}`);
  return exitCode === 0;
}

/**
 * Merges head into the base branch with a merge commit, as GitHub's default "Create a merge commit"
 * button does, and returns the merge commit. The ref moves only if base is still where it was.
 */
export async function mergeIntoBranch(
  dir: string,
  merge: { baseRef: string; baseSha: string; headSha: string; message: string; author: string },
): Promise<string> {
  const tree = (await git(dir, ["merge-tree", "--write-tree", merge.baseSha, merge.headSha])).split("\n")[0]!;
  const commit = await git(dir, ["commit-tree", tree, "-p", merge.baseSha, "-p", merge.headSha, "-m", merge.message], mergeIdentity(merge.author));
  await git(dir, ["update-ref", `refs/heads/${merge.baseRef}`, commit, merge.baseSha]);
  return commit;
}

/** Who made a merge and how GitHub signs it: the person as author, GitHub as committer. */
function mergeIdentity(author: string): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author,
    GIT_AUTHOR_EMAIL: `${author}@users.noreply.github.com`,
    GIT_COMMITTER_NAME: "GitHub",
    GIT_COMMITTER_EMAIL: "noreply@github.com",
  };
}

/**
 * Squashes head onto the base branch as GitHub's "Squash and merge" does: one commit with the
 * merged tree and the base as its only parent. The ref moves only if base is still where it was.
 */
export async function squashIntoBranch(
  dir: string,
  merge: { baseRef: string; baseSha: string; headSha: string; message: string; author: string },
): Promise<string> {
  const tree = (await git(dir, ["merge-tree", "--write-tree", merge.baseSha, merge.headSha])).split("\n")[0]!;
  const commit = await git(dir, ["commit-tree", tree, "-p", merge.baseSha, "-m", merge.message], mergeIdentity(merge.author));
  await git(dir, ["update-ref", `refs/heads/${merge.baseRef}`, commit, merge.baseSha]);
  return commit;
}

/**
 * Replays head's commits onto the base branch one by one, as GitHub's "Rebase and merge" does
 * (authors kept, GitHub as committer), in a throwaway worktree of the bare repository; returns the
 * last replayed commit, or null when a commit does not apply (GitHub then refuses the merge).
 */
export async function rebaseIntoBranch(dir: string, merge: { baseRef: string; baseSha: string; headSha: string }): Promise<string | null> {
  const worktree = join(mkdtempSync(join(tmpdir(), "fake-github-rebase-")), "worktree");
  await git(dir, ["worktree", "add", "--quiet", "--detach", worktree, merge.baseSha]);
  try {
    const committer = { GIT_COMMITTER_NAME: "GitHub", GIT_COMMITTER_EMAIL: "noreply@github.com" };
    const picked = await run(worktree, ["cherry-pick", "--allow-empty", `${merge.baseSha}..${merge.headSha}`], committer);
    if (picked.exitCode !== 0) return null;
    const tip = await git(worktree, ["rev-parse", "HEAD"]);
    await git(dir, ["update-ref", `refs/heads/${merge.baseRef}`, tip, merge.baseSha]);
    return tip;
  } finally {
    await run(dir, ["worktree", "remove", "--force", worktree]);
    rmSync(dirname(worktree), { recursive: true, force: true });
  }
}

/** The messages of head's commits that base lacks, oldest first: the body GitHub gives a squash commit. */
export async function commitMessages(dir: string, base: string, head: string): Promise<string[]> {
  const out = await git(dir, ["log", "--reverse", "--format=%B%x00", `${base}..${head}`]);
  return out.split("\0").map((message) => message.trim()).filter(Boolean);
}

/**
 * The diff_hunk GitHub shows above a line comment: the hunk's header and its lines down to the
 * commented line of the new file; null when that line is not in the pull request's diff (GitHub
 * refuses such a comment).
 */
export async function diffHunkAt(dir: string, base: string, head: string, path: string, line: number): Promise<string | null> {
  const diff = await git(dir, ["diff", "--no-color", "--unified=3", `${base}...${head}`, "--", path]);
  let hunk: string[] | null = null;
  let newLine = 0;
  for (const text of diff.split("\n")) {
    const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (header) {
      hunk = [text];
      newLine = Number(header[1]);
      continue;
    }
    if (!hunk || text.startsWith("\\")) continue;
    hunk.push(text);
    if (text.startsWith("-")) continue;
    if (newLine === line) return hunk.join("\n");
    newLine++;
  }
  return null;
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
}

/** A commit's metadata, for the commit objects inside webhook payloads. */
export async function readCommit(dir: string, sha: string): Promise<CommitInfo> {
  const fields = ["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"];
  const out = await git(dir, ["show", "-s", `--format=${fields.join("%x00")}`, sha]);
  const [commit, tree, parents, an, ae, ad, cn, ce, cd, ...message] = out.split("\0");
  return {
    sha: commit!,
    tree: tree!,
    parents: parents!.split(" ").filter(Boolean),
    message: message.join("\0").trim(),
    author: { name: an!, email: ae!, date: ad! },
    committer: { name: cn!, email: ce!, date: cd! },
  };
}
