import type { AuditLog } from "../audit/audit-log.ts";
import { type Static, Type } from "@sinclair/typebox";
import { and, desc, eq, inArray, ne, type SQL } from "drizzle-orm";
import { isDiskFull } from "../infra/disk-full.ts";
import type { Actor } from "../auth/actor.ts";
import { findUser } from "../auth/users.ts";
import type { PodFactsOffer } from "../claude-code/supply.ts";
import { defaultModelForService, modelsForService, SERVICE_NAME } from "../agents/agent-models.ts";
import type { AgentService } from "../agents/shipped.ts";
import { listPrices, priceOf } from "../costs/costs.ts";
import type { Db } from "../infra/db.ts";
import { AppError, forbidden, invalid, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { KeyedLock } from "../infra/keyed-lock.ts";
import { NO_CONTROL_CHARS, optionalText, readField, requiredText } from "../infra/input.ts";
import type { LivePod } from "../pods/disk-watch.ts";
import type { Pods } from "../pods/pods.ts";
import { isValidBranchName } from "../repos/git-ref.ts";
import { worktreeDir } from "../repos/layout.ts";
import type { Mirrors } from "../repos/mirrors.ts";
import { getRepo, type Repo } from "../repos/repos.ts";
import { type PodKey, type ProgressEvent, engineUnreachable } from "../runtime/runtime.ts";
import type { SettingsStore } from "../settings/settings.ts";
import { traceStart, traceStep, traceTimed } from "../observability/start-trace.ts";
import { PodCommandFailure, PodScriptRefusal } from "../workspaces/pod-script.ts";
import type { SessionDiff, SessionFile } from "../workspaces/workspace.ts";
import type { SessionHost } from "./host.ts";
import { runCleanupScript, runSetupScript } from "./repo-scripts.ts";
import type { SessionHosts } from "./hosts.ts";
import type { Session } from "./session.ts";
import type { Tasks } from "../tasks/tasks.ts";
import { EngineField } from "./engine-field.ts";
import { type ChatEngineName, LIVE_STATES, type SessionState, sessions } from "./tables.ts";
import { SESSION_QUERY_FIELDS, type SessionPage, type SessionQuery, querySessions } from "./session-query.ts";
import { sessionFor, visibleSessions } from "./session-scope.ts";
import type { SessionReads } from "./session-reads.ts";

/** How often a failure the full disk kept from being written down is tried again. */
const FAILURE_RETRY_MS = 3000;

declare module "../infra/events.ts" {
  interface PierEvents {
    /** What Pier writes into worktrees changed (a skill, an MCP server): of one repo, or of all when null. */
    "session.files-changed": { repoId: string | null };
  }
}

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
    engine: session.engine,
    ...(session.agent ? { agent: session.agent } : {}),
    model: session.model,
    costUsd: session.costUsd,
    attention: session.attention,
    origin: session.origin,
    ...(session.runId ? { runId: session.runId } : {}),
    savedCommit: session.savedCommit,
    createdAt: session.createdAt.toISOString(),
    endedAt: session.endedAt?.toISOString() ?? null,
  };
}

/** A worktree deleted by hand, made again from its branch (see Sessions.restoreWorktree). */
export interface RestoredWorktree {
  session: Session;
  /** The commit the restored worktree has checked out. */
  head: string | null;
  /** What came back and what did not, for the person. */
  message: string;
}

export interface EndResult {
  session: Session;
  savedUncommitted: boolean;
  unpushedCommits: number;
  /** How the repo's cleanup script failed, in a sentence; null when it went well or there is none. */
  cleanupError: string | null;
}

