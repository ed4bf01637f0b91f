import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { findUser, type User } from "../auth/users.ts";
import { priceOf } from "../costs/costs.ts";
import type { Db, Tx } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { KeyedLock } from "../infra/keyed-lock.ts";
import { hasControlChars, type Input, optionalString, requiredString } from "../infra/input.ts";
import type { Pods } from "../pods/pods.ts";
import { isValidBranchName } from "../repos/git-ref.ts";
import { worktreeDir } from "../repos/layout.ts";
import { deleteRepo, getRepo, type Repo } from "../repos/repos.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { SettingsStore } from "../settings/settings.ts";
import type { SessionConnections } from "./connections.ts";
import type { ProgressHub } from "./progress.ts";
import { type SessionState, sessions } from "./tables.ts";
import { RepoGit } from "./worktrees.ts";

export type Session = typeof sessions.$inferSelect;

export function publicSession(session: Session) {
  return {
    id: session.id,
    repoId: session.repoId,
    userId: session.userId,
    taskId: session.taskId,
    title: session.title,
    branch: session.branch,
    baseRef: session.baseRef,
    worktreePath: session.worktreePath,
    state: session.state,
    step: session.step,
    error: session.error,
    podId: session.podId,
    model: session.model,
    costUsd: session.costUsd,
    savedCommit: session.savedCommit,
    createdAt: session.createdAt.toISOString(),
    endedAt: session.endedAt?.toISOString() ?? null,
  };
}

export interface EndResult {
  session: Session;
  savedUncommitted: boolean;
  unpushedCommits: number;
}

export interface SessionDeps {
  db: Db;
  dataDir: string;
  runtime: Runtime;
  pods: Pods;
  settings: SettingsStore;
  hub: ProgressHub;
  connections: SessionConnections;
  /** What else must happen as a session becomes active or ends (its terminal starts or stops). */
  hooks: SessionHooks;
}

export interface SessionHooks {
  activated(session: Session): void;
  ending(sessionId: string): Promise<void>;
}

const LIVE: SessionState[] = ["provisioning", "active"];
const SUGGESTIONS_WAIT_MS = 5000;
const MAX_TITLE = 200;

/**
 * Sessions: one person's working context on one branch of one repo. Creating one answers at
 * once; the pod, clone and worktree are made in the background, with progress published to the
 * hub. Ending saves uncommitted work as a commit, removes the worktree and keeps the branch.
 */
export class Sessions {
  /** Provisioning runs in flight, so tests and shutdown can wait for them. */
  private running = new Map<string, Promise<void>>();
  /** Git work on one repo's clone happens one operation at a time. */
  private repoLock = new KeyedLock();

  constructor(private deps: SessionDeps) {}

  async start(user: User, input: Input): Promise<Session> {
    const repoId = requiredString(input, "repoId", "Repository");
    const repo = this.findRepo(repoId);
    const title = optionalString(input, "title", "Title")?.trim();
    if (title !== undefined && (title.length > MAX_TITLE || hasControlChars(title))) {
      throw invalid("title", `Title must be at most ${MAX_TITLE} characters without control characters.`);
    }
    if (optionalString(input, "taskId", "Task") !== undefined) {
      throw invalid("taskId", "No task with that id.");
    }
    const model = optionalString(input, "model", "Model") ?? this.deps.settings.plain().defaultModel;
    if (!priceOf(this.deps.db, model)) throw invalid("model", `The model ${model} is not in the price table; pick one listed in settings.`);
    const requested = optionalString(input, "branch", "Branch");
    const id = newId();
    let branch: string;
    if (requested !== undefined) {
      if (!isValidBranchName(requested)) throw invalid("branch", "Branch is not a valid git branch name.");
      this.assertBranchFree(repo.id, requested);
      if (!(await this.branchExists(repo, requested))) {
        throw new AppError(400, "branch_not_found", `No branch "${requested}" in ${repo.name}, locally or on the remote.`, "branch");
      }
      branch = requested;
    } else {
      branch = `pier/${user.username}/${id.slice(0, 8)}`;
    }
    const session: Session = {
      id,
      repoId: repo.id,
      userId: user.id,
      taskId: null,
      title: title || `${repo.name} · ${branch}`,
      branch,
      createdBranch: requested === undefined,
      baseRef: `origin/${repo.defaultBranch}`,
      baseSha: null,
      worktreePath: worktreeDir(this.deps.dataDir, repo.id, id),
      state: "provisioning",
      step: "Queued",
      error: null,
      podId: null,
      model,
      costUsd: 0,
      savedCommit: null,
      createdAt: new Date(),
      endedAt: null,
    };
    try {
      this.deps.db.insert(sessions).values(session).run();
    } catch (error) {
      if (String(error).includes("UNIQUE")) throw branchInUse(branch);
      throw error;
    }
    this.provisionInBackground(session.id, user.username);
    return session;
  }

