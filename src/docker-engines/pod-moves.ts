import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { AppError, errorMessage, invalid, notFound } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import type { Pods, PodView } from "../pods/pods.ts";
import type { Repo } from "../repos/repos.ts";
import { type PodKey, type PodSpec, type Progress, podKeyString } from "../runtime/runtime.ts";
import { type DockerEngine, type DockerEngines, LOCAL_ENGINE } from "./docker-engines.ts";
import type { MovePodInput } from "./engine-input.ts";
import type { MoveRecord, MoveRecords } from "./move-records.ts";
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
  records: MoveRecords;
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
 * with a sentence, changing nothing, unless the target takes it now; then, in the background, in
 * three steps, each written down as it is reached (MoveRecords), with what undoes it:
 *
 * 1. copying: the pod's sessions stop what they run in it, the pod stops, and its workspace is
 *    copied (a tar stream out of the one engine and into the other: uncommitted files, every
 *    branch and commit of the person's clone). Undone by removing what reached the target.
 * 2. placed: the copy is whole; the pod is placed on the target and made there. Undone by
 *    placing it back where it was (its old container and workspace are untouched, and start
 *    again at the next action) and removing what it has on the target.
 * 3. made: the pod runs on the target; its old container and workspace go. Never undone.
 *
 * A failure in step 1 or 2 undoes the move: the pod starts again where it was, with its work. A
 * Pier killed in the middle of a move takes it up from its step when it starts again
 * (settleUnfinished): step 1 is undone, step 2 finished (or undone if the target cannot make the
 * pod), step 3 finished. What could not be removed from an engine that was not answering stays
 * written down and is removed at the next reconciliation, start-up or move of the pod.
 * The pod's sessions stay active throughout; their pages say what is happening.
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
    await this.settleEarlier(runtime, key);
    // A failure is told to the pod's sessions and logged where it happens (see move).
    void this.deps.pods.whileMoving(key, () => this.move(runtime, key, repo, from, to)).catch(() => undefined);
    this.deps.audit.record(actor, "pod_moved", { kind: "pod", id: podId, name: repo.name }, { detail: `${from.name} → ${to.name}` });
    return { repoId: key.repoId, userId: key.userId, pod: this.deps.pods.view(key.repoId, key.userId), movingTo: to.id };
  }

  /**
   * Takes up every move written down that is not running in this process (its Pier was killed,
   * or what it left on an engine that was not answering is still to be removed) from the step
   * it reached; each holds its pod meanwhile, as a move does. At start-up, and at each
   * reconciliation of the pods.
   */
  settleUnfinished(): Promise<void> {
    const runtime = this.deps.runtime;
    if (!runtime) return Promise.resolve();
    const unfinished = this.deps.records.all().filter((record) => !this.deps.pods.isMoving(record));
    const settling = unfinished.map((record) =>
      this.deps.pods.whileMoving(record, () => this.settle(runtime, record)).catch((error: unknown) => {
        this.deps.log?.(`[pier] the unfinished move of the pod ${podKeyString(record)} could not be taken up: ${errorMessage(error)}`);
      }),
    );
    return Promise.all(settling).then(() => undefined);
  }

  private async move(runtime: PlacedRuntime, key: PodKey, repo: Repo, from: DockerEngine, to: DockerEngine): Promise<void> {
    const sessions = this.deps.sessions.of(key);
    const spec = this.deps.pods.specFor(repo, key.userId);
    // The helper containers that copy the workspace are made from the pod's own image, which its engine has.
    const image = (await runtime.inspectPod(key))?.image ?? this.deps.pods.imageFor(repo);
    this.tell(key, "moving", `Moving your pod to ${to.name}…`);
    let record: MoveRecord | null = null;
    try {
      // 1. copying
      record = this.deps.records.begin(key, from.id, to.id, image);
      const note = `Pier: your pod is moving to the Docker engine ${to.name}; this shell opens again there, in the same worktree.`;
      await Promise.all(sessions.map((sessionId) => this.deps.sessions.pause(sessionId, note)));
      await runtime.stopPod(key);
      // A container of this pod left on the target (by hand, or before moves were written down) would be started there instead of a new one.
      await runtime.removePodFrom(to.id, key);
      this.tell(key, "moving", `Moving your pod to ${to.name}: copying your workspace…`);
      await runtime.copyWorkspace(spec, image, to.id, this.progress(key, to));
      // 2. placed
      record = this.deps.records.placedOnTarget(record);
      await this.makeOnTarget(record, repo, to);
    } catch (error) {
      if (record) await this.undo(runtime, record, spec);
      this.tellFailed(key, from, to, error);
      for (const sessionId of sessions) this.deps.sessions.resume(sessionId, `Pier: your pod could not be moved to ${to.name}; it stays on ${from.name}. This is a new shell in the same worktree.`);
      this.deps.log?.(`[pier] moving the pod ${podKeyString(key)} to ${to.name} failed: ${errorMessage(error)}`);
      throw error;
    }
    // 3. made
    await this.finish(runtime, record, spec, from, to);
    for (const sessionId of sessions) this.deps.sessions.resume(sessionId, `Pier: your pod moved to the Docker engine ${to.name}; this is a new shell in the same worktree.`);
  }

  /** A move a killed Pier left (or one whose leftovers are still to be removed), taken up from its step. */
  private async settle(runtime: PlacedRuntime, record: MoveRecord): Promise<void> {
    const repo = this.deps.repoOf(record.repoId);
    const spec = this.deps.pods.specFor(repo, record.userId);
    const from = this.engineNamed(record.fromEngine);
    const to = this.engineNamed(record.toEngine);
    switch (record.step) {
      case "copying":
        // Cut off before the copy on the target was whole (or already undone): the pod never left.
        await this.undo(runtime, record, spec);
        return;
      case "placed":
        // The copy on the target is whole and the old one untouched: the pod is made there now, as the move would have.
        this.tell(record, "moving", `Moving your pod to ${to.name}…`);
        try {
          await this.makeOnTarget(record, repo, to);
        } catch (error) {
          await this.undo(runtime, record, spec);
          this.tellFailed(record, from, to, error);
          this.deps.log?.(`[pier] finishing the move of the pod ${podKeyString(record)} to ${to.name} failed: ${errorMessage(error)}`);
          return;
        }
        await this.finish(runtime, record, spec, from, to);
        return;
      case "made":
        // The pod ran on the target: only its old copy is left to remove.
        await this.removeOld(runtime, record, spec, from);
    }
  }

  /** What an earlier move of the pod left on an engine is removed before another starts (whose record takes its place); until it can be, the pod stays. */
  private async settleEarlier(runtime: PlacedRuntime, key: PodKey): Promise<void> {
    const earlier = this.deps.records.of(key);
    if (!earlier) return;
    await this.deps.pods.whileMoving(key, () => this.settle(runtime, earlier));
    const left = this.deps.records.of(key);
    if (left) {
      const engine = this.engineNamed(left.step === "made" ? left.fromEngine : left.toEngine);
      throw new AppError(409, "pod_move_unfinished", `An earlier move left a copy of this pod on the Docker engine ${engine.name}, which could not be removed yet; try again once ${engine.name} answers.`);
    }
  }

  /** Step 2: the pod, placed on the target with its whole copy, is made there (its old credential for the mirror goes with the old container). */
  private async makeOnTarget(record: MoveRecord, repo: Repo, to: Pick<DockerEngine, "name">): Promise<void> {
    this.deps.pods.revokeCredential(record);
    await this.deps.pods.ensureMoved(repo, record.userId, this.progress(record, to));
  }

  /** Step 3, once the pod has run on the target: its old copy goes, and its sessions' pages say it moved. */
  private async finish(runtime: PlacedRuntime, record: MoveRecord, spec: PodSpec, from: Pick<DockerEngine, "name">, to: Pick<DockerEngine, "name">): Promise<void> {
    const kept = await this.removeOld(runtime, this.deps.records.madeOnTarget(record), spec, from);
    this.tell(record, "moved", `Your pod moved to ${to.name}: your worktree and uncommitted changes came with it.${kept}`);
  }

  /** The move was undone: its sessions' pages say why, and that the pod stays where it was. */
  private tellFailed(key: PodKey, from: Pick<DockerEngine, "name">, to: Pick<DockerEngine, "name">, error: unknown): void {
    this.tell(key, "failed", `Your pod could not be moved to ${to.name} (${errorMessage(error)}); it stays on ${from.name}, with all your work.`);
  }

  /** Undoes steps 1 and 2: the pod is placed back where it was, and what it has on the target goes. */
  private async undo(runtime: PlacedRuntime, record: MoveRecord, spec: PodSpec): Promise<void> {
    await this.removeCopy(runtime, this.deps.records.backToOrigin(record), record.toEngine, spec);
  }

  /** Step 3: the old container and workspace go once the new pod has run; what could not be removed yet is said. */
  private async removeOld(runtime: PlacedRuntime, record: MoveRecord, spec: PodSpec, from: Pick<DockerEngine, "name">): Promise<string> {
    const removed = await this.removeCopy(runtime, record, record.fromEngine, spec);
    return removed ? "" : ` Its old copy on ${from.name} could not be removed yet; Pier removes it once ${from.name} answers.`;
  }

  /**
   * Removes what the pod has on `engineId`, an engine it is not placed on, and the helpers a copy
   * left on the other engine; then the move is forgotten. When that fails, it stays written down
   * (to be tried again) and the failure is logged. Whether it was removed.
   */
  private async removeCopy(runtime: PlacedRuntime, record: MoveRecord, engineId: string, spec: PodSpec): Promise<boolean> {
    const other = engineId === record.toEngine ? record.fromEngine : record.toEngine;
    try {
      await runtime.removeWorkspaceHelpersFrom(other, record);
      await runtime.clearPodFrom(engineId, spec, record.image);
      this.deps.records.finished(record);
      return true;
    } catch (error) {
      this.deps.log?.(`[pier] what the pod ${podKeyString(record)} has on the Docker engine ${this.engineNamed(engineId).name} could not be removed yet: ${errorMessage(error)}`);
      return false;
    }
  }

  private progress(key: PodKey, to: Pick<DockerEngine, "name">): Progress {
    return (event) => this.tell(key, "moving", `Moving your pod to ${to.name}: ${event.message}`);
  }

  /** The engine of that id, or (removed since) its id for a name. */
  private engineNamed(engineId: string): Pick<DockerEngine, "name"> {
    return this.deps.engines.find(engineId) ?? { name: engineId };
  }

  private tell(key: PodKey, state: "moving" | "moved" | "failed", notice: string): void {
    const id = podKeyString(key);
    if (state === "moving") this.notices.set(id, notice);
    else this.notices.delete(id);
    this.deps.bus.publish("pod.move", id, { repoId: key.repoId, userId: key.userId, state, notice });
  }
}
