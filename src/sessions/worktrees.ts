import { chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type FileOwner, SERVER_GITCONFIG, git, tokenCredentialHelper } from "../infra/git.ts";
import type { Repo } from "../repos/repos.ts";
import { cloneDir, repoDir } from "../repos/layout.ts";

export interface DiffFile {
  path: string;
  status: "added" | "modified" | "deleted" | "untracked" | "type_changed";
  additions: number;
  deletions: number;
}

const DIFF_STATUS: Record<string, DiffFile["status"]> = {
  A: "added",
  M: "modified",
  D: "deleted",
  T: "type_changed",
};

/**
 * Server-side git for one repo: its bare clone in the data dir and the sessions' worktrees.
 * Branch names reaching here have passed isValidBranchName, so none can be read as an option.
 */
export class RepoGit {
  readonly clonePath: string;

  constructor(
    private dataDir: string,
    private repo: Repo,
    private owner: FileOwner | null,
    private token: string | null,
  ) {
    this.clonePath = cloneDir(dataDir, repo.id);
  }

  private git(dir = this.clonePath) {
    return git(dir, { owner: this.owner, token: this.token, globalConfig: this.globalConfig });
  }

  private get globalConfig(): string {
    return join(this.dataDir, "repos", "server.gitconfig");
  }

  hasClone(): boolean {
    return existsSync(this.clonePath);
  }

  /** The repo's directory, made and handed to the pod user on first use. */
  prepareRepoDir(): void {
    const dir = repoDir(this.dataDir, this.repo.id);
    for (const path of [dirname(dir), dir, `${dir}/worktrees`]) {
      if (!existsSync(path)) mkdirSync(path, { mode: path === dirname(dir) ? 0o711 : 0o755 });
    }
    if (!existsSync(this.globalConfig)) writeFileSync(this.globalConfig, SERVER_GITCONFIG, { mode: 0o644 });
    if (this.owner) {
      chownSync(dir, this.owner.uid, this.owner.gid);
      chownSync(`${dir}/worktrees`, this.owner.uid, this.owner.gid);
    }
  }

  /** Clones on first use (a bare clone with origin/* branches), fetches on every later one. */
  async cloneOrFetch(): Promise<"cloned" | "fetched"> {
    this.prepareRepoDir();
    if (!this.hasClone()) {
      mkdirSync(this.clonePath);
      if (this.owner) chownSync(this.clonePath, this.owner.uid, this.owner.gid);
      const clone = this.git();
      await clone.init(true);
      await clone.raw(["config", "remote.origin.url", this.repo.url]);
      await clone.raw(["config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"]);
      // Lets each worktree carry its own identity (user.name/email) in config.worktree. With it on,
      // core.bare must live in the bare clone's own config.worktree, or every worktree reads it too.
      await clone.raw(["config", "extensions.worktreeConfig", "true"]);
      await clone.raw(["config", "--unset", "core.bare"]);
      await clone.raw(["config", "--worktree", "core.bare", "true"]);
      // For every worktree: `git push` creates the remote branch, and credentials come from
      // GH_TOKEN in the pod's environment (never from a file).
      await clone.raw(["config", "push.autoSetupRemote", "true"]);
      await clone.raw(["config", "credential.helper", tokenCredentialHelper("GH_TOKEN")]);
      await this.fetch();
      return "cloned";
    }
    await this.fetch();
    return "fetched";
  }

  async fetch(): Promise<void> {
    await this.git().raw(["fetch", "--prune", "--no-tags", "origin"]);
  }

