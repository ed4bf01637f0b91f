import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SERVER_GITCONFIG, readGit, readGitToFile, serverGit } from "../infra/git.ts";
import { KeyedLock } from "../infra/keyed-lock.ts";
import { isValidBranchName } from "./git-ref.ts";
import { mirrorDir } from "./layout.ts";
import type { Repo } from "./repos.ts";

/** One entry of a tree in a mirror: `mode` 120000 is a symbolic link, 160000 a submodule. */
export interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
  /** A blob's size in bytes; null for a tree or a submodule. */
  size: number | null;
  path: string;
}

/**
 * Each repo's mirror: a bare copy of the remote's branches in a part of the data dir no pod can
 * write. The server fetches it from the remote (with the instance's token, which never enters a
 * pod); people's clones fetch from it inside their pods, where it is mounted read-only. Branch
 * names reaching here have passed isValidBranchName, so none can be read as an option.
 */
export class Mirrors {
  /** One git operation at a time per mirror: two sessions starting together fetch once each, in turn. */
  private lock = new KeyedLock();
  /** The fetch under way of each mirror, which later callers share (see update). */
  private updating = new Map<string, Promise<"cloned" | "fetched">>();

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

  /**
   * Brings the mirror up to date with the remote, cloning it the first time. A caller that comes
   * while a fetch is under way shares it: a session's start and the pod it makes (which reads the
   * repository's environment) both want the remote as of now, and one fetch gives them that.
   */
  update(repo: Repo): Promise<"cloned" | "fetched"> {
    const running = this.updating.get(repo.id);
    if (running) return running;
    const fetching = this.lock
      .run(repo.id, async () => {
        const first = !this.fetched(repo.id);
        await this.init(repo);
        await this.git(repo.id, ["fetch", "--prune", "--no-tags", "origin"]);
        await this.followRemoteHead(repo.id);
        return first ? ("cloned" as const) : ("fetched" as const);
      })
      .finally(() => this.updating.delete(repo.id));
    this.updating.set(repo.id, fetching);
    return fetching;
  }

