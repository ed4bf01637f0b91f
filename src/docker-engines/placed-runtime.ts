import type Docker from "dockerode";
import { AppError } from "../infra/errors.ts";
import type { DockerRuntime, EngineSeat } from "../runtime/docker-runtime.ts";
import { type ExecOptions, type ExecResult, type FileOwner, type OrphanPod, type Pod, type PodFile, type PodKey, type PodProcess, type PodSpec, type PodStatus, type Progress, type Runtime, engineUnreachable, podKeyString } from "../runtime/runtime.ts";
import { type DockerEngine, type DockerEngines, LOCAL_ENGINE } from "./docker-engines.ts";
import { engineClient, readEngineHost } from "./engine-host.ts";
import { EngineWatch } from "./engine-watch.ts";
import { placePod } from "./placement.ts";

export interface PlacedRuntimeDeps {
  engines: DockerEngines;
  /** The local engine's runtime and client (images for other engines are copied from it). */
  local: DockerRuntime;
  localDocker: Docker;
  /** A runtime for another engine, as the local one is made but for its client and seat. */
  runtimeFor(docker: Docker, seat: EngineSeat): DockerRuntime;
}

/**
 * The Docker runtime over several engines: one DockerRuntime per engine, and each pod on the one
 * it was placed on. A pod not placed yet is placed by the rule in placement.ts when it is first
 * made, and recorded, so it stays there; every other call goes to the engine its pod (or pod key)
 * is on. The rest of Pier sees one Runtime. An engine the watch found not answering fails its
 * calls at once with a sentence naming it, while the other engines' pods carry on.
 */
export class PlacedRuntime implements Runtime {
  readonly kind = "docker";
  readonly fileOwner: FileOwner;
  private readonly watch = new EngineWatch();
  /** Each engine's runtime but the local one, made on first use and made again once the engine changes. */
  private runtimes = new Map<string, Promise<DockerRuntime>>();
  /** Which engine each container of the last listing of orphans is on, so one can be removed. */
  private orphanEngines = new Map<string, string>();

  constructor(private deps: PlacedRuntimeDeps) {
    this.fileOwner = deps.local.fileOwner;
    deps.engines.onChange((engineId) => {
      this.runtimes.delete(engineId);
      this.watch.forget(engineId);
    });
  }

  /** With a pod's key, whether the engine it is on answers now; without, whether every engine does. */
  async engineAnswers(key?: PodKey): Promise<boolean> {
    if (key) return this.watch.ask(this.watched(this.engineOf(this.placementOf(key))));
    return (await this.engineStates()).every((engine) => engine.answers);
  }

  /** Asks every engine now (together) whether it answers: what /healthz and the watch job say. */
  engineStates(): Promise<Array<{ name: string; answers: boolean }>> {
    return this.watch.check(this.deps.engines.list().map((engine) => this.watched(engine)));
  }

  /** Whether the engine was not answering when last asked (for the engines' list). */
  engineDown(engineId: string): boolean {
    return this.watch.isDown(engineId);
  }

  place(spec: PodSpec): string {
    const engineId = this.deps.engines.placementOf(spec.key);
    if (engineId !== null || !spec.placement) return engineId ?? LOCAL_ENGINE;
    // Read, chosen and recorded with no wait between: two starts of the same pod place it once.
    const engines = this.deps.engines;
    const engine = placePod(spec.placement, engines.list(), engines.podCounts());
    engines.recordPlacement(spec.key, engine.id, spec.image);
    return engine.id;
  }

  async ensurePod(spec: PodSpec, progress: Progress): Promise<Pod> {
    const engine = this.engineOf(this.place(spec));
    // An engine known to be down is asked once more (it may just have come back) rather than refused outright.
    if (this.watch.isDown(engine.id) && !(await this.watch.ask(this.watched(engine)))) throw engineUnreachable(engine.name);
    return (await this.runtimeOf(engine)).ensurePod(spec, progress);
  }

  async inspectPod(key: PodKey): Promise<PodStatus | null> {
    return (await this.answeringRuntime(this.placementOf(key))).inspectPod(key);
  }

  async podStartedAt(pod: Pod): Promise<string | null> {
    return (await this.answeringRuntime(pod.dockerEngine ?? LOCAL_ENGINE)).podStartedAt(pod);
  }

  async stopPod(key: PodKey): Promise<void> {
    await (await this.answeringRuntime(this.placementOf(key))).stopPod(key);
  }

  async removePod(key: PodKey): Promise<void> {
    await (await this.answeringRuntime(this.placementOf(key))).removePod(key);
  }

  async exec(pod: Pod, command: string[], options: ExecOptions): Promise<ExecResult> {
    return (await this.answeringRuntime(pod.dockerEngine ?? LOCAL_ENGINE)).exec(pod, command, options);
  }

  async spawn(pod: Pod, command: string[], options: ExecOptions): Promise<PodProcess> {
    return (await this.answeringRuntime(pod.dockerEngine ?? LOCAL_ENGINE)).spawn(pod, command, options);
  }

  async writeFiles(pod: Pod, files: PodFile[]): Promise<void> {
    await (await this.answeringRuntime(pod.dockerEngine ?? LOCAL_ENGINE)).writeFiles(pod, files);
  }