  get(id: string): Session {
    const session = this.deps.db.select().from(sessions).where(eq(sessions.id, id)).get();
    if (!session) throw notFound("session");
    return session;
  }

  /** A session its owner or an admin may see; others get 404, as if it did not exist. */
  getFor(user: User, id: string): Session {
    const session = this.get(id);
    if (session.userId !== user.id && user.role !== "admin") throw notFound("session");
    return session;
  }

  list(user: User, filter: { state?: string; repoId?: string } = {}): Session[] {
    const where: SQL[] = [];
    if (user.role !== "admin") where.push(eq(sessions.userId, user.id));
    if (filter.state !== undefined) {
      if (!["provisioning", "active", "ended", "failed"].includes(filter.state)) {
        throw invalid("state", "State must be provisioning, active, ended or failed.");
      }
      where.push(eq(sessions.state, filter.state as SessionState));
    }
    if (filter.repoId !== undefined) where.push(eq(sessions.repoId, filter.repoId));
    return this.deps.db
      .select()
      .from(sessions)
      .where(and(...where))
      .orderBy(desc(sessions.createdAt))
      .all();
  }

  /** Every active session, whoever owns it (for work the server does on its own, such as at start). */
  allActive(): Session[] {
    return this.deps.db.select().from(sessions).where(eq(sessions.state, "active")).all();
  }