  /** Branch names on the remote: from the mirror once fetched, else asked of the remote itself. */
  async branches(repo: Repo): Promise<string[]> {
    const out = this.fetched(repo.id)
      ? await this.git(repo.id, ["for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads/"])
      : (await this.git(null, ["ls-remote", "--heads", "--", repo.url]))
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
      const out = await this.git(null, ["ls-remote", "--heads", "--", repo.url, `refs/heads/${branch}`]);
      return out.trim().length > 0;
    }
    if (await this.hasBranch(repo.id, branch)) return true;
    await this.update(repo).catch(() => undefined);
    return this.hasBranch(repo.id, branch);
  }

  /**
   * The commit a branch's ref (refs/heads/…) points at in the mirror, so that several reads of the
   * branch see the same commit even while a fetch moves it on; null when the mirror has no such
   * branch or has not been fetched.
   */
  async commitOf(repoId: string, ref: string): Promise<string | null> {
    if (!ref.startsWith("refs/heads/") || !isValidBranchName(ref.slice("refs/heads/".length))) throw new Error(`Not a branch ref: ${ref}`);
    if (!this.fetched(repoId)) return null;
    const out = await readGit(this.path(repoId), ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { globalConfig: this.globalConfig(), maxBytes: 128 });
    const id = out.stdout.toString("utf8").trim();
    return out.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(id) ? id : null;
  }

  /**
   * Entries of a tree at `paths` as the mirror has it: `treeish` is a branch's ref (refs/heads/…)
   * or a commit's or tree's id (a directory given with a trailing slash lists what is in it, and
   * with `recursive` every file below it, with its path from the root). Read from git's objects,
   * never from files a checkout would make: a symbolic link is an entry like any other, followed
   * nowhere. At most `maxBytes` of listing, so a repository cannot make the answer as long as it
   * likes; null when the mirror has no such tree (not fetched yet, or no such branch).
   */
  async listTree(repoId: string, treeish: string, paths: string[], maxBytes: number, { recursive = false } = {}): Promise<{ entries: TreeEntry[]; truncated: boolean } | null> {
    if (!/^(refs\/heads\/[^-\s][^\s]*|[0-9a-f]{40,64})$/.test(treeish)) throw new Error(`Not a branch ref or a tree id: ${treeish}`);
    if (!this.fetched(repoId)) return null;
    // Literal: a path from a repository's file (":(glob)…") is a name, never a pattern.
    const out = await readGit(this.path(repoId), ["--literal-pathspecs", "ls-tree", "-z", "--long", ...(recursive ? ["-r"] : []), treeish, "--", ...paths], { globalConfig: this.globalConfig(), maxBytes });
    if (out.exitCode !== 0 && !out.truncated) return null;
    const records = out.stdout.toString("utf8").split("\0");
    // The last record of a cut listing may be cut too; a whole listing ends with a NUL.
    records.pop();
    const entries: TreeEntry[] = [];
    for (const record of records) {
      const match = /^(\d{6}) (\w+) ([0-9a-f]{40,64}) +(-|\d+)\t(.*)$/s.exec(record);
      if (match) entries.push({ mode: match[1]!, type: match[2]!, sha: match[3]!, size: match[4] === "-" ? null : Number(match[4]), path: match[5]! });
    }
    return { entries, truncated: out.truncated };
  }

  /**
   * The entry at each of `paths` that the tree has (a file, a folder, a link, a submodule), as
   * listTree shows each alone. Given a folder and a path inside it, ls-tree shows only the inner
   * one, so paths nested in each other are asked in turns: one git call for most sets of paths.
   */
  async entriesAt(repoId: string, treeish: string, paths: string[], maxBytes: number): Promise<Map<string, TreeEntry>> {
    const nested = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
    const turns: string[][] = [];
    for (const path of new Set(paths)) {
      const turn = turns.find((asked) => !asked.some((other) => nested(path, other)));
      if (turn) turn.push(path);
      else turns.push([path]);
    }
    const found = new Map<string, TreeEntry>();
    for (const turn of turns) {
      const listing = await this.listTree(repoId, treeish, turn, maxBytes);
      for (const entry of listing?.entries ?? []) if (turn.includes(entry.path)) found.set(entry.path, entry);
    }
    return found;
  }

  /** At most `maxBytes` of a blob of the mirror. */
  async readBlob(repoId: string, sha: string, maxBytes: number): Promise<{ content: Buffer; truncated: boolean }> {
    if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new Error("Not an object id.");
    const out = await readGit(this.path(repoId), ["cat-file", "blob", sha], { globalConfig: this.globalConfig(), maxBytes });
    if (out.exitCode !== 0 && !out.truncated) throw new Error(`Reading ${sha} from the mirror failed: ${out.stderr.trim()}`);
    return { content: out.stdout, truncated: out.truncated };
  }

  /**
   * Writes a tar of the folder `path` (from the root, "" for the root itself) at `commit` to
   * `file`, as `git archive` makes it from the mirror's objects: a symbolic link stays a link in
   * the tar. At most `maxBytes`; a folder that is larger, or missing, is said in a sentence.
   */
  async archive(repoId: string, commit: string, path: string, file: string, maxBytes: number): Promise<void> {
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`Not a commit id: ${commit}`);
    // The commit's id leads the one argument, so no path can read as an option.
    const out = await readGitToFile(this.path(repoId), ["archive", "--format=tar", `${commit}:${path}`], { globalConfig: this.globalConfig(), maxBytes, file, timeoutMs: 5 * 60 * 1000 });
    const where = path || "the repository's root";
    if (out.truncated) throw new Error(`${where} holds more than ${Math.round(maxBytes / 1024 / 1024)} MiB at ${commit.slice(0, 12)}.`);
    if (out.exitCode !== 0) throw new Error(`${where} could not be read at ${commit.slice(0, 12)}: ${out.stderr.trim() || `git archive exited with code ${out.exitCode}`}`);
  }

  private async hasBranch(repoId: string, branch: string): Promise<boolean> {
    const ref = `refs/heads/${branch}`;
    const out = await this.git(repoId, ["for-each-ref", "--format=%(refname)", ref]);
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
    const git = (args: string[]) => serverGit(making, args, { globalConfig: this.globalConfig() });
    // Readable by the pod user whatever the server's umask: pods fetch from it.
    await git(["init", "--quiet", "--bare", "--shared=0644"]);
    await git(["config", "remote.origin.url", repo.url]);
    await git(["config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"]);
    renameSync(making, path);
  }

  /**
   * Points the mirror's HEAD at the remote's default branch when it names a branch the mirror
   * lacks (a new mirror's names master; the remote's may have been renamed): a plain clone of the
   * mirror over Pier's smart HTTP then checks out that branch, not nothing. The remote is asked
   * only then, so a fetch that finds HEAD good costs no more.
   */
  private async followRemoteHead(repoId: string): Promise<void> {
    const head = await readGit(this.path(repoId), ["rev-parse", "--verify", "--quiet", "HEAD"], { globalConfig: this.globalConfig(), maxBytes: 128 });
    if (head.exitCode === 0) return;
    const said = await this.git(repoId, ["ls-remote", "--symref", "origin", "HEAD"]);
    const branch = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(said)?.[1];
    if (branch && isValidBranchName(branch) && (await this.hasBranch(repoId, branch))) await this.git(repoId, ["symbolic-ref", "HEAD", `refs/heads/${branch}`]);
  }

  /** Git in the mirror, or (null) in the mirrors' directory, for questions to a remote; resolves with its output. */
  private async git(repoId: string | null, args: string[]): Promise<string> {
    return serverGit(repoId ? this.path(repoId) : this.root(), args, { token: await this.token(), globalConfig: this.globalConfig() });
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
