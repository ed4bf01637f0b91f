import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
