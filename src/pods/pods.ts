import { and, eq } from "drizzle-orm";
import { lchownSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import { findUser } from "../auth/users.ts";
import type { Db } from "../infra/db.ts";
import { AppError } from "../infra/errors.ts";
import { cloneDir, legacyCloneDir, workspaceDir } from "../repos/layout.ts";
import type { Mirrors } from "../repos/mirrors.ts";
import { getRepo, listRepos, type Repo } from "../repos/repos.ts";
import type { ResolvedEnvironment } from "../environments/environments.ts";
import type { DevcontainerConfig, EnvironmentPort } from "../environments/environment.ts";
import { LifecycleFailure } from "../environments/lifecycle.ts";
import { StepOutput } from "../environments/step-output.ts";
import { parseEnvOutput, withContainerEnv } from "../environments/container-env.ts";
import { ONCE_PER_POD, type OpeningSession, PodLifecycle } from "../environments/pod-lifecycle.ts";
import { MIRROR_HTTP_ROOT } from "../mirror-http/mirror-http.ts";
import { type OrphanPod, type Pod, type PodKey, type PodMount, type PodSpec, type Progress, type Runtime, onPiersDisk, podKeyString } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { Workspace } from "../workspaces/workspace.ts";
import { removeImportedLegacyClone } from "./legacy-layout.ts";
import type { PodCredentials } from "./pod-credentials.ts";
import type { PodServices } from "./pod-services.ts";
import { legacyClones, legacyImports, podRow, pods } from "./tables.ts";

export interface PodView {
  state: "running" | "stopped" | "missing";
  /** The Docker engine it was placed on ("local" on the local runtime, and for every pod from before there were several). */
  dockerEngine: string;
  image: string;
  containerId: string | null;
}

/** Where a pod's environment comes from (see Environments.resolve). */
export interface PodEnvironmentResolver {
  resolve(repo: Repo, key: PodKey, progress: Progress): Promise<ResolvedEnvironment>;
}

export interface PodsDeps {
  db: Db;
  runtime: Runtime;
  dataDir: string;
  /** Where people's workspaces are (PIER_WORKSPACES_DIR). */
  workspacesDir: string;
  defaultImage: string;
  mirrors: Mirrors;
  services: PodServices;
  /** Each pod's credential for its mirror over smart HTTP, revoked here whenever the pod is removed. */
  credentials: PodCredentials;
  /** Where pods reach Pier, or null when they cannot: a pod off Pier's disk fetches the mirror from there. */
  pierUrl(): string | null;
  /** Whether the person has a live session in their pod of the repo, leaving out `except` (the one being started). */
  inUse: (key: PodKey, except?: string) => boolean;
}

/** Where login shells in a Docker pod pick up Pier's PATH addition (the gh wrapper). */
const PROFILE_IN_POD = "/etc/profile.d/pier.sh";

/**
 * The pods: one per repo and person, so people sharing a repo never share a container, a clone
 * or a tmux server, and each may be root in their own. Provisioned through the runtime on demand,
 * recorded here, reconciled with what the engine really has, and stopped when idle.
 */
export class Pods {
  private lastOrphans: OrphanPod[] = [];
  private removingLegacy = new Map<string, Promise<void>>();
  private readyListeners: Array<(key: PodKey, shell: PodShell) => void> = [];
  private connections: Array<(key: PodKey, shell: PodShell) => Promise<void>> = [];
  private rebuiltListeners: Array<(key: PodKey, phase: "before" | "after") => void> = [];
  /** The moves to another engine under way, by pod: its making waits for its move, or it would start again where it is leaving. */
  private moving = new Map<string, Promise<unknown>>();
  /** What a new pod is made from (see connectEnvironments); until connected, the repo's image or the default one. */
  private environments: PodEnvironmentResolver | null = null;
  /** The environment's lifecycle commands, with what has run kept on each pod's row. */
  readonly lifecycle: PodLifecycle;

  constructor(private deps: PodsDeps) {
    this.lifecycle = new PodLifecycle({
      get: (key) => {
        const row = this.deps.db.select().from(pods).where(podRow(key)).get();
        if (!row) return null;
        return { config: configOf(row.envConfig), createdCommandsIn: row.createdCommandsIn, startCommandsFor: row.startCommandsFor };
      },
      set: (key, marks) => void this.deps.db.update(pods).set(marks).where(podRow(key)).run(),
    });
  }

  /** Pods are made from the repositories' environments from now on (they are built after the pods, which they ask about). */
  connectEnvironments(environments: PodEnvironmentResolver): void {
    this.environments = environments;
  }

  /** `listener` is told before and after a person's pod is made again from a new environment (its sessions get a new shell). */
  onRebuilt(listener: (key: PodKey, phase: "before" | "after") => void): void {
    this.rebuiltListeners.push(listener);
  }

  /**
   * `listener` is told each time a pod is ready for work, in the order listeners were added
   * (Pier's copy of Claude Code is placed from here; the sessions learn their pod's container).
   */
  onReady(listener: (key: PodKey, shell: PodShell) => void): void {
    this.readyListeners.push(listener);
  }

  /**
   * `connect` links a pod to Pier before it is handed out (its bridge, on another engine): what
   * runs in it next (a session's git, through the credential helper) dials Pier's sockets at once.
   * Its failure fails the pod's ensure, with its reason, rather than what dials them after.
   */
  onConnect(connect: (key: PodKey, shell: PodShell) => Promise<void>): void {
    this.connections.push(connect);
  }

  /** Whether the engine the person's pod of the repo is on answers now (always, where there is none). */
  engineAnswers(key: PodKey): Promise<boolean> {
    return this.deps.runtime.engineAnswers?.(key) ?? Promise.resolve(true);
  }

  imageFor(repo: Repo): string {
    return repo.image ?? this.deps.defaultImage;
  }

  /**
   * The person's pod for the repo, found, started or created (a pod removed behind Pier's back
   * is re-created), with what Pier's own commands need to work in it. `forSession`: the session
   * being started in it, if that is why.
   *
   * A pod still mounting the repo's old shared clone after its person's branches were taken from
   * it (it holds everyone's saved work) is re-created without it here, but only while none of
   * the person's sessions is live in it but `forSession`: their shells run in it, and what they
   * do is theirs. Their worktrees are in the mounted workspace, so re-creating loses none of
   * their work (only what was installed into the container itself, as any re-creation does).
   */
  async ensure(repo: Repo, userId: string, progress: Progress = () => {}, forSession?: string): Promise<PodShell> {
    await this.moving.get(podKeyString({ repoId: repo.id, userId }))?.catch(() => undefined);
    return this.ensureNow(repo, userId, progress, forSession);
  }

  /**
   * Runs `work`, a move of the person's pod to another engine, while every other making of that
   * pod waits for it to end (a terminal reconnecting, a turn starting); a second move of it is
   * refused while one is under way.
   */
  whileMoving<T>(key: PodKey, work: () => Promise<T>): Promise<T> {
    const id = podKeyString(key);
    if (this.moving.has(id)) throw new AppError(409, "pod_moving", "This pod is being moved already; wait for that move to end.");
    const running = work().finally(() => this.moving.delete(id));
    this.moving.set(id, running);
    return running;
  }

  /** Whether a move of the person's pod to another engine is under way in this process. */
  isMoving(key: PodKey): boolean {
    return this.moving.has(podKeyString(key));
  }

  /** Makes the pod on the engine it was just moved to: the move holds the pod (see whileMoving), so this does not wait for it. */
  ensureMoved(repo: Repo, userId: string, progress: Progress): Promise<PodShell> {
    return this.ensureNow(repo, userId, progress);
  }

  /** The pod whose container has this id (the API's pod id, as a session's podId says), or null. */
  keyOfContainer(containerId: string): PodKey | null {
    const row = this.deps.db.select({ repoId: pods.repoId, userId: pods.userId }).from(pods).where(eq(pods.containerId, containerId)).get();
    return row ?? null;
  }

  /** What the person's pod of the repo is made from, for the runtime's parts of a move (its workspace, where it goes). */
  specFor(repo: Repo, userId: string): PodSpec {
    return this.spec(repo, { repoId: repo.id, userId });
  }

  /** The pod's credential for the mirror stops working (its container is going; the next one gets a new one). */
  revokeCredential(key: PodKey): void {
    this.deps.credentials.revoke(key);
  }

  private async ensureNow(repo: Repo, userId: string, progress: Progress = () => {}, forSession?: string): Promise<PodShell> {
    const key = { repoId: repo.id, userId };
    this.prepareWorkspace(key);
    await this.deps.mirrors.ensure(repo);
    const spec = this.spec(repo, key);
    // Placed before its programs are written: where they dial Pier depends on the engine.
    this.deps.runtime.place?.(spec);
    await this.deps.services.open(key, this.deps.mirrors.path(repo.id));
    let pod = await this.deps.runtime.ensurePod(spec, progress);
    if (this.mountsOldCloneNeedlessly(key, pod) && !this.deps.inUse(key, forSession)) {
      progress({ step: "pod", message: "Re-creating your pod without the shared clone from before pods were per person…" });
      await this.remove(key);
      pod = await this.deps.runtime.ensurePod(this.spec(repo, key), progress);
    }
    this.record(key, { containerId: pod.id, image: pod.image, state: "running" }, true);
    const shell = { runtime: this.deps.runtime, pod, cwd: workspaceDir(this.deps.workspacesDir, repo.id, userId), gitConfig: this.deps.services.gitConfig(key) };
    for (const connect of this.connections) await connect(key, shell);
    for (const listener of this.readyListeners) listener(key, shell);
    return shell;
  }

  /** The person's pod while it runs, with nothing started, created or recorded (the disk watch looks in it so). */
  async runningShell(key: PodKey): Promise<PodShell | null> {
    const status = await this.deps.runtime.inspectPod(key);
    if (status?.state !== "running" || status.making) return null;
    const pod = { id: status.id, dockerEngine: status.dockerEngine, image: status.image };
    return { runtime: this.deps.runtime, pod, cwd: workspaceDir(this.deps.workspacesDir, key.repoId, key.userId), gitConfig: this.deps.services.gitConfig(key) };
  }

  /**
   * The person's clone and worktrees of the repo, worked on through their pod. A pod on Pier's
   * disk fetches from the mirror's directory, which it mounts; one off it (another Docker engine)
   * from the mirror's smart HTTP at Pier's address, with its own credential from its helper.
   */
  workspace(repo: Repo, userId: string, shell: PodShell): Workspace {
    const key = { repoId: repo.id, userId };
    return new Workspace(shell, {
      clone: cloneDir(this.deps.workspacesDir, repo.id, userId),
      mirror: onPiersDisk(shell.pod) ? this.deps.mirrors.path(repo.id) : this.mirrorUrl(repo.id),
      credentialHelper: this.deps.services.credentialHelper(key),
    });
  }

  private mirrorUrl(repoId: string): string {
    const pier = this.deps.pierUrl();
    if (!pier) {
      throw new AppError(503, "pier_unreachable_from_pod", "This pod is on another Docker engine and fetches the repository from Pier over HTTP, but pods cannot reach Pier: an admin sets PIER_POD_URL, or a pod network other than none.");
    }
    return `${pier}${MIRROR_HTTP_ROOT}${repoId}.git`;
  }

  /**
   * The shared clone from before pods were per person, while the person has yet to take their
   * branches from it (their pod mounts it read-only until then); null once they have, or if the
   * repo never had one.
   */
  legacyClone(key: PodKey): string | null {
    const legacy = this.deps.db.select().from(legacyClones).where(eq(legacyClones.repoId, key.repoId)).get();
    if (!legacy) return null;
    const imported = this.deps.db.select().from(legacyImports).where(and(eq(legacyImports.repoId, key.repoId), eq(legacyImports.userId, key.userId))).get();
    return imported ? null : legacy.path;
  }

  /**
   * The person's branches were taken from the old shared clone into their own: their pod need not
   * mount it any more; once everyone's are, it is removed (in the background: nobody waits on it).
   */
  legacyImported(key: PodKey): void {
    this.deps.db.insert(legacyImports).values({ ...key, importedAt: new Date() }).onConflictDoNothing().run();
    const running = this.removingLegacy.get(key.repoId);
    if (running) return;
    const removal = removeImportedLegacyClone({ db: this.deps.db, dataDir: this.deps.dataDir, workspacesDir: this.deps.workspacesDir, runtime: this.deps.runtime, imageFor: (repoId) => this.imageFor(getRepo(this.deps.db, repoId)) }, key.repoId)
      .then(() => undefined)
      .finally(() => this.removingLegacy.delete(key.repoId));
    this.removingLegacy.set(key.repoId, removal);
  }

  /** Resolves when the removals of old shared clones under way are done (a closing Pier waits for them). */
  settled(): Promise<void> {
    return Promise.all(this.removingLegacy.values()).then(() => undefined);
  }

  view(repoId: string, userId: string): PodView | null {
    const row = this.deps.db.select().from(pods).where(podRow({ repoId, userId })).get();
    return row ? { state: row.state, dockerEngine: row.dockerEngine, image: row.image, containerId: row.containerId } : null;
  }

  /** The environment the person's pod was made from (its content hash; null for a plain image), and whether there is one. */
  environmentOf(key: PodKey): { exists: boolean; envHash: string | null } {
    const row = this.deps.db.select({ state: pods.state, envHash: pods.envHash }).from(pods).where(podRow(key)).get();
    return { exists: row !== undefined && row.state !== "missing", envHash: row?.envHash ?? null };
  }

  /** Whether anyone has a pod of the repo (running, stopped or gone behind Pier's back). */
  hasAny(repoId: string): boolean {
    return this.deps.db.select({ repoId: pods.repoId }).from(pods).where(eq(pods.repoId, repoId)).get() !== undefined;
  }

  /** The environment's remoteEnv for commands and shells in the person's pod (none for a plain image). */
  remoteEnv(key: PodKey): Record<string, string> {
    return remoteEnvOf(this.marksConfig(key));
  }

  /**
   * The ports the repository names for the person's pod (its devcontainer's forwardPorts, with
   * portsAttributes' labels and which one is the app to open first), as the pod was made; none
   * for a pod not made from a devcontainer. Previews label the listening ports with them.
   */
  portLabels(key: PodKey): EnvironmentPort[] {
    return this.marksConfig(key)?.ports ?? [];
  }

  /**
   * Makes the person's pod of the repo again from the repository's environment now: the container
   * goes (what was installed into it with it), their workspace stays (it is mounted, not in the
   * container), the once-per-pod commands run again in `worktree` (a live session's, if they have
   * one; else at their next session), and their live sessions are told (each gets a new shell in
   * the same worktree).
   */
  async recreate(repo: Repo, userId: string, progress: Progress, worktree: string | null): Promise<void> {
    const key = { repoId: repo.id, userId };
    // Built first, while the old pod still serves: a build that fails leaves the person their pod.
    await this.environments?.resolve(repo, key, progress);
    for (const listener of this.rebuiltListeners) listener(key, "before");
    await this.remove(key);
    const shell = await this.ensure(repo, userId, progress);
    const config = this.marksConfig(key);
    if (worktree && config) await this.runLifecycle(shell, key, progress, { worktree, attach: false, env: remoteEnvOf(config), late: () => {} });
    for (const listener of this.rebuiltListeners) listener(key, "after");
  }

  /**
   * The person's pod of the repo, made and started ahead of their first session (a repo's
   * warmPods): the image built, the container running. Its once-per-pod commands run in the
   * first session's worktree, which has the repository's files.
   */
  async warm(repo: Repo, userId: string): Promise<void> {
    await this.ensure(repo, userId);
  }

  /**
   * What the environment asks for as a session opens in the pod (see PodLifecycle): nothing, and
   * not a call to the engine, for a pod that was not made from a devcontainer. `late` hears of a
   * step after waitFor that failed once the session was open.
   */
  async sessionOpening(shell: PodShell, session: { id: string; repoId: string; userId: string; worktreePath: string }, progress: Progress, late: (message: string) => void): Promise<void> {
    const key = { repoId: session.repoId, userId: session.userId };
    const config = this.marksConfig(key);
    if (!config) return;
    const env = { ...remoteEnvOf(config), PIER_SESSION_ID: session.id, PIER_WORKTREE: session.worktreePath };
    try {
      await this.runLifecycle(shell, key, progress, { worktree: session.worktreePath, attach: true, env, late });
    } catch (error) {
      // A pod whose making never finished is no use to anyone: it goes (the workspace stays), so
      // that Try again makes it anew from the repository's configuration as it is then (a fix).
      if (!(error instanceof LifecycleFailure) || !ONCE_PER_POD.includes(error.step) || this.deps.inUse(key, session.id)) throw error;
      await this.remove(key).catch(() => undefined);
      throw new LifecycleFailure(error.step, `${error.message}\nThe pod was set aside; Try again makes it anew from the repository's configuration as it is then.`);
    }
  }

  /** The pod's lifecycle commands (see PodLifecycle.opening), shown on the Environment step as they run. */
  private async runLifecycle(shell: PodShell, key: PodKey, progress: Progress, opening: Omit<OpeningSession, "begin" | "show">): Promise<void> {
    const startedAt = (await this.deps.runtime.podStartedAt?.(shell.pod)) ?? null;
    const output = new StepOutput(progress);
    await this.lifecycle.opening(shell, key, { ...opening, begin: (name) => output.begin(name), show: (lines) => output.show(lines) }, startedAt);
    output.done();
  }

  /** remoteEnv with the new pod's own variables put in (see withContainerEnv); as written if the pod cannot say. */
  private async remoteEnvIn(pod: Pod, remoteEnv: Record<string, string>): Promise<Record<string, string>> {
    const env = await this.deps.runtime.exec(pod, ["env"], { cwd: "/", timeoutMs: 30_000, maxOutputBytes: 256 * 1024 }).catch(() => null);
    return env?.exitCode === 0 ? withContainerEnv(remoteEnv, parseEnvOutput(env.stdout)) : remoteEnv;
  }

  private marksConfig(key: PodKey): DevcontainerConfig | null {
    return configOf(this.deps.db.select({ envConfig: pods.envConfig }).from(pods).where(podRow(key)).get()?.envConfig ?? null);
  }

  /** Restarts the idle clock: a session in the pod started or ended. */
  touch(key: PodKey): void {
    this.deps.db.update(pods).set({ lastActiveAt: new Date() }).where(podRow(key)).run();
  }

  /** Brings every recorded pod in line with the engine; returns the containers nobody owns. */
  async reconcile(): Promise<OrphanPod[]> {
    for (const row of this.deps.db.select().from(pods).all()) {
      // A pod on an engine that is not answering is left as it was: the engine is the truth, and it says nothing now.
      const status = await this.deps.runtime.inspectPod(row).catch(unlessEngineDown);
      if (status === ENGINE_DOWN) continue;
      // A container still being made is not the pod yet: its maker records it once it is (and one
      // whose making was cut off is made again at the pod's next start).
      if (status?.making) continue;
      const next = status
        ? { containerId: status.id, image: status.image, state: status.state }
        : { containerId: null, image: row.image, state: "missing" as const };
      if (next.state !== row.state || next.containerId !== row.containerId) this.record(row, next, false);
      // A pod removed behind Pier's back is removed all the same: its credential goes with it.
      if (next.state === "missing") this.deps.credentials.revoke(row);
    }
    const repoIds = new Set(listRepos(this.deps.db).map((r) => r.id));
    this.lastOrphans = await this.deps.runtime.listOrphans(({ repoId, userId }) => repoIds.has(repoId) && findUser(this.deps.db, userId) !== null);
    return this.lastOrphans;
  }

  /** Containers labelled as this Pier's whose repo or person is gone, as of the last reconciliation (for admins). */
  orphans(actor: Actor): OrphanPod[] {
    assertAdmin(actor);
    return this.lastOrphans;
  }

  /**
   * Stops running pods with no live session whose last session activity is older than the idle
   * time. A pod with a live session is never stopped; `inUse` says which have one.
   */
  async stopIdle(idleMinutes: number, inUse: (key: PodKey) => boolean, now = Date.now()): Promise<PodKey[]> {
    const stopped: PodKey[] = [];
    // A repo's warm pods stay started: that is what they are for.
    const warm = new Set(listRepos(this.deps.db).filter((repo) => repo.warmPods).map((repo) => repo.id));
    for (const row of this.deps.db.select().from(pods).where(eq(pods.state, "running")).all()) {
      if (now - row.lastActiveAt.getTime() < idleMinutes * 60_000) continue;
      if (inUse(row)) continue;
      if (warm.has(row.repoId)) continue;
      if ((await this.deps.runtime.stopPod(row).catch(unlessEngineDown)) === ENGINE_DOWN) continue;
      this.record(row, { containerId: row.containerId, image: row.image, state: "stopped" }, false);
      stopped.push({ repoId: row.repoId, userId: row.userId });
    }
    return stopped;
  }

  /** Removes every pod of the repo (the repo is being removed); files in the data dir stay. */
  async removeAll(repoId: string): Promise<void> {
    for (const row of this.deps.db.select().from(pods).where(eq(pods.repoId, repoId)).all()) {
      await this.remove(row);
    }
    this.deps.db.delete(pods).where(eq(pods.repoId, repoId)).run();
  }

  /**
   * Removes the person's pod (its container; the workspace stays). Its credential for the mirror
   * is revoked first, so nothing that kept a copy of it (a process of the old container, a file
   * someone wrote it to) reads the mirror after the pod is gone; a new pod gets a new one.
   */
  private async remove(key: PodKey): Promise<void> {
    this.deps.credentials.revoke(key);
    await this.deps.runtime.removePod(key);
  }

  /**
   * A container made for the person's pod is written down with the configuration its environment
   * resolved to (`resolved`, unless there are no environments yet), before the runtime takes it as
   * made: its lifecycle commands, remoteEnv and ports come from here, so a making cut off before
   * this is never taken for a finished pod.
   */
  private async made(key: PodKey, pod: Pod, resolved: { config?: DevcontainerConfig | null }): Promise<void> {
    if (!("config" in resolved)) return;
    let config = resolved.config ?? null;
    if (config && Object.values(config.remoteEnv).some((value) => value.includes("${containerEnv:"))) {
      config = { ...config, remoteEnv: await this.remoteEnvIn(pod, config.remoteEnv) };
    }
    const environment = { envHash: pod.envHash ?? null, envConfig: config ? JSON.stringify(config) : null };
    const now = new Date();
    // Which container the pod is, a row already there says once the container is made (see ensureNow):
    // a making that fails after this (a move's target refusing it) leaves it naming the pod that still is.
    this.deps.db
      .insert(pods)
      .values({ ...key, containerId: pod.id, image: pod.image, state: "running", ...environment, lastActiveAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: [pods.repoId, pods.userId], set: { ...environment, updatedAt: now } })
      .run();
  }

  /** The pod's spec, as the runtime makes it (what its environment resolved to is kept for `made`). */
  private spec(repo: Repo, key: PodKey): PodSpec {
    const { workspacesDir, mirrors, services } = this.deps;
    const workDir = workspaceDir(workspacesDir, key.repoId, key.userId);
    const mounts: PodMount[] = [
      { path: workDir, readOnly: false },
      { path: mirrors.path(repo.id), readOnly: true },
      { path: services.dir(key), readOnly: true },
      { path: services.profile(key), target: PROFILE_IN_POD, readOnly: true },
    ];
    const legacy = this.legacyClone(key);
    if (legacy) mounts.push({ path: legacy, readOnly: true });
    const environments = this.environments;
    const resolved: { config?: DevcontainerConfig | null } = {};
    // Off Pier's disk, the workspace is a volume of the pod's engine, and Pier's files are written into the pod.
    const remote = {
      workspaceVolume: `pier-ws-${key.repoId}-${key.userId}`,
      files: async () => [...(await services.podFiles(key, mirrors.path(repo.id))), { path: PROFILE_IN_POD, linkTo: services.profile(key) }],
    };
    return {
      key,
      placement: { dockerEngine: repo.dockerEngine, labels: repo.dockerEngineLabels },
      repoName: repo.name,
      username: findUser(this.deps.db, key.userId)?.username ?? "someone",
      image: this.imageFor(repo),
      workDir,
      mounts,
      remote,
      made: (pod) => this.made(key, pod, resolved),
      cutOff: (containerId) => this.lifecycle.cutOff(key, containerId),
      ...(environments
        ? {
            environment: async (progress: Progress) => {
              const environment = await environments.resolve(repo, key, progress);
              resolved.config = environment.config;
              return environment.pod;
            },
          }
        : {}),
    };
  }

  /**
   * Makes the person's workspace directory, handed to the pod user. Its parents are the
   * server's; the directory itself is made here once (it is the pod's mount point after that, so
   * the pod can change what is inside but never replace it with a link).
   */
  private prepareWorkspace(key: PodKey): void {
    const dir = workspaceDir(this.deps.workspacesDir, key.repoId, key.userId);
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
      throw error;
    }
    const owner = this.deps.runtime.fileOwner;
    if (owner) lchownSync(dir, owner.uid, owner.gid);
  }

  /** Whether the pod mounts the repo's old shared clone though its person no longer needs it (or it is gone). */
  private mountsOldCloneNeedlessly(key: PodKey, pod: Pod): boolean {
    return (pod.mounts ?? []).includes(legacyCloneDir(this.deps.dataDir, key.repoId)) && this.legacyClone(key) === null;
  }

  private record(key: PodKey, pod: Omit<PodView, "dockerEngine"> & { envHash?: string | null; envConfig?: string | null }, active: boolean): void {
    const now = new Date();
    this.deps.db
      .insert(pods)
      .values({ repoId: key.repoId, userId: key.userId, ...pod, lastActiveAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: [pods.repoId, pods.userId], set: { ...pod, updatedAt: now, ...(active ? { lastActiveAt: now } : {}) } })
      .run();
  }
}

const ENGINE_DOWN = Symbol("engine down");

/** An engine that is not answering (one of several) is passed over; any other failure is one. */
function unlessEngineDown(error: unknown): typeof ENGINE_DOWN {
  if (error instanceof AppError && error.code === "engine_unreachable") return ENGINE_DOWN;
  throw error;
}

/** The devcontainer configuration a pod's row keeps (JSON), or none for a pod of a plain image. */
function configOf(json: string | null): DevcontainerConfig | null {
  return json ? (JSON.parse(json) as DevcontainerConfig) : null;
}

/** The environment's remoteEnv for shells and commands: a login shell's /etc/profile sets PATH anew, so Pier's profile.sh puts the environment's back from PIER_REMOTE_PATH. */
function remoteEnvOf(config: DevcontainerConfig | null): Record<string, string> {
  const remoteEnv = { ...config?.remoteEnv };
  return remoteEnv.PATH ? { ...remoteEnv, PIER_REMOTE_PATH: remoteEnv.PATH } : remoteEnv;
}