  /** Where a branch exists: as a local branch, only on the remote, or nowhere. */
  async findBranch(branch: string): Promise<"local" | "remote" | null> {
    const found = await this.existingRefs([`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]);
    return found.has(`refs/heads/${branch}`) ? "local" : found.has(`refs/remotes/origin/${branch}`) ? "remote" : null;
  }

  /** Where the session's branch is, and whether the base it would start from exists: one git call. */
  async locateBranch(branch: string, base: string): Promise<{ where: "local" | "remote" | null; baseExists: boolean }> {
    const refs = [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`, `refs/remotes/${base}`];
    const found = await this.existingRefs(refs);
    return {
      where: found.has(refs[0]!) ? "local" : found.has(refs[1]!) ? "remote" : null,
      baseExists: found.has(refs[2]!),
    };
  }

  /** Asks the remote directly, for when there is no clone yet. */
  async remoteHasBranch(branch: string): Promise<boolean> {
    this.prepareRepoDir();
    const out = await git(dirname(this.clonePath), { owner: this.owner, token: this.token, globalConfig: this.globalConfig }).raw([
      "ls-remote",
      "--heads",
      "--",
      this.repo.url,
      `refs/heads/${branch}`,
    ]);
    return out.trim().length > 0;
  }

  /** Branch names on the remote: from the clone when there is one, else asked of the remote. */
  async remoteBranches(): Promise<string[]> {
    this.prepareRepoDir();
    const out = this.hasClone()
      ? await this.git().raw(["for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin/"])
      : (await git(dirname(this.clonePath), { owner: this.owner, token: this.token, globalConfig: this.globalConfig }).raw(["ls-remote", "--heads", "--", this.repo.url]))
          .split("\n")
          .map((line) => line.split("\trefs/heads/")[1] ?? "")
          .join("\n");
    return out
      .split("\n")
      .filter((name) => name && name !== "HEAD")
      .sort();
  }

  /** Which of these full ref names exist, asked in one git call. */
  private async existingRefs(refs: string[]): Promise<Set<string>> {
    const out = await this.git().raw(["for-each-ref", "--format=%(refname)", ...refs]);
    return new Set(out.split("\n").filter((ref) => refs.includes(ref)));
  }

  /**
   * Makes the worktree: a new branch off the base, or an existing branch (a local one as it is,
   * a remote-only one as a local branch tracking it). An existing worktree is kept as it is.
   */
  async addWorktree(path: string, branch: string, mode: "new" | "local" | "remote", baseRef: string): Promise<void> {
    if (existsSync(`${path}/.git`)) return;
    const args =
      mode === "new"
        ? ["worktree", "add", "--no-track", "-b", branch, "--", path, baseRef]
        : mode === "local"
          ? ["worktree", "add", "--", path, branch]
          : ["worktree", "add", "--track", "-b", branch, "--", path, `origin/${branch}`];
    try {
      await this.git().raw(args);
    } catch (error) {
      // A worktree directory deleted by hand stays registered until pruned; prune and try once more.
      if (!String(error).includes("prune")) throw error;
      await this.git().raw(["worktree", "prune"]);
      await this.git().raw(args);
    }
  }

  /** Commits made in the worktree carry the Pier user's name (repo-wide settings are in cloneOrFetch). */
  async configureWorktree(path: string, identity: { name: string; email: string }): Promise<void> {
    const wt = this.git(path);
    await wt.raw(["config", "--worktree", "user.name", identity.name]);
    await wt.raw(["config", "--worktree", "user.email", identity.email]);
  }

  async mergeBase(path: string, baseRef: string): Promise<string | null> {
    try {
      return (await this.git(path).raw(["merge-base", "HEAD", baseRef])).trim() || null;
    } catch {
      return null;
    }
  }

  /** Paths with uncommitted changes (staged, unstaged or untracked). */
  async uncommittedFiles(path: string): Promise<string[]> {
    if (!existsSync(path)) return [];
    const status = await this.git(path).status();
    return status.files.map((file) => file.path);
  }

  /** Commits on the branch that no remote branch contains. */
  async unpushedCount(branch: string): Promise<number> {
    const out = await this.git().raw(["rev-list", "--count", `refs/heads/${branch}`, "--not", "--remotes=origin"]);
    return Number(out.trim());
  }

  /** Saves everything uncommitted as one commit on the session's branch (never pushed). */
  async commitAll(path: string, message: string): Promise<string> {
    const wt = this.git(path);
    await wt.raw(["add", "--all"]);
    await wt.raw(["commit", "--no-verify", "--no-gpg-sign", "-m", message]);
    return (await wt.raw(["rev-parse", "HEAD"])).trim();
  }

  /**
   * The session's changes against its base: the worktree as it is (committed or not, new files
   * included) while it exists, else the branch's commits.
   */
  async diff(worktree: string, base: string, branch: string): Promise<{ files: DiffFile[]; patch: string }> {
    const live = existsSync(`${worktree}/.git`);
    const dir = live ? worktree : this.clonePath;
    const range = live ? [base] : [base, `refs/heads/${branch}`];
    const run = (args: string[]) => this.git(dir).raw(["-c", "core.quotePath=false", "diff", "--no-ext-diff", "--no-textconv", "--no-renames", ...args, ...range, "--"]);
    const [numstat, nameStatus, patch] = await Promise.all([run(["--numstat"]), run(["--name-status"]), run(["--patch"])]);
    const statusOf = new Map(
      nameStatus
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [code, path] = line.split("\t");
          return [path!, DIFF_STATUS[code![0]!] ?? "modified"] as const;
        }),
    );
    const files: DiffFile[] = numstat
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [added, deleted, ...rest] = line.split("\t");
        const path = rest.join("\t");
        return { path, status: statusOf.get(path) ?? "modified", additions: Number(added) || 0, deletions: Number(deleted) || 0 };
      });
    if (live) {
      const untracked = (await this.git(worktree).raw(["ls-files", "--others", "--exclude-standard", "-z"])).split("\0").filter(Boolean);
      for (const path of untracked) files.push({ path, status: "untracked", additions: 0, deletions: 0 });
    }
    return { files, patch };
  }

  async removeWorktree(path: string): Promise<void> {
    if (existsSync(path)) await this.git().raw(["worktree", "remove", "--force", "--", path]);
    await this.git().raw(["worktree", "prune"]);
  }
}