  hasLiveSession(repoId: string): boolean {
    return (
      this.deps.db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.repoId, repoId), inArray(sessions.state, LIVE)))
        .get() !== undefined
    );
  }

  async diff(user: User, id: string) {
    const session = this.getFor(user, id);
    const git = await this.repoGit(this.findRepo(session.repoId));
    if (!git.hasClone() || !session.baseSha) return { files: [], patch: "" };
    return git.diff(session.worktreePath, session.baseSha, session.branch);
  }

  /**
   * Branch names on the repo's remote, for the New Session page's suggestions. A remote that is
   * slow to answer only costs the page its suggestions, not its load.
   */
  async branchSuggestions(repoId: string): Promise<string[]> {
    const git = await this.repoGit(this.findRepo(repoId));
    const asked = git.remoteBranches().catch(() => []);
    return Promise.race([asked, Bun.sleep(SUGGESTIONS_WAIT_MS).then(() => [])]);
  }

  /**
   * Removes a repo from Pier once no session is live on it. Its pod goes; its directory (clone,
   * branches with unpushed commits) stays on disk, so no work is lost.
   */
  async removeRepo(repoId: string): Promise<void> {
    getRepo(this.deps.db, repoId);
    if (this.hasLiveSession(repoId)) {
      throw new AppError(409, "repo_in_use", "The repository has active sessions; end them before removing it.");
    }
    await this.deps.runtime.removePod(repoId);
    deleteRepo(this.deps.db, repoId);
  }

  /** What ending would do: the files it would save in a commit and the commits not yet pushed. */
  async changes(user: User, id: string): Promise<{ uncommittedFiles: string[]; unpushedCommits: number }> {
    const session = this.getFor(user, id);
    const git = await this.repoGit(this.findRepo(session.repoId));
    const uncommittedFiles = await git.uncommittedFiles(session.worktreePath);
    return { uncommittedFiles, unpushedCommits: await this.unpushed(git, session) };
  }

  /**
   * Ends a session. Uncommitted work is saved as a commit on the session's branch first, so
   * nothing is lost; then its connections close (4001), its worktree goes, and the branch stays.
   */
  async end(user: User, id: string): Promise<EndResult> {
    const session = this.getFor(user, id);
    if (session.state === "ended") return { session, savedUncommitted: false, unpushedCommits: 0 };
    if (session.state === "provisioning") {
      throw new AppError(409, "session_provisioning", "The session is still being prepared; end it once it is ready.");
    }
    const repo = this.findRepo(session.repoId);
    const git = await this.repoGit(repo);
    this.deps.connections.closeAll(session.id);
    await this.deps.hooks.ending(session.id);
    const { savedCommit, unpushedCommits } = await this.repoLock.run(repo.id, async () => {
      let savedCommit: string | null = null;
      if ((await git.uncommittedFiles(session.worktreePath)).length > 0) {
        savedCommit = await git.commitAll(
          session.worktreePath,
          `Save uncommitted work from Pier session ${session.id}\n\nPier made this commit when the session ended, so nothing was lost.`,
        );
      }
      if (git.hasClone()) await git.removeWorktree(session.worktreePath);
      return { savedCommit, unpushedCommits: await this.unpushed(git, session) };
    });
    this.update(session.id, { state: "ended", endedAt: new Date(), step: null, ...(savedCommit ? { savedCommit } : {}) });
    this.deps.pods.touch(repo.id);
    this.deps.hub.publish(session.id, { type: "state", state: "ended" });
    return { session: this.get(session.id), savedUncommitted: savedCommit !== null, unpushedCommits };
  }

  /** Brings an ended (or failed) session back: same id, same branch, a fresh worktree. */
  async resume(user: User, id: string): Promise<Session> {
    const session = this.getFor(user, id);
    if (session.state === "active" || session.state === "provisioning") return session;
    this.assertBranchFree(session.repoId, session.branch, session.id);
    try {
      this.update(session.id, { state: "provisioning", step: "Queued", error: null, endedAt: null });
    } catch (error) {
      if (String(error).includes("UNIQUE")) throw branchInUse(session.branch);
      throw error;
    }
    this.provisionInBackground(session.id, this.ownerName(session));
    return this.get(session.id);
  }

  /** After a restart: provisioning that was cut off starts again (every step is idempotent). */
  resumeInterrupted(): void {
    for (const session of this.deps.db.select().from(sessions).where(eq(sessions.state, "provisioning")).all()) {
      this.provisionInBackground(session.id, this.ownerName(session));
    }
  }

  /** Resolves when every provisioning run under way has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private provisionInBackground(sessionId: string, username: string): void {
    this.deps.hub.begin(sessionId);
    const run = this.provision(sessionId, username).finally(() => this.running.delete(sessionId));
    this.running.set(sessionId, run);
  }

  private async provision(sessionId: string, username: string): Promise<void> {
    const { hub } = this.deps;
    const report = (event: Parameters<ProgressHub["publish"]>[1]) => {
      if (event.type === "progress") this.update(sessionId, { step: event.message });
      hub.publish(sessionId, event);
    };
    try {
      const session = this.get(sessionId);
      const repo = this.findRepo(session.repoId);
      const pod = await this.deps.pods.ensure(repo, (event) => report({ type: "progress", ...event }));

      const git = await this.repoGit(repo);
      const baseSha = await this.repoLock.run(repo.id, async () => {
        report({ type: "progress", step: "clone", message: git.hasClone() ? "Fetching the latest changes…" : `Cloning ${repo.url}…` });
        const how = await git.cloneOrFetch();
        report({ type: "progress", step: "clone", message: how === "cloned" ? "Cloned." : "Fetched.", fraction: 1 });

        report({ type: "progress", step: "worktree", message: `Preparing the worktree on ${session.branch}…` });
        const { where, baseExists } = await git.locateBranch(session.branch, session.baseRef);
        if (!where && !session.createdBranch) throw new Error(`The branch ${session.branch} no longer exists locally or on the remote.`);
        if (!where && !baseExists) {
          throw new Error(`The default branch ${repo.defaultBranch} was not found on the remote; check the repository's settings.`);
        }
        await git.addWorktree(session.worktreePath, session.branch, where ?? "new", session.baseRef);
        await git.configureWorktree(session.worktreePath, { name: username, email: `${username}@users.pier.local` });
        return session.baseSha ?? (await git.mergeBase(session.worktreePath, session.baseRef));
      });
      report({ type: "progress", step: "worktree", message: "Worktree ready.", fraction: 1 });

      this.update(sessionId, { state: "active", step: null, podId: pod.id, baseSha });
      this.deps.pods.touch(repo.id);
      this.deps.hooks.activated(this.get(sessionId));
      hub.publish(sessionId, { type: "state", state: "active" });
    } catch (error) {
      const message = humanError(error);
      this.update(sessionId, { state: "failed", step: null, error: message });
      hub.publish(sessionId, { type: "state", state: "failed", error: message });
    }
  }

  private async branchExists(repo: Repo, branch: string): Promise<boolean> {
    const git = await this.repoGit(repo);
    return this.repoLock.run(repo.id, async () => {
      if (git.hasClone()) {
        if (await git.findBranch(branch)) return true;
        await git.fetch().catch(() => undefined);
        return (await git.findBranch(branch)) !== null;
      }
      return git.remoteHasBranch(branch).catch(() => false);
    });
  }

  private assertBranchFree(repoId: string, branch: string, exceptSessionId?: string): void {
    const holder = this.deps.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.repoId, repoId), eq(sessions.branch, branch), inArray(sessions.state, LIVE)))
      .get();
    if (holder && holder.id !== exceptSessionId) throw branchInUse(branch);
  }

  private async unpushed(git: RepoGit, session: Session): Promise<number> {
    if (!git.hasClone()) return 0;
    return git.unpushedCount(session.branch).catch(() => 0);
  }

  private findRepo(repoId: string): Repo {
    try {
      return getRepo(this.deps.db, repoId);
    } catch {
      throw invalid("repoId", "No repository with that id.");
    }
  }

  private ownerName(session: Session): string {
    return findUser(this.deps.db, session.userId)?.username ?? "pier";
  }

  private async repoGit(repo: Repo): Promise<RepoGit> {
    const token = await this.deps.settings.secret("githubToken");
    return new RepoGit(this.deps.dataDir, repo, this.deps.runtime.fileOwner, token);
  }

  private update(id: string, values: Partial<Session>): void {
    this.deps.db.update(sessions).set(values).where(eq(sessions.id, id)).run();
  }
}

/** Adds a model response's cost to the session; runs inside the cost ledger's transaction. */
export function addSessionCost(tx: Tx, sessionId: string, usd: number): void {
  tx.update(sessions)
    .set({ costUsd: sql`${sessions.costUsd} + ${usd}` })
    .where(eq(sessions.id, sessionId))
    .run();
}

function branchInUse(branch: string): AppError {
  return new AppError(409, "branch_in_use", `Another active session is working on ${branch}; end it first or pick another branch.`, "branch");
}

/** The last meaningful line of a git or Docker failure, for a person to read. */
function humanError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const fatal = lines.find((l) => l.startsWith("fatal:")) ?? lines.at(-1) ?? "Provisioning failed.";
  return fatal.slice(0, 500);
}