  async placeTool(pod: Pod, name: string, sourceDir: string): Promise<string> {
    return (await this.answeringRuntime(pod.dockerEngine ?? LOCAL_ENGINE)).placeTool(pod, name, sourceDir);
  }

  /** Whether the engine of that id answers now, asked afresh (a pod is about to be moved to it). */
  engineAnswersNow(engineId: string): Promise<boolean> {
    return this.watch.ask(this.watched(this.engineOf(engineId)));
  }

  /**
   * Copies the person's workspace from the engine their pod is on to `toEngine`, as a tar stream
   * out of the one and into the other (helper containers of `image`, the pod's own, on each), so
   * it passes through Pier without Pier reading any of it. The copy there replaces any stale one.
   */
  async copyWorkspace(spec: PodSpec, image: string, toEngine: string, progress: Progress): Promise<void> {
    const from = await this.answeringRuntime(this.placementOf(spec.key));
    const to = await this.answeringRuntime(toEngine);
    const { tar, done } = await from.workspaceTar(spec, image);
    try {
      await to.fillWorkspace(spec, image, tar, progress);
    } finally {
      await done();
    }
  }

  /** Removes the pod's container from an engine it is not placed on (a stale one on a move's target, before the copy). */
  async removePodFrom(engineId: string, key: PodKey): Promise<void> {
    await (await this.answeringRuntime(this.notPlacedOn(engineId, key))).removePod(key);
  }

  /**
   * Removes everything of the pod from an engine it is not placed on (the one it moved from, or
   * a failed move's target): its container, the helpers of a copy, its workspace. Nothing is to
   * be done on an engine Pier no longer has; one that does not answer now fails it, naming it.
   */
  async clearPodFrom(engineId: string, spec: PodSpec, image: string): Promise<void> {
    const engine = this.deps.engines.find(this.notPlacedOn(engineId, spec.key));
    if (!engine) return;
    if (!(await this.engineAnswersNow(engine.id))) throw engineUnreachable(engine.name);
    const runtime = await this.runtimeOf(engine);
    await runtime.removePod(spec.key);
    await runtime.dropWorkspace(spec, image);
  }

  /** Removes the helper containers a copy of the pod's workspace left on an engine (see DockerRuntime.removeWorkspaceHelpers). */
  async removeWorkspaceHelpersFrom(engineId: string, key: PodKey): Promise<void> {
    await (await this.answeringRuntime(engineId)).removeWorkspaceHelpers(key);
  }

  /** The orphans of every engine that answers: one that does not is left for the next listing. */
  async listOrphans(isKnown: (key: PodKey) => boolean): Promise<OrphanPod[]> {
    const engines = this.deps.engines.list().filter((engine) => !this.watch.isDown(engine.id));
    const lists = await Promise.all(engines.map(async (engine) => (await this.runtimeOf(engine)).listOrphans(isKnown).catch(() => [])));
    const orphans = lists.flat();
    this.orphanEngines = new Map(orphans.map((orphan) => [orphan.id, orphan.dockerEngine ?? LOCAL_ENGINE]));
    return orphans;
  }

  async removeOrphan(id: string): Promise<void> {
    await (await this.answeringRuntime(this.orphanEngines.get(id) ?? LOCAL_ENGINE)).removeOrphan(id);
  }

  /** `engineId`, unless the pod is placed there: what is removed from an engine because the pod left it is never its only copy. */
  private notPlacedOn(engineId: string, key: PodKey): string {
    if (this.placementOf(key) === engineId) {
      throw new AppError(409, "pod_placed_there", `The pod ${podKeyString(key)} is placed on the Docker engine ${this.engineOf(engineId).name}: its container and workspace there are its own, and stay.`);
    }
    return engineId;
  }

  /** The engine a pod was placed on; "local" for one never placed (every pod from before there were several). */
  private placementOf(key: PodKey): string {
    return this.deps.engines.placementOf(key) ?? LOCAL_ENGINE;
  }

  private engineOf(engineId: string): DockerEngine {
    const engine = this.deps.engines.find(engineId);
    if (!engine) throw new AppError(503, "engine_missing", "The pod's Docker engine is no longer configured; an admin can add it again.");
    return engine;
  }

  /** The engine's runtime, or at once a 503 naming it when the watch found it not answering. */
  private async answeringRuntime(engineId: string): Promise<DockerRuntime> {
    const engine = this.engineOf(engineId);
    if (this.watch.isDown(engine.id)) throw engineUnreachable(engine.name);
    return this.runtimeOf(engine);
  }

  private runtimeOf(engine: DockerEngine): Promise<DockerRuntime> {
    if (engine.id === LOCAL_ENGINE) return Promise.resolve(this.deps.local);
    let runtime = this.runtimes.get(engine.id);
    if (!runtime) {
      runtime = this.deps.engines.tlsOf(engine.id).then((tls) => {
        const docker = engineClient(readEngineHost(engine.host, tls !== null), tls);
        return this.deps.runtimeFor(docker, { id: engine.id, name: engine.name, copyImagesFrom: this.deps.localDocker });
      });
      runtime.catch(() => this.runtimes.delete(engine.id));
      this.runtimes.set(engine.id, runtime);
    }
    return runtime;
  }

  private watched(engine: DockerEngine) {
    return { id: engine.id, name: engine.name, answers: async (timeoutMs: number) => (await this.runtimeOf(engine)).answersWithin(timeoutMs) };
  }
}
