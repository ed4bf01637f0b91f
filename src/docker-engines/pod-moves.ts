import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { AppError, errorMessage, invalid, notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import type { Pods, PodView } from "../pods/pods.ts";
import type { Repo } from "../repos/repos.ts";
import { type PodKey, type Progress, podKeyString } from "../runtime/runtime.ts";
import { type DockerEngine, type DockerEngines, LOCAL_ENGINE } from "./docker-engines.ts";
import type { MovePodInput } from "./engine-input.ts";
import type { PlacedRuntime } from "./placed-runtime.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A move of a pod to another engine began, ended, or failed (topic: the pod's key, see podKeyString): what its sessions' pages say. */
    "pod.move": { repoId: string; userId: string; state: "moving" | "moved" | "failed"; notice: string };
  }
}

/** What a move needs of the live sessions in the pod being moved. */
export interface MoveSessions {
  /** The live sessions in the person's pod of the repo. */
  of(key: PodKey): string[];
  /** Stops what the session runs in its pod (its chat's turn, its agent's processes); the session stays active, its worktree as it is. */
  pause(sessionId: string, terminalNote: string): Promise<void>;
  /** The pod is running again (moved, or left where it was): the session's terminal opens again, `terminalNote` first. */
  resume(sessionId: string, terminalNote: string): void;
}

export interface PodMovesDeps {
  engines: DockerEngines;
  runtime: PlacedRuntime | null;
  pods: Pods;
  repoOf(repoId: string): Repo;
  sessions: MoveSessions;
  audit: AuditLog;
  bus: EventBus;
  log?(line: string): void;
}

/** What `POST /api/pods/:id/move` answers: the pod as it stands (still on its engine) and where it is going. */
export interface MoveStarted {
  repoId: string;
  userId: string;
  pod: PodView | null;
  movingTo: string;
}

/**
 * Moving a person's pod to another Docker engine (`POST /api/pods/:id/move`, admins): refused
 * with a sentence, changing nothing, unless the target takes it now; then, in the background, the
 * pod's sessions stop what they run in it, the pod stops, its workspace is copied (a tar stream
 * out of the one engine and into the other: uncommitted files, every branch and commit of the
 * person's clone), the pod is placed on the target and made there, and the old container goes.
 * The old copy of the workspace is removed only once the new pod has started. A failure at any
 * step before that puts the placement back: the pod starts again where it was, with its work.
 * Its sessions stay active throughout; their pages say what is happening.
 */
export class PodMoves {
  /** What the pages of the sessions in a pod being moved say now, by pod. */
  private notices = new Map<string, string>();

  constructor(private deps: PodMovesDeps) {}

  /** What a session page in the pod shows while it is being moved (null when it is not). */
  noticeFor(key: PodKey): string | null {
    return this.notices.get(podKeyString(key)) ?? null;
  }

  /** Checks the move and starts it; resolves with what was started while the move runs on (how it ends is told to the pod's sessions). */
  async start(actor: Actor, podId: string, input: MovePodInput): Promise<MoveStarted> {
    assertAdmin(actor);
    const runtime = this.deps.runtime;
    if (!runtime) throw new AppError(409, "no_docker_engines", "Pier runs sessions as processes on its own machine here: there is no Docker engine to move a pod to.");
    const key = this.deps.pods.keyOfContainer(podId);
    if (!key) throw notFound("pod");
    const repo = this.deps.repoOf(key.repoId);
    const engines = this.deps.engines;
    const from = engines.get(engines.placementOf(key) ?? LOCAL_ENGINE);
    const to = engines.find(input.dockerEngine);
    if (!to) throw invalid("dockerEngine", `There is no Docker engine named ${input.dockerEngine}.`);
    if (to.id === from.id) throw new AppError(409, "same_engine", `The pod is on the Docker engine ${to.name} already.`);
    if (to.draining) throw new AppError(409, "engine_draining", `The Docker engine ${to.name} is draining and takes no new pods; stop draining it first, or choose another.`);
    if (repo.dockerEngine !== null && repo.dockerEngine !== to.id) {
      throw new AppError(409, "repo_pinned", `The repository ${repo.name} is pinned to another Docker engine; pin it to ${to.name} (or unpin it) first.`);
    }
    const missing = repo.dockerEngineLabels.filter((label) => !to.labels.includes(label));
    if (missing.length > 0) throw new AppError(409, "engine_lacks_labels", `The repository ${repo.name} needs engines labelled ${missing.join(", ")}, which ${to.name} is not.`);
    // Both engines must answer before anything stops: a refusal leaves the pod running as it was.
    for (const engine of [to, from]) {
      if (!(await runtime.engineAnswersNow(engine.id))) throw new AppError(503, "engine_unreachable", `The Docker engine ${engine.name} is not answering, so the pod stays where it is; try again once it answers.`);
    }
    // A failure is told to the pod's sessions and logged where it happens (see move).
    void this.deps.pods.whileMoving(key, () => this.move(runtime, key, repo, from, to)).catch(() => undefined);
    this.deps.audit.record(actor, "pod_moved", { kind: "pod", id: podId, name: repo.name }, { detail: `${from.name} → ${to.name}` });
    return { repoId: key.repoId, userId: key.userId, pod: this.deps.pods.view(key.repoId, key.userId), movingTo: to.id };
  }

