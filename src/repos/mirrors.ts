import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SERVER_GITCONFIG, serverGit } from "../infra/git.ts";
import { KeyedLock } from "../infra/keyed-lock.ts";
import { mirrorDir } from "./layout.ts";
import type { Repo } from "./repos.ts";

/**
 * Each repo's mirror: a bare copy of the remote's branches in a part of the data dir no pod can
 * write. The server fetches it from the remote (with the instance's token, which never enters a
 * pod); people's clones fetch from it inside their pods, where it is mounted read-only. Branch
 * names reaching here have passed isValidBranchName, so none can be read as an option.
 */
export class Mirrors {
  /** One git operation at a time per mirror: two sessions starting together fetch once each, in turn. */
  private lock = new KeyedLock();

  constructor(
    private dataDir: string,
    private token: () => Promise<string | null>,
  ) {}

  path(repoId: string): string {
    return mirrorDir(this.dataDir, repoId);
  }

  /** Whether the mirror has ever been fetched (an empty one is made before the first fetch). */
  fetched(repoId: string): boolean {
    return existsSync(join(this.path(repoId), "FETCH_HEAD"));
  }

  /** Makes an empty mirror if there is none yet, so a pod can mount it before the first fetch. */
  async ensure(repo: Repo): Promise<void> {
    if (!existsSync(join(this.path(repo.id), "HEAD"))) await this.lock.run(repo.id, () => this.init(repo));
  }

  /** Brings the mirror up to date with the remote, cloning it the first time. */
  update(repo: Repo): Promise<"cloned" | "fetched"> {
    return this.lock.run(repo.id, async () => {
      const first = !this.fetched(repo.id);
      await this.init(repo);
      await (await this.git(repo.id)).raw(["fetch", "--prune", "--no-tags", "origin"]);
      return first ? "cloned" : "fetched";
    });
  }

  /** Branch names on the remote: from the mirror once fetched, else asked of the remote itself. */
  async branches(repo: Repo): Promise<string[]> {
    const out = this.fetched(repo.id)
      ? await (await this.git(repo.id)).raw(["for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads/"])
      : (await (await this.git(null)).raw(["ls-remote", "--heads", "--", repo.url]))
          .split("\n")
          .map((line) => line.split("\trefs/heads/")[1] ?? "")
          .join("\n");
    return out
      .split("\n")
      .filter((name) => name && name !== "HEAD")
      .sort();
  }

  /** Whether the remote has the branch: the mirror is asked, and fetched once if it lacks it. */
  async remoteHasBranch(repo: Repo, branch: string): Promise<boolean> {
    if (!this.fetched(repo.id)) {
      const out = await (await this.git(null)).raw(["ls-remote", "--heads", "--", repo.url, `refs/heads/${branch}`]);
      return out.trim().length > 0;
    }
    if (await this.hasBranch(repo.id, branch)) return true;
    await this.update(repo).catch(() => undefined);
    return this.hasBranch(repo.id, branch);
  }

  private async hasBranch(repoId: string, branch: string): Promise<boolean> {
    const ref = `refs/heads/${branch}`;
    const out = await (await this.git(repoId)).raw(["for-each-ref", "--format=%(refname)", ref]);
    return out.split("\n").includes(ref);
  }

  /**
   * A repo's URL never changes, so its mirror is set up once: made whole beside its place, then
   * moved there, so a start cut off half-way leaves no half-made mirror behind.
   */
  private async init(repo: Repo): Promise<void> {
    const path = this.path(repo.id);
    if (existsSync(join(path, "HEAD"))) return;
    const making = `${path}.making`;
    rmSync(making, { recursive: true, force: true });
    mkdirSync(making, { recursive: true, mode: 0o755 });
    const git = serverGit(making, { token: null, globalConfig: this.globalConfig() });
    // Readable by the pod user whatever the server's umask: pods fetch from it.
    await git.raw(["init", "--quiet", "--bare", "--shared=0644"]);
    await git.raw(["config", "remote.origin.url", repo.url]);
    await git.raw(["config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"]);
    renameSync(making, path);
  }

  /** Git in the mirror, or (null) in the mirrors' directory, for questions to a remote. */
  private async git(repoId: string | null) {
    return serverGit(repoId ? this.path(repoId) : this.root(), { token: await this.token(), globalConfig: this.globalConfig() });
  }

  private root(): string {
    return dirname(this.path("x"));
  }

  private globalConfig(): string {
    const file = join(this.root(), "server.gitconfig");
    if (!existsSync(file)) {
      mkdirSync(this.root(), { recursive: true, mode: 0o755 });
      writeFileSync(file, SERVER_GITCONFIG, { mode: 0o644 });
    }
    return file;
  }
}