export interface SessionDeps {
  db: Db;
  /** Where people's workspaces are (PIER_WORKSPACES_DIR). */
  workspacesDir: string;
  mirrors: Mirrors;
  pods: Pods;
  settings: SettingsStore;
  /** The live sessions' hosts: their terminals, sockets and progress. */
  hosts: SessionHosts;
  tasks: Tasks;
  /** Whether sessions are live, and for whom (the rules the parts made before Sessions ask too). */
  reads: SessionReads;
  /** Pier's own files for a session's worktree: its .mcp.json and the skills of its repo. */
  filesFor(session: Session): Promise<SessionFile[]>;
  /** Offers to learn a pod Pier has not seen yet in the session's own exec there (see ClaudeCodeSupply.offerFacts). */
  podFacts?(key: PodKey): PodFactsOffer;
  /** Starting, ending and resuming a session go in it, with who did it. */
  audit: AuditLog;
  /** The ACP engine's agents (see pier.agents): a session of engine acp names one, whose model is of its service. */
  agentOf(id: string): { name: string; service: AgentService } | null;
}

const MAX_TITLE = 200;

/** What starting a session takes (POST /api/sessions, the New Session form). */
export const StartSessionInput = Type.Object({
  repoId: requiredText("Repository"),
  branch: optionalText("Branch", { description: "An existing branch to check out; left out, a new branch off the default one." }),
  taskId: optionalText("Task"),
  title: optionalText("Title", { trim: true, maxLength: MAX_TITLE, pattern: NO_CONTROL_CHARS, rule: `Title must be at most ${MAX_TITLE} characters without control characters.` }),
  model: optionalText("Model"),
  engine: Type.Optional(EngineField),
  agent: optionalText("Agent", { description: 'The coding agent (an id of /api/config/agents) the engine "acp" runs.' }),
});
export type StartSessionInput = Static<typeof StartSessionInput>;

/** Linking a session to a task later (PATCH /api/sessions/:id); an empty id unlinks it. */
export const LinkTaskInput = Type.Object({ taskId: Type.String({ title: "Task", error: "Task must be a task id, or empty to unlink the session." }) });
export type LinkTaskInput = Static<typeof LinkTaskInput>;

const SUGGESTIONS_WAIT_MS = 5000;

/**
 * Sessions: one person's working context on one branch of one repo. Creating one answers at
 * once; the pod, clone and worktree are made in the background, with progress reported through
 * the session's host. Ending saves uncommitted work as a commit, removes the worktree and keeps
 * the branch. All git work on the person's clone and worktrees happens in their pod (see
 * Workspace). The database row is the truth; the host holds what the live session has meanwhile.
 */
export class Sessions {
  /** Git work on one person's clone of a repo happens one operation at a time. */
  private cloneLock = new KeyedLock();

  constructor(private deps: SessionDeps) {}