  private async move(runtime: PlacedRuntime, key: PodKey, repo: Repo, from: DockerEngine, to: DockerEngine): Promise<void> {
    const sessions = this.deps.sessions.of(key);
    const spec = this.deps.pods.specFor(repo, key.userId);
    // The helper containers that copy the workspace are made from the pod's own image, which its engine has.
    const image = (await runtime.inspectPod(key))?.image ?? this.deps.pods.imageFor(repo);
    const progress: Progress = (event) => this.tell(key, "moving", `Moving your pod to ${to.name}: ${event.message}`);
    this.tell(key, "moving", `Moving your pod to ${to.name}…`);
    try {
      const note = `Pier: your pod is moving to the Docker engine ${to.name}; this shell opens again there, in the same worktree.`;
      await Promise.all(sessions.map((sessionId) => this.deps.sessions.pause(sessionId, note)));
      await runtime.stopPod(key);
      // A container of this pod left on the target by an earlier move would be started there instead of a new one.
      await runtime.removePodFrom(to.id, key);
      this.tell(key, "moving", `Moving your pod to ${to.name}: copying your workspace…`);
      await runtime.copyWorkspace(spec, image, to.id, progress).catch(async (error: unknown) => {
        await runtime.dropWorkspaceFrom(to.id, spec, image).catch(() => undefined);
        throw error;
      });
      this.deps.pods.revokeCredential(key);
      runtime.placeOn(key, to.id, image);
      await this.deps.pods.ensureMoved(repo, key.userId, progress).catch(async (error: unknown) => {
        // Back where it was: its old container (stopped, not removed) starts again at the next action, with its workspace as it left it.
        runtime.placeOn(key, from.id, image);
        await runtime.removePodFrom(to.id, key).catch(() => undefined);
        await runtime.dropWorkspaceFrom(to.id, spec, image).catch(() => undefined);
        throw error;
      });
    } catch (error) {
      const why = errorMessage(error);
      this.tell(key, "failed", `Your pod could not be moved to ${to.name} (${why}); it stays on ${from.name}, with all your work.`);
      for (const sessionId of sessions) this.deps.sessions.resume(sessionId, `Pier: your pod could not be moved to ${to.name}; it stays on ${from.name}. This is a new shell in the same worktree.`);
      this.deps.log?.(`[pier] moving the pod ${podKeyString(key)} to ${to.name} failed: ${why}`);
      throw error;
    }
    const kept = await this.removeOld(runtime, key, spec, image, from);
    this.tell(key, "moved", `Your pod moved to ${to.name}: your worktree and uncommitted changes came with it.${kept}`);
    for (const sessionId of sessions) this.deps.sessions.resume(sessionId, `Pier: your pod moved to the Docker engine ${to.name}; this is a new shell in the same worktree.`);
  }

  /** The old container and workspace go once the new pod has started; what could not be removed is said (and stays, harmless: the pod is placed elsewhere). */
  private async removeOld(runtime: PlacedRuntime, key: PodKey, spec: ReturnType<Pods["specFor"]>, image: string, from: DockerEngine): Promise<string> {
    try {
      await runtime.removePodFrom(from.id, key);
      await runtime.dropWorkspaceFrom(from.id, spec, image);
      return "";
    } catch (error) {
      this.deps.log?.(`[pier] after moving the pod ${podKeyString(key)}, its old copy on ${from.name} could not be removed: ${errorMessage(error)}`);
      return ` Its old copy on ${from.name} could not be removed and is kept there.`;
    }
  }

  private tell(key: PodKey, state: "moving" | "moved" | "failed", notice: string): void {
    if (state === "moving") this.notices.set(podKeyString(key), notice);
    else this.notices.delete(podKeyString(key));
    this.deps.bus.publish("pod.move", podKeyString(key), { ...key, state, notice });
  }
}
