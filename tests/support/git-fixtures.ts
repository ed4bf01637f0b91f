import type { Repo } from "../../src/repos/repos.ts";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", ...args], {
    cwd,
    env: { ...process.env, GIT_AUTHOR_NAME: "Fixture", GIT_AUTHOR_EMAIL: "f@example.com", GIT_COMMITTER_NAME: "Fixture", GIT_COMMITTER_EMAIL: "f@example.com" },
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

export interface RemoteRepo {
  /** The bare repository, usable as a file:// or path URL. */
  path: string;
  /** Runs git in a scratch clone of the remote (to add commits or branches). */
  git(...args: string[]): string;
}

/**
 * A bare "remote" repository on local disk with a main branch and a feature branch, readable by
 * every user (the pod user and server-side git may not be the test's user).
 */
export function makeRemoteRepo(name = "widgets"): RemoteRepo {
  const root = mkdtempSync(join(tmpdir(), `pier-remote-${name}-`));
  chmodSync(root, 0o755);
  const bare = join(root, `${name}.git`);
  const work = join(root, "work");
  git(root, "init", "--quiet", "--bare", "--initial-branch=main", bare);
  git(root, "clone", "--quiet", bare, work);
  writeFileSync(join(work, "README.md"), `# ${name}\n`);
  git(work, "add", ".");
  git(work, "commit", "--quiet", "-m", "Initial commit");
  git(work, "push", "--quiet", "origin", "main");
  git(work, "checkout", "--quiet", "-b", "feature/login");
  writeFileSync(join(work, "login.txt"), "login work in progress\n");
  git(work, "add", ".");
  git(work, "commit", "--quiet", "-m", "Start the login feature");
  git(work, "push", "--quiet", "origin", "feature/login");
  git(work, "checkout", "--quiet", "main");
  Bun.spawnSync(["chmod", "-R", "a+rX", root]);
  return { path: bare, git: (...args) => git(work, ...args) };
}

/** Runs git against a repository as the test's user, ignoring ownership checks. */
export function gitAt(dir: string, ...args: string[]): string {
  return git(dir, "-c", "safe.directory=*", ...args);
}

/**
 * Writes (text or bytes; a path ending in .sh is made executable), links ({ link: target }) or
 * removes (null) files in the remote's main branch, in one pushed commit readable by every user.
 */
export function commitFiles(remote: RemoteRepo, files: Record<string, string | Buffer | { link: string } | null>, message = "Change files"): void {
  const work = remote.git("rev-parse", "--show-toplevel");
  for (const [path, content] of Object.entries(files)) {
    const file = join(work, path);
    rmSync(file, { recursive: true, force: true });
    if (content === null) continue;
    mkdirSync(dirname(file), { recursive: true });
    if (typeof content === "string" || Buffer.isBuffer(content)) {
      writeFileSync(file, content);
      if (path.endsWith(".sh")) chmodSync(file, 0o755);
    } else symlinkSync(content.link, file);
  }
  remote.git("add", "--all", ".");
  remote.git("commit", "--quiet", "--allow-empty", "-m", message);
  remote.git("push", "--quiet", "origin", "main");
  Bun.spawnSync(["chmod", "-R", "a+rX", dirname(remote.path)]);
}

/** The remote as Pier's repository registry would hold it, for tests that use a domain module directly. */
export function repoRecord(remote: RemoteRepo, settings: Partial<Repo> = {}): Repo {
  return {
    id: `r${Math.random().toString(36).slice(2, 10)}`,
    name: "widgets",
    url: remote.path,
    defaultBranch: "main",
    image: null,
    terminalCommand: null,
    githubRepo: null,
    maxConcurrentRuns: null,
    devcontainerPath: null,
    setupScript: null,
    cleanupScript: null,
    warmPods: false,
    dockerEngine: null,
    dockerEngineLabels: [],
    createdAt: new Date(),
    ...settings,
  };
}