  /**
   * A person starts a session of their own (an agent never starts one). An unattended run starts
   * its session the same way, acting as its person, and names itself (`run`).
   */
  async start(actor: Actor, input: StartSessionInput, run?: { runId: string }): Promise<Session> {
    if (actor.kind !== "person") throw forbidden("Only a person can start a session.");
    const startedAt = performance.now();
    const user = actor.user;
    const repo = this.findRepo(input.repoId);
    const title = readField(StartSessionInput, "title", input.title) || undefined;
    const taskId = input.taskId || null;
    if (taskId) this.deps.tasks.assertExists(taskId);
    const engine: ChatEngineName = input.engine ?? this.deps.settings.plain().defaultEngine;
    const agent = this.agentFor(engine, input.agent || null);
    const model = this.modelFor(agent, input.model || null);
    const requested = input.branch || undefined;
    const id = newId();
    let branch: string;
    if (requested !== undefined) {
      if (!isValidBranchName(requested)) throw invalid("branch", "Branch is not a valid git branch name.");
      this.assertBranchFree(repo.id, requested);
      if (!(await this.branchExists(repo, user.id, requested))) {
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
      taskId,
      title: title || `${repo.name} · ${branch}`,
      branch,
      createdBranch: requested === undefined,
      baseRef: `origin/${repo.defaultBranch}`,
      baseSha: null,
      worktreePath: worktreeDir(this.deps.workspacesDir, repo.id, user.id, id),
      state: "provisioning",
      step: "Queued",
      error: null,
      podId: null,
      model,
      engine,
      claudeSessionId: null,
      agent,
      acpSessionId: null,
      costUsd: 0,
      attention: null,
      origin: run ? "run" : "person",
      runId: run?.runId ?? null,
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
    if (taskId) this.deps.tasks.started(taskId);
    this.deps.audit.record(actor, "session_started", sessionTarget(session), { detail: run ? `for run ${run.runId}` : null });
    this.provisionInBackground(session, user.username, startedAt);
    return session;
  }

  /** The agent a session (or a run's) of `engine` runs: one that exists for engine acp, none for the others; a 400 naming `agent` otherwise. */
  agentFor(engine: ChatEngineName, agent: string | null): string | null {
    if (engine !== "acp") {
      if (agent) throw invalid("agent", 'Agent goes with the engine "acp"; the other engines run their own agent.');
      return null;
    }
    if (!agent) throw invalid("agent", 'Agent is required with the engine "acp": the id of one of /api/config/agents, such as opencode.');
    if (!this.deps.agentOf(agent)) throw invalid("agent", `No agent has the id ${agent}; pick one of /api/config/agents.`);
    return agent;
  }

  /**
   * The model a session (or a run's) of `agent` (null for Pier's agent and Claude Code) answers
   * on: the one asked for, else the default, from the price table. An ACP agent's is of its model
   * service (its gateway forwards to that service alone), and one on `none` gets none (null):
   * Pier does not point it at a model. A 400 naming `model` otherwise.
   */
  modelFor(agent: string | null, requested: string | null): string | null {
    const defaultModel = this.deps.settings.plain().defaultModel;
    const acp = agent ? this.deps.agentOf(agent) : null;
    if (!acp) {
      const model = requested ?? defaultModel;
      if (!priceOf(this.deps.db, model)) throw invalid("model", `The model ${model} is not in the price table; pick one listed in settings.`);
      return model;
    }
    if (acp.service === "none") {
      if (requested) throw modelNotForAgent(`${acp.name} is not pointed at a model service by Pier (its service is none): it answers on a model of its own choosing, so leave the model out.`);
      return null;
    }
    const service = SERVICE_NAME[acp.service];
    const offered = modelsForService(acp.service, listPrices(this.deps.db).map((price) => price.model));
    const model = requested ?? defaultModelForService(acp.service, offered, defaultModel);
    if (!model) throw modelNotForAgent(`No ${service} model is in the price table, so ${acp.name} has none to answer on; an admin adds one in settings.`);
    if (!priceOf(this.deps.db, model)) throw invalid("model", `The model ${model} is not in the price table; pick one listed in settings.`);
    if (!offered.includes(model)) {
      throw modelNotForAgent(`The model ${model} is not ${/^[AEIOU]/.test(service) ? "an" : "a"} ${service} model, and ${acp.name} answers on ${service}'s models through Pier's gateway: pick one of ${offered.join(", ")}.`);
    }
    return model;
  }


  /**
   * Links the session to a task (work on it begins: a todo task moves to in_progress), or unlinks
   * it with null. Its person (or an admin) may; the agent may not.
   */
  linkTask(actor: Actor, id: string, input: LinkTaskInput): Session {
    const session = this.getFor(actor, id);
    if (actor.kind !== "person") throw forbidden("Only a person can link a session to a task.");
    const taskId = input.taskId || null;
    if (taskId) this.deps.tasks.assertExists(taskId);
    this.update(session.id, { taskId });
    if (taskId) this.deps.tasks.started(taskId);
    return this.get(session.id);
  }

  /** A task was deleted: the sessions linked to it are linked to none. */
  forgetTask(taskId: string): void {
    this.deps.db.update(sessions).set({ taskId: null }).where(eq(sessions.taskId, taskId)).run();
  }

  /** The task a session is linked to, if any: what its agent may act on. */
  linkedTaskOf(sessionId: string): string | null {
    return this.deps.reads.linkedTaskOf(sessionId);
  }

  /** A live session (provisioning or active) by id, or null. */
  findLive(id: string): Session | null {
    return this.deps.reads.findLive(id);
  }

  /** Whether `sessionId` is a live session of the pod's own person and repo (see SessionReads.isLiveFor). */
  isLiveFor(pod: PodKey, sessionId: string): boolean {
    return this.deps.reads.isLiveFor(pod, sessionId);
  }

  get(id: string): Session {
    const session = this.deps.db.select().from(sessions).where(eq(sessions.id, id)).get();
    if (!session) throw notFound("session");
    return session;
  }

  /** A session the actor may see (see session-scope.ts); others get 404, as if it did not exist. */
  getFor(actor: Actor, id: string): Session {
    return sessionFor(this.deps.db, actor, id);
  }

  /** One page of the history's query (GET /api/sessions): see querySessions. */
  query(actor: Actor, query: Record<string, unknown>): SessionPage {
    const fields: SessionQuery = {};
    for (const key of SESSION_QUERY_FIELDS) {
      const value = query[key];
      if (value === undefined) continue;
      if (typeof value !== "string") throw invalid(key, `Give ${key} once, as text.`);
      fields[key] = value;
    }
    return querySessions(this.deps.db, actor, fields);
  }

  /** The sessions the actor may see (see session-scope.ts), newest first. */
  list(actor: Actor, filter: { state?: string; repoId?: string; taskId?: string } = {}): Session[] {
    const where: Array<SQL | undefined> = [visibleSessions(actor)];
    if (filter.state !== undefined) {
      if (!["provisioning", "active", "ended", "failed"].includes(filter.state)) {
        throw invalid("state", "State must be provisioning, active, ended or failed.");
      }
      where.push(eq(sessions.state, filter.state as SessionState));
    }
    if (filter.repoId !== undefined) where.push(eq(sessions.repoId, filter.repoId));
    if (filter.taskId !== undefined) where.push(eq(sessions.taskId, filter.taskId));
    return this.deps.db
      .select()
      .from(sessions)
      .where(and(...where))
      .orderBy(desc(sessions.createdAt))
      .all();
  }

  /** Every active session, whoever owns it (for work the server does on its own, such as at start). */
  allActive(): Session[] {
    return this.deps.reads.allActive();
  }

  /** The pods that have an active session, each with those sessions (see SessionReads.livePods). */
  livePods(): LivePod[] {
    return this.deps.reads.livePods();
  }

  /**
   * Brings Pier's files (see SessionFile) up to date in the active sessions of a repo, or of every
   * repo when `repoId` is null: what a skill or MCP server change calls, so each worktree has it
   * within seconds. A session that cannot be reached now gets its files when it next starts.
   */
  async syncFiles(repoId: string | null): Promise<void> {
    const live = this.allActive().filter((session) => repoId === null || session.repoId === repoId);
    await Promise.all(
      live.map(async (session) => {
        try {
          const files = await this.deps.filesFor(session);
          const workspace = await this.workspace(session);
          await this.cloneLock.run(cloneKey(session), () => workspace.syncFiles(session.worktreePath, files));
        } catch (error) {
          console.warn(`[pier] could not bring Pier's files up to date in session ${session.id}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
  }

  /**
   * The person's pod of the repo is this container now: their active sessions name it (one made
   * again after it was removed behind Pier's back is a new container).
   */
  podReady(key: PodKey, podId: string): void {
    this.deps.db
      .update(sessions)
      .set({ podId })
      .where(and(eq(sessions.repoId, key.repoId), eq(sessions.userId, key.userId), eq(sessions.state, "active"), ne(sessions.podId, podId)))
      .run();
  }

  /**
   * Whether the repo (or, given a person, that person's pod of it) has a provisioning or active
   * session, leaving out `except` if given.
   */
  hasLiveSession(repoId: string, userId?: string, except?: string): boolean {
    return this.deps.reads.hasLiveSession(repoId, userId, except);
  }

  /** The session's changes against its base, bounded per file and overall (see Workspace.diff). */
  async diff(actor: Actor, id: string): Promise<SessionDiff> {
    const session = this.getFor(actor, id);
    if (!session.baseSha) return { files: [], patch: "", truncated: false, notice: null };
    const workspace = await this.workspace(session);
    return workspace.diff(session.worktreePath, session.baseSha, session.branch);
  }

  /**
   * Branch names on the repo's remote, for the New Session page's suggestions. A remote that is
   * slow to answer only costs the page its suggestions, not its load.
   */
  async branchSuggestions(repoId: string): Promise<string[]> {
    const asked = this.deps.mirrors.branches(this.findRepo(repoId)).catch(() => []);
    return Promise.race([asked, Bun.sleep(SUGGESTIONS_WAIT_MS).then(() => [])]);
  }

  /** What ending would do: the files it would save in a commit and the commits not yet pushed. */
  async changes(actor: Actor, id: string): Promise<{ uncommittedFiles: string[]; unpushedCommits: number }> {
    const session = this.getFor(actor, id);
    if (session.state === "failed") return { uncommittedFiles: [], unpushedCommits: 0 };
    const workspace = await this.workspace(session);
    return workspace.changes(session.worktreePath, session.branch);
  }

  /**
   * Whether the active session's worktree is there: a person may delete it by hand in the pod
   * (from its terminal, say), and the session page then offers to restore it.
   */
  async worktree(actor: Actor, id: string): Promise<{ present: boolean }> {
    const session = this.activeFor(actor, id, "looked for");
    const { present } = await (await this.workspace(session)).worktreeState(session.worktreePath);
    return { present };
  }

  /**
   * Makes a worktree deleted by hand again, from the session's branch in the person's clone: the
   * branch's commits come back, and what was never committed went with the deleted directory.
   * The same script that first made it runs again: it prunes git's record of the missing worktree
   * and adds it on the same branch (never a new branch: one deleted meanwhile is said).
   */
  async restoreWorktree(actor: Actor, id: string): Promise<RestoredWorktree> {
    const session = this.activeFor(actor, id, "restored");
    if (actor.kind !== "person") throw forbidden("Only a person can restore a session's worktree.");
    const repo = this.findRepo(session.repoId);
    const workspace = await this.workspace(session);
    return this.cloneLock.run(cloneKey(session), async () => {
      if ((await workspace.worktreeState(session.worktreePath)).present) {
        throw new AppError(409, "worktree_present", "The session's worktree is there; there is nothing to restore.");
      }
      const files = await this.deps.filesFor(session);
      await workspace.prepare({ ...worktreeOf(session, repo, this.ownerName(session)), createdBranch: false, files, mirrorFetched: Promise.resolve() });
      const { head } = await workspace.worktreeState(session.worktreePath, true);
      const at = head ? ` at ${head.sha.slice(0, 10)} (${head.title})` : "";
      return {
        session,
        head: head?.sha ?? null,
        message: `The worktree is back on ${session.branch}${at}, with every commit of the branch. Changes that were never committed were in the deleted directory and are gone. A shell that was in it is still in the deleted directory: cd "$PIER_WORKTREE" takes it to the restored one.`,
      };
    });
  }

  /**
   * Ends a session: its host closes its sockets (4001) and stops its chat and shell; then the
   * repo's cleanup script runs in its worktree, if it has one (a failure is said in the result and
   * ends the session all the same); then its uncommitted work is saved as a commit on its branch,
   * so nothing is lost (what the cleanup wrote too), its worktree goes, and the branch stays.
   */
  async end(actor: Actor, id: string): Promise<EndResult> {
    const session = this.getFor(actor, id);
    if (session.state === "ended") return { session, savedUncommitted: false, unpushedCommits: 0, cleanupError: null };
    if (session.state === "provisioning") {
      throw new AppError(409, "session_provisioning", "The session is still being prepared; end it once it is ready.");
    }
    const host = this.deps.hosts.get(session.id);
    await host?.end();
    // A session that failed to provision was never handed over: there is no work of it to save.
    const { savedCommit, unpushedCommits, cleanupError } =
      session.state === "failed"
        ? { savedCommit: null, unpushedCommits: 0, cleanupError: null }
        : await (async () => {
            const repo = this.findRepo(session.repoId);
            const shell = await this.deps.pods.ensure(repo, session.userId);
            const cleanupScript = repo.cleanupScript;
            const cleanupError = cleanupScript ? await runCleanupScript(shell, session, { name: repo.name, cleanupScript }) : null;
            const workspace = this.deps.pods.workspace(repo, session.userId, shell);
            const message = `Save uncommitted work from Pier session ${session.id}\n\nPier made this commit when the session ended, so nothing was lost.\n`;
            const finished = await this.cloneLock.run(cloneKey(session), () => workspace.finish(session.worktreePath, session.branch, message));
            return { ...finished, cleanupError };
          })();
    this.update(session.id, { state: "ended", endedAt: new Date(), step: null, ...(savedCommit ? { savedCommit } : {}) });
    this.deps.audit.record(actor, "session_ended", sessionTarget(session));
    this.deps.pods.touch(podKeyOf(session));
    if (host) this.deps.hosts.ended(host);
    return { session: this.get(session.id), savedUncommitted: savedCommit !== null, unpushedCommits, cleanupError };
  }

  /** Brings an ended (or failed) session back: same id, same branch, a fresh worktree (so the repo's setup script runs in it). */
  async resume(actor: Actor, id: string): Promise<Session> {
    const session = this.getFor(actor, id);
    if (session.state === "active" || session.state === "provisioning") return session;
    this.assertBranchFree(session.repoId, session.branch, session.id);
    try {
      this.update(session.id, { state: "provisioning", step: "Queued", error: null, endedAt: null });
    } catch (error) {
      if (String(error).includes("UNIQUE")) throw branchInUse(session.branch);
      throw error;
    }
    this.deps.audit.record(actor, "session_resumed", sessionTarget(session));
    this.provisionInBackground(this.get(session.id), this.ownerName(session));
    return this.get(session.id);
  }

  /**
   * After a restart: active sessions get their hosts back (their shells kept running in their
   * pods), and provisioning that was cut off starts again (every step is idempotent).
   */
  resumeAfterRestart(): void {
    for (const session of this.allActive()) this.deps.hosts.active(session);
    for (const session of this.deps.db.select().from(sessions).where(eq(sessions.state, "provisioning")).all()) {
      this.provisionInBackground(session, this.ownerName(session));
    }
  }

  private provisionInBackground(session: Session, username: string, startedAt = performance.now()): void {
    const host = this.deps.hosts.begin(session);
    host.provisioning = traceStart(session.id, startedAt, () => this.provision(host, username)).finally(() => {
      host.provisioning = null;
    });
  }

  private async provision(host: SessionHost, username: string): Promise<void> {
    const { mirrors, pods, hosts } = this.deps;
    const sessionId = host.sessionId;
    let lastStep: string | null = null;
    const report = (event: ProgressEvent) => {
      // The step is only for a page opened later: a full disk must not fail the session over it.
      // A step that only has new lines of output (a setup script's) is written down once.
      try {
        if (event.message !== lastStep) this.update(sessionId, { step: event.message });
        lastStep = event.message;
      } catch (error) {
        if (!isDiskFull(error)) throw error;
      }
      host.progress(event);
    };
    let podFacts: PodFactsOffer | undefined;
    try {
      const session = this.get(sessionId);
      const repo = this.findRepo(session.repoId);
      // The mirror must exist for the pod to mount it. Then the mirror is fetched while the pod is
      // readied and the worktree's script starts in it, which waits there for the fetch.
      await traceStep("mirror: ensure", () => mirrors.ensure(repo));
      const fetched = traceStep("mirror: fetch", async () => {
        report({ step: "clone", message: mirrors.fetched(repo.id) ? "Fetching the latest changes…" : `Cloning ${repo.url}…` });
        const how = await mirrors.update(repo);
        report({ step: "clone", message: how === "cloned" ? "Cloned." : "Fetched.", fraction: 1 });
      });
      // A failed fetch fails the session through prepare below; if the pod fails first, that is the error.
      fetched.catch(() => undefined);
      podFacts = this.deps.podFacts?.(podKeyOf(session));
      let shell = await traceStep("pod: ensure", () => pods.ensure(repo, session.userId, report, sessionId));

      report({ step: "worktree", message: `Preparing the worktree on ${session.branch}…` });
      const legacyClone = pods.legacyClone(podKeyOf(session));
      const files = await this.deps.filesFor(session);
      const prepared = await traceStep("worktree: prepare", () => this.cloneLock.run(cloneKey(session), () =>
        pods.workspace(repo, session.userId, shell).prepare({
          ...worktreeOf(session, repo, username),
          ...(legacyClone ? { legacy: { clone: legacyClone, branches: this.branchesOf(session.repoId, session.userId) } } : {}),
          files,
          mirrorFetched: fetched,
          podFactsFor: podFacts?.dir ?? null,
        }),
      ));
      podFacts?.settle(prepared.podFacts ?? new Error("The worktree's script was not asked about the pod."));
      if (legacyClone) {
        // The person's branches are in their own clone now (prepare took them), so their pod gives
        // up the old shared clone: at once if nothing else of theirs runs in it, else later.
        pods.legacyImported(podKeyOf(session));
        shell = await traceStep("pod: without the shared clone", () => pods.ensure(repo, session.userId, report, sessionId));
      }
      if (prepared.kept.includes(".claude/settings.local.json")) {
        report({ step: "worktree", message: "The repository tracks its own .claude/settings.local.json, so a claude typed in the terminal does not go through Pier's model gateway: it is not metered, and needs a credential of its own." });
      }
      if (prepared.kept.includes(".mcp.json")) {
        report({ step: "worktree", message: "The repository tracks its own .mcp.json, so Pier's MCP servers were not added to it (claude mcp add can add them)." });
      }
      report({ step: "worktree", message: "Worktree ready.", fraction: 1 });
      await traceStep("environment: lifecycle", () =>
        pods.sessionOpening(shell, session, report, (message) => host.sayInTerminal(message)),
      );
      // Once per worktree, in the one made just now (not in one a restart finds made): its output
      // is what the new shell shows first, and a failure is said there, never failing the session.
      const setupScript = repo.setupScript;
      const note = setupScript && prepared.made
        ? await traceStep("setup script", () => runSetupScript(shell, session, { name: repo.name, setupScript }, report))
        : null;

      this.update(sessionId, { state: "active", step: null, podId: shell.pod.id, baseSha: prepared.baseSha });
      pods.touch(podKeyOf(session));
      traceTimed("active", performance.now(), 0);
      host.activate(this.get(sessionId), shell, note);
    } catch (error) {
      podFacts?.settle(error instanceof Error ? error : new Error(String(error)));
      // An engine that went meanwhile fails whichever step was talking to it, in its own words
      // (a socket's error code): the person is told what happened instead.
      // An engine other than the local one names itself in its own error.
      const named = error instanceof AppError && error.code === "engine_unreachable";
      const message = named || (await pods.engineAnswers(podKeyOf(this.get(sessionId)))) ? humanError(error) : engineUnreachable().message;
      hosts.failed(host, message);
      this.recordFailure(sessionId, message);
    }
  }

  /**
   * Whether the branch exists for this person: on the remote (the mirror, fetched once if it
   * lacks it), or as a local branch in their own clone (asked of their pod).
   */
  private async branchExists(repo: Repo, userId: string, branch: string): Promise<boolean> {
    if (await this.deps.mirrors.remoteHasBranch(repo, branch).catch(() => false)) return true;
    if (!this.deps.pods.view(repo.id, userId)) return false;
    const shell = await this.deps.pods.ensure(repo, userId);
    return this.deps.pods.workspace(repo, userId, shell).hasBranch(branch);
  }

  /** The person's workspace of the session's repo, through their pod (started if it was stopped). */
  private async workspace(session: Session) {
    const repo = this.findRepo(session.repoId);
    const shell = await this.deps.pods.ensure(repo, session.userId);
    return this.deps.pods.workspace(repo, session.userId, shell);
  }

  /** Every branch the person's sessions of the repo have worked on. */
  private branchesOf(repoId: string, userId: string): string[] {
    const rows = this.deps.db
      .selectDistinct({ branch: sessions.branch })
      .from(sessions)
      .where(and(eq(sessions.repoId, repoId), eq(sessions.userId, userId)))
      .all();
    return rows.map((row) => row.branch);
  }

  private assertBranchFree(repoId: string, branch: string, exceptSessionId?: string): void {
    const holder = this.deps.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.repoId, repoId), eq(sessions.branch, branch), inArray(sessions.state, LIVE_STATES)))
      .get();
    if (holder && holder.id !== exceptSessionId) throw branchInUse(branch);
  }

  /** A session the actor may see that is active; else 409 saying its worktree cannot be `what` now. */
  private activeFor(actor: Actor, id: string, what: string): Session {
    const session = this.getFor(actor, id);
    if (session.state !== "active") {
      throw new AppError(409, "session_not_active", `The session is ${session.state}; only an active session's worktree can be ${what}.`);
    }
    return session;
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

  /**
   * Provisioning failed: the session says so now, or, when the disk is too full to write it down,
   * as soon as it has room (never left "provisioning" for good: until then a restart provisions it again).
   */
  private recordFailure(id: string, message: string): void {
    // Only over the provisioning that failed: a session resumed meanwhile is not touched.
    const record = () =>
      void this.deps.db.update(sessions).set({ state: "failed", step: null, error: message }).where(and(eq(sessions.id, id), eq(sessions.state, "provisioning"))).run();
    try {
      return record();
    } catch (error) {
      if (!isDiskFull(error)) throw error;
    }
    console.error(`[pier] session ${id} failed (${message}); the disk is too full to record it, so it is tried again every few seconds.`);
    const retry = setInterval(() => {
      try {
        record();
        clearInterval(retry);
      } catch (error) {
        if (!isDiskFull(error)) clearInterval(retry);
      }
    }, FAILURE_RETRY_MS);
    retry.unref();
  }

  private update(id: string, values: Partial<Session>): void {
    this.deps.db.update(sessions).set(values).where(eq(sessions.id, id)).run();
  }
}

/** What makes a session's worktree: where, on which branch, off which base, committing as whom. */
function worktreeOf(session: Session, repo: Repo, username: string) {
  return {
    url: repo.url,
    worktree: session.worktreePath,
    branch: session.branch,
    createdBranch: session.createdBranch,
    baseRef: session.baseRef,
    baseSha: session.baseSha,
    identity: { name: username, email: `${username}@users.pier.local` },
  };
}

function podKeyOf(session: Session): PodKey {
  return { repoId: session.repoId, userId: session.userId };
}

function cloneKey(session: Session): string {
  return `${session.repoId}/${session.userId}`;
}

/** A model the session's ACP agent cannot answer on: of another service than the agent's, or any for an agent on none. */
function modelNotForAgent(message: string): AppError {
  return new AppError(400, "model_not_for_agent", message, "model");
}

function branchInUse(branch: string): AppError {
  return new AppError(409, "branch_in_use", `Another active session is working on ${branch}; end it first or pick another branch.`, "branch");
}

/** The last meaningful line of a git or Docker failure, for a person to read. */
function humanError(error: unknown): string {
  // Pier's own refusals and the environment's failures are sentences for the person already.
  if (error instanceof PodScriptRefusal || (error instanceof AppError && !(error instanceof PodCommandFailure))) return error.message.slice(0, 4000);
  if (isDiskFull(error)) return "The server's disk is full, so the session could not be prepared; try again once an administrator has freed some space.";
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const fatal = lines.find((l) => l.startsWith("fatal:")) ?? lines.at(-1) ?? "Provisioning failed.";
  return fatal.slice(0, 500);
}

/** A session as an audit entry names what was done to it. */
function sessionTarget(session: Session) {
  return { kind: "session", id: session.id, name: session.title };
}
