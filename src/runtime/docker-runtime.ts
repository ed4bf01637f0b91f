import Docker from "dockerode";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, relative } from "node:path";
import { PassThrough } from "node:stream";
import { traceStep } from "../observability/start-trace.ts";
import { dockerReachable } from "./detect.ts";
import { dockerMessage, followProgress } from "./docker-progress.ts";
import { copyImage } from "./image-copy.ts";
import { dirArchive, podArchive } from "./pod-archive.ts";
import { ExecFrames } from "./exec-frames.ts";
import { emptyWorkspace, fillWorkspace, type WorkspacePlace, workspaceTar } from "./workspace-copy.ts";
import { BoundedOutput, DEFAULT_MAX_OUTPUT_BYTES, EARLY_STDERR_BYTES, OutputFanout, engineUnreachable, PodGone, podKeyString } from "./runtime.ts";
import type {
  PodProcess,
  ExecOptions,
  ExecResult,
  FileOwner,
  OrphanPod,
  Pod,
  PodEnvironment,
  PodFile,
  PodKey,
  PodMount,
  PodSpec,
  PodStatus,
  Progress,
  Runtime,
} from "./runtime.ts";

/** Limits and isolation for new pods, from settings. */
export interface PodLimits {
  memoryMb: number;
  cpus: number;
  pids: number;
  noNewPrivileges: boolean;
  network: string;
}

/**
 * Which engine this runtime drives, when Pier has several (see src/docker-engines): its id goes on
 * the pods it makes and its name in what Pier says of it. An engine other than the local one gets
 * its images copied from the local engine when it lacks them (no registry is needed).
 */
export interface EngineSeat {
  id: string;
  name: string;
  copyImagesFrom?: Docker;
}

const LOCAL_SEAT: EngineSeat = { id: "local", name: "local" };

/** Pier's own workspace image: built from images/workspace when missing, never pulled. */
export const OWN_WORKSPACE_IMAGE = "pier-workspace:latest";
const WORKSPACE_CONTEXT = join(import.meta.dir, "..", "..", "images", "workspace");

/** Names the pod user in an image that has no entry for its uid (see the script). */
const POD_USER_SCRIPT = readFileSync(join(import.meta.dir, "pod-user.sh"), "utf8");

const LABEL_INSTANCE = "pier.instance";
const LABEL_REPO = "pier.repo";
const LABEL_USER = "pier.user";
const LABEL_ENV_HASH = "pier.env-hash";
/** On a helper container that copies or empties a person's workspace: whose pod's (see podKeyString). */
const LABEL_WORKSPACE_OF = "pier.workspace-of";
/** What a volume of Pier's holds: a person's workspace, or Pier's tools. */
const LABEL_VOLUME = "pier.volume";
/** Where a pod on another engine sees the engine's volume of Pier's tools, read-only. */
const TOOLS_IN_POD = "/opt/pier-tools";
/** Written last into a tool's directory of the tools volume: without it, the copy is not whole (and is made again). */
const TOOL_COMPLETE = ".pier-complete";
/** The names Pier gives tools' directories (their name and version). */
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
/**
 * How long the engine gets to answer before a pod is looked for: an engine that is down (or hung)
 * fails a session's start with a sentence instead of leaving it provisioning.
 */
const ENGINE_ANSWERS_MS = 5_000;
/** A command that outlives its timeout by this much is killed outright. */
const KILL_AFTER_S = 2;
/** How long a removal of a pod's container is waited for before it is said to be stuck. */
const REMOVAL_WAIT_MS = 30_000;
/**
 * A new pod's container is made under its name with this added, and given its own name once it
 * is set up (see findOrCreate): a name, unlike a label, can change after a container is made, and
 * nothing in the pod can change it. Containers from before there was this mark have their own names.
 */
const MAKING = "-making";

/**
 * The Docker runtime: one long-lived container per repo and person, found by its labels. A
 * stopped pod is started, a missing one created; its image is pulled (or, for Pier's own, built)
 * on first use.
 */
export class DockerRuntime implements Runtime {
  readonly kind = "docker";
  private hostPaths: Promise<(path: string) => string> | undefined;
  /** One ensurePod at a time per pod, so two sessions starting together share one pod. */
  private inFlight = new Map<string, Promise<Pod>>();
  /** One copy of an image onto this engine at a time: pods of several people starting together share it. */
  private copying = new Map<string, Promise<void>>();
  /** One copy of each tool into the tools volume at a time. */
  private fillingTools = new Map<string, Promise<void>>();
  /** The containers (of an engine off Pier's disk) Pier's files were written into during this server run. */
  private filesWritten = new Set<string>();

  constructor(
    private docker: Docker,
    private instanceId: string,
    readonly fileOwner: FileOwner,
    private limits: () => PodLimits,
    private seat: EngineSeat = LOCAL_SEAT,
  ) {}

  engineAnswers(): Promise<boolean> {
    return this.answersWithin(2_000);
  }

  /** Whether the engine answers a ping within `timeoutMs`. */
  answersWithin(timeoutMs: number): Promise<boolean> {
    return dockerReachable(this.docker, timeoutMs);
  }

  ensurePod(spec: PodSpec, progress: Progress): Promise<Pod> {
    const key = podKeyString(spec.key);
    const running = this.inFlight.get(key);
    if (running) return running;
    const attempt = this.findOrCreate(spec, progress)
      .catch((error: unknown) => {
        // The engine went while the pod was being readied (it was stopping, or its socket went).
        throw lostEngine(error) ? engineUnreachable(this.seat.name) : error;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, attempt);
    return attempt;
  }

  private async findOrCreate(spec: PodSpec, progress: Progress): Promise<Pod> {
    if (!(await this.answersWithin(ENGINE_ANSWERS_MS))) throw engineUnreachable(this.seat.name);
    const dockerEngine = this.seat.id;
    const existing = await traceStep("docker: find pod", () => this.find(spec.key));
    const mounts = existing?.Mounts.map((mount) => mount.Destination);
    const envHash = existing?.Labels[LABEL_ENV_HASH] || null;
    // A container on its way out (removed by another call a moment ago) is not this key's pod: a new one is made once it has gone.
    if (existing && (existing.State === "removing" || existing.State === "dead")) {
      await this.removeContainer(existing.Id);
      return this.findOrCreate(spec, progress);
    }
    // Its making was cut off (a Pier killed, an engine gone, a step that failed): what it lacks is not
    // known, so it goes and the pod is made again; the person's workspace is not in it, and stays.
    if (existing && (stillMaking(existing) || spec.cutOff?.(existing.Id))) {
      progress({ step: "pod", message: "Your pod's making did not finish last time; making it again, with your workspace as it is…" });
      await this.removeContainer(existing.Id);
      return this.findOrCreate(spec, progress);
    }
    if (existing?.State === "running") {
      progress({ step: "pod", message: "Using the repository's running pod.", fraction: 1 });
      return this.withFiles(spec, { id: existing.Id, dockerEngine, image: existing.Image, mounts, envHash });
    }
    if (existing) {
      progress({ step: "pod", message: "Starting the repository's stopped pod…" });
      await traceStep("docker: start pod", () => this.docker.getContainer(existing.Id).start());
      progress({ step: "pod", message: "Pod started.", fraction: 1 });
      return this.withFiles(spec, { id: existing.Id, dockerEngine, image: existing.Image, mounts, envHash });
    }
    const environment: PodEnvironment = spec.environment
      ? await traceStep("docker: environment", () => spec.environment!(progress))
      : { image: spec.image, env: {}, user: null, cpus: null, memoryMb: null, hash: null };
    await traceStep("docker: image", () => this.ensureImage(environment.image, progress));
    progress({ step: "pod", message: "Creating your pod for this repository…" });
    if (this.offDisk) await traceStep("docker: volumes", () => this.ensureVolumes(spec));
    const definition = await this.podDefinition(spec, environment);
    const container = await traceStep("docker: create pod", () => this.docker.createContainer({ ...definition, name: `${definition.name}${MAKING}` }));
    await traceStep("docker: start pod", () => container.start());
    const mounted = [...(definition.HostConfig?.Mounts ?? []).map((m) => m.Target), ...this.bindsOf(spec).map((m) => m.target ?? m.path)];
    const pod = { id: container.id, dockerEngine, image: environment.image, mounts: mounted, created: true, envHash: environment.hash };
    await traceStep("docker: name the pod user", () => this.namePodUser(pod, environment.user, progress));
    if (this.offDisk) await traceStep("docker: own the workspace", () => this.ownWorkspace(pod, spec.workDir));
    await this.withFiles(spec, pod);
    await spec.made?.(pod);
    // Its own name last: from now on the container is a finished pod (see stillMaking).
    await traceStep("docker: name the pod", () => container.rename({ name: definition.name }));
    progress({ step: "pod", message: "Pod created and started.", fraction: 1 });
    return pod;
  }

  /**
   * Whether this engine's pods are off Pier's disk: any engine but the local one, which may be
   * another machine (even when, as in the tests, it is not), so none of them mounts the data dir.
   */
  private get offDisk(): boolean {
    return this.seat.id !== LOCAL_SEAT.id;
  }

  /** The data dir's paths the pod mounts: all its mounts on the local engine, none elsewhere. */
  private bindsOf(spec: PodSpec): PodMount[] {
    if (!this.offDisk) return spec.mounts;
    if (!spec.remote) throw new Error(`A pod on the Docker engine ${this.seat.name} needs its workspace as a volume of that engine; this one has none.`);
    return [];
  }

  private get toolsVolume(): string {
    return `pier-tools-${this.instanceId.slice(0, 12)}`;
  }

  /**
   * Makes the pod's workspace volume (kept when the pod goes: a rebuild finds it again) and the
   * engine's tools volume, each labelled as this Pier's, if they are not there yet.
   */
  private async ensureVolumes(spec: PodSpec): Promise<void> {
    const labels = { [LABEL_INSTANCE]: this.instanceId };
    await this.docker.createVolume({ Name: spec.remote!.workspaceVolume, Labels: { ...labels, [LABEL_VOLUME]: "workspace", [LABEL_REPO]: spec.key.repoId, [LABEL_USER]: spec.key.userId } });
    await this.docker.createVolume({ Name: this.toolsVolume, Labels: { ...labels, [LABEL_VOLUME]: "tools" } });
  }

  /** A new workspace volume is root's: its top becomes the pod user's (what is inside already is, or is the pod's doing). */
  private async ownWorkspace(pod: Pod, workDir: string): Promise<void> {
    const { uid, gid } = this.fileOwner;
    const result = await this.execAs("0:0", pod, ["chown", `${uid}:${gid}`, workDir], { cwd: "/", timeoutMs: 30_000, maxOutputBytes: 16 * 1024 });
    if (result.exitCode !== 0) throw new Error(`Could not give the workspace volume to the pod user: ${result.stderr.trim() || `exit code ${result.exitCode}`}`);
  }

  /** A pod off Pier's disk gets Pier's files for it when made, and once per server run (Pier's helpers may have changed). */
  private async withFiles(spec: PodSpec, pod: Pod): Promise<Pod> {
    if (!this.offDisk || !spec.remote || this.filesWritten.has(pod.id)) return pod;
    await traceStep("docker: write Pier's files", async () => this.writeFiles(pod, await spec.remote!.files()));
    this.filesWritten.add(pod.id);
    return pod;
  }

  async writeFiles(pod: Pod, files: PodFile[]): Promise<void> {
    await this.docker
      .getContainer(pod.id)
      .putArchive(await podArchive(files), { path: "/" })
      .catch((error: Error & { statusCode?: number }) => {
        if (error.statusCode === 404) throw new PodGone(dockerMessage(error));
        throw error;
      });
  }

  /**
   * The tool's directory in the engine's tools volume, copied there from `sourceDir` the first
   * time: into a container that is never started (the volume mounted writable in it alone), its
   * mark of completeness last, so a copy cut off is made again and a whole one never changes.
   */
  async placeTool(pod: Pod, name: string, sourceDir: string): Promise<string> {
    if (!TOOL_NAME.test(name)) throw new Error(`Not a tool's name: ${name}`);
    const inPod = `${TOOLS_IN_POD}/${name}`;
    const there = await this.exec(pod, ["test", "-e", `${inPod}/${TOOL_COMPLETE}`], { cwd: "/", timeoutMs: 30_000, maxOutputBytes: 1024 });
    if (there.exitCode === 0) return inPod;
    let filling = this.fillingTools.get(name);
    if (!filling) {
      filling = this.fillTool(pod.image, name, sourceDir).finally(() => this.fillingTools.delete(name));
      this.fillingTools.set(name, filling);
    }
    await filling;
    return inPod;
  }

  private async fillTool(image: string, name: string, sourceDir: string): Promise<void> {
    const filler = await this.docker.createContainer({
      Image: image,
      Entrypoint: [],
      Cmd: ["true"],
      Labels: { [LABEL_INSTANCE]: this.instanceId, "pier.role": "tool-copy" },
      HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: this.toolsVolume, Target: "/tools" }] },
    });
    try {
      await filler.putArchive(dirArchive(sourceDir, name), { path: "/tools" });
      await filler.putArchive(await podArchive([{ path: `/${name}/${TOOL_COMPLETE}`, mode: 0o644, content: "" }]), { path: "/tools" });
    } finally {
      await filler.remove({ force: true }).catch(() => undefined);
    }
  }

  /**
   * The person's workspace on this engine as a tar stream the engine makes (for a pod being moved
   * away), read through a helper container of `image`, an image this engine has (the pod's own).
   */
  async workspaceTar(spec: PodSpec, image: string): Promise<{ tar: NodeJS.ReadableStream; done(): Promise<void> }> {
    return workspaceTar(this.docker, await this.workspacePlace(spec, image));
  }

  /**
   * Makes a workspace's tar stream the person's workspace on this engine (for a pod being moved
   * here): `image` fetched or copied here first if missing, the volume made off Pier's disk, and
   * whatever an earlier copy left there removed before it is unpacked.
   */
  async fillWorkspace(spec: PodSpec, image: string, tar: NodeJS.ReadableStream, progress: Progress): Promise<void> {
    await this.ensureImage(image, progress);
    if (this.offDisk) await this.ensureVolumes(spec);
    await fillWorkspace(this.docker, await this.workspacePlace(spec, image), tar);
  }

  /**
   * Removes the person's workspace from this engine once their pod has moved away and started
   * elsewhere: the volume, off Pier's disk; on it, what is in their directory (the directory stays).
   * Helpers of a copy cut off are removed first (one would keep the volume in use).
   */
  async dropWorkspace(spec: PodSpec, image: string): Promise<void> {
    await this.removeWorkspaceHelpers(spec.key);
    if (!this.offDisk) return emptyWorkspace(this.docker, await this.workspacePlace(spec, image));
    await this.docker.getVolume(spec.remote!.workspaceVolume).remove().catch((error: Error & { statusCode?: number }) => {
      if (error.statusCode !== 404) throw new Error(`Could not remove the workspace volume: ${dockerMessage(error)}`);
    });
  }

  /**
   * Removes the helper containers that copy or empty the person's workspace on this engine: a
   * copy's helpers go as it ends, so any found while no copy of the pod runs were left by a Pier
   * killed in the middle of one.
   */
  async removeWorkspaceHelpers(key: PodKey): Promise<void> {
    const helpers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${this.instanceId}`, `${LABEL_WORKSPACE_OF}=${podKeyString(key)}`] } });
    for (const helper of helpers) await this.removeContainer(helper.Id);
  }

  /** Where a helper container sees the person's workspace on this engine: the pod's own volume, or their directory bound in. */
  private async workspacePlace(spec: PodSpec, image: string): Promise<WorkspacePlace> {
    const mount: Docker.MountSettings = this.offDisk
      ? { Type: "volume", Source: spec.remote!.workspaceVolume, Target: spec.workDir }
      : { Type: "bind", Source: (await this.hostPathResolver())(spec.workDir), Target: spec.workDir };
    return { image, workDir: spec.workDir, mount, labels: { [LABEL_INSTANCE]: this.instanceId, [LABEL_WORKSPACE_OF]: podKeyString(spec.key) } };
  }

  /**
   * Gives the pod user a name and a home in an image that has none for its uid (python:*-slim,
   * most minimal images), before anything runs as it: HOME comes from there. As root, the one
   * command Pier runs so, in a pod nothing else has run in yet; a failure leaves the pod nameless
   * (its prompt says "I have no name!") but working, and is said.
   */
  private async namePodUser(pod: Pod, user: string | null, progress: Progress): Promise<void> {
    const { uid, gid } = this.fileOwner;
    const args = ["sh", "-c", POD_USER_SCRIPT, "pod-user", String(uid), String(gid), ...(user ? [user] : [])];
    const result = await this.execAs("0:0", pod, args, { cwd: "/", timeoutMs: 60_000, maxOutputBytes: 64 * 1024 });
    if (result.exitCode !== 0 || result.timedOut) {
      const why = result.timedOut ? "it took too long" : result.stderr.trim().split("\n").at(-1) || `exit code ${result.exitCode}`;
      const what = user ? `Pier could not make ${user} (the environment's user) the pod user, uid ${uid}` : `The image has no user for uid ${uid}, and Pier could not add one`;
      progress({ step: "pod", message: `${what} (${why.slice(0, 200)}).` });
    }
  }

  private async podDefinition(spec: PodSpec, environment: PodEnvironment): Promise<Docker.ContainerCreateOptions & { name: string }> {
    const limits = this.limits();
    // An environment may ask for less than the admin allows, never more.
    const memoryMb = environment.memoryMb ? Math.min(environment.memoryMb, limits.memoryMb) : limits.memoryMb;
    const cpus = environment.cpus ? Math.min(environment.cpus, limits.cpus) : limits.cpus;
    const toHost = await this.hostPathResolver();
    const { uid, gid } = this.fileOwner;
    const { repoId, userId } = spec.key;
    const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9_.-]/g, "-");
    return {
      name: `pier-${this.instanceId.slice(0, 6)}-${slug(spec.repoName)}-${slug(spec.username)}-${repoId.slice(0, 6)}${userId.slice(0, 6)}`,
      Image: environment.image,
      // An environment's image is the repository's: its ENTRYPOINT does not wrap the pod's one process
      // (as the devcontainer CLI overrides it too), so a broken or hostile one cannot stop the pod.
      ...(environment.hash ? { Entrypoint: [] } : {}),
      Cmd: ["sleep", "infinity"],
      User: `${uid}:${gid}`,
      WorkingDir: spec.workDir,
      // No HOME: the engine sets it for each command from the image's entry for the pod user (see namePodUser).
      Env: ["LANG=C.UTF-8", "TERM=xterm-256color", ...Object.entries(environment.env).map(([k, v]) => `${k}=${v}`)],
      Labels: {
        [LABEL_INSTANCE]: this.instanceId,
        [LABEL_REPO]: repoId,
        [LABEL_USER]: userId,
        "pier.repo-name": spec.repoName,
        "pier.username": spec.username,
        ...(environment.hash ? { [LABEL_ENV_HASH]: environment.hash } : {}),
      },
      HostConfig: {
        // Only this person's directories of this repo, at the same absolute paths the server uses.
        Binds: this.bindsOf(spec).map((m) => `${toHost(m.path)}:${m.target ?? m.path}${m.readOnly ? ":ro" : ""}`),
        // Off Pier's disk: the person's workspace and Pier's tools are the engine's own volumes.
        ...(this.offDisk
          ? {
              Mounts: [
                { Type: "volume" as const, Source: spec.remote!.workspaceVolume, Target: spec.workDir },
                { Type: "volume" as const, Source: this.toolsVolume, Target: TOOLS_IN_POD, ReadOnly: true },
              ],
            }
          : {}),
        Init: true,
        Privileged: false,
        // Root in a pod (sudo, for installing tools) keeps Docker's default capabilities but these two.
        CapDrop: ["NET_RAW", "MKNOD"],
        Memory: memoryMb * 1024 * 1024,
        NanoCpus: Math.round(cpus * 1e9),
        PidsLimit: limits.pids,
        SecurityOpt: limits.noNewPrivileges ? ["no-new-privileges"] : [],
        NetworkMode: limits.network,
        // On a bridge network a pod reaches Pier (its MCP endpoint) through the Docker host's gateway.
        ExtraHosts: limits.network === "host" || limits.network === "none" ? [] : ["host.docker.internal:host-gateway"],
        RestartPolicy: { Name: "unless-stopped" },
      },
    };
  }

  async inspectPod(key: PodKey): Promise<PodStatus | null> {
    const found = await this.find(key);
    if (!found) return null;
    return { id: found.Id, dockerEngine: this.seat.id, image: found.Image, state: found.State === "running" ? "running" : "stopped", ...(stillMaking(found) ? { making: true } : {}) };
  }

  async podStartedAt(pod: Pod): Promise<string | null> {
    const info = await this.docker.getContainer(pod.id).inspect().catch(() => null);
    return info?.State.Running ? info.State.StartedAt : null;
  }

  async stopPod(key: PodKey): Promise<void> {
    const found = await this.find(key);
    if (found?.State === "running") await this.docker.getContainer(found.Id).stop({ t: 5 });
  }

  async removePod(key: PodKey): Promise<void> {
    const found = await this.find(key);
    if (found) await this.removeContainer(found.Id);
  }

  /**
   * Removes a pod's container and returns once it is gone. Another removal of it may be under way
   * (a rebuild while a repo is removed, say): the engine then answers 409, or 404 once it is done,
   * and the container may still be listed, "removing", for a moment. Its fixed name is free only
   * once it is gone, so the next pod of the key can be made.
   */
  private async removeContainer(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    await container.remove({ force: true }).catch((error: Error & { statusCode?: number }) => {
      if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
    });
    const deadline = Date.now() + REMOVAL_WAIT_MS;
    while (await container.inspect().then(() => true, (error: { statusCode?: number }) => error.statusCode !== 404)) {
      if (Date.now() > deadline) throw new Error(`The pod's container ${id.slice(0, 12)} is still being removed after ${REMOVAL_WAIT_MS / 1000} s; try again shortly.`);
      await Bun.sleep(100);
    }
  }

  /** The pod user, as Docker takes it: uid:gid. */
  private get podUser(): string {
    return `${this.fileOwner.uid}:${this.fileOwner.gid}`;
  }

  /** A command in the pod as `user`, attached to its output (and stdin when asked); PodGone when the pod is not there to run it. */
  private async createExec(user: string, pod: Pod, command: string[], options: ExecOptions, stdin: boolean) {
    return this.docker.getContainer(pod.id).exec({
      Cmd: command,
      User: user,
      WorkingDir: options.cwd,
      Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      AttachStdin: stdin,
      AttachStdout: true,
      AttachStderr: true,
    }).catch((error: Error & { statusCode?: number }) => {
      // 404: no such container; 409: it is not running (or is being removed).
      if (error.statusCode === 404 || error.statusCode === 409) throw new PodGone(dockerMessage(error));
      throw error;
    });
  }

  /**
   * With a timeout, the command runs under `timeout` in the pod, so it is really stopped there
   * (closing the connection alone would leave it running); the server gives up a little later.
   */
  exec(pod: Pod, command: string[], options: ExecOptions): Promise<ExecResult> {
    return traceStep(`docker: exec ${commandName(command)}`, () => this.execAs(this.podUser, pod, command, options));
  }

  private async execAs(user: string, pod: Pod, command: string[], options: ExecOptions): Promise<ExecResult> {
    const seconds = options.timeoutMs ? Math.max(1, Math.ceil(options.timeoutMs / 1000)) : 0;
    const input = options.stdin;
    const withStdin = input !== undefined;
    // Docker does not always pass the end of stdin on to a command that has only just started
    // (seen under load: the command waited for more input until its timeout), so the command
    // reads exactly the bytes it is given and sees its input end there whatever Docker does.
    // (A stream's length is not known: its command must see in its input where it ends.)
    const counted = withStdin && !(input instanceof ReadableStream) ? ["sh", "-c", 'head -c "$0" | "$@"', String(Buffer.byteLength(input)), ...command] : command;
    const argv = seconds ? ["timeout", "-k", String(KILL_AFTER_S), String(seconds), ...counted] : counted;
    const exec = await this.createExec(user, pod, argv, options, withStdin);
    const stream = await exec.start({ hijack: true, stdin: withStdin });
    const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new BoundedOutput(limit);
    const stderr = new BoundedOutput(limit);
    const out = new PassThrough();
    const err = new PassThrough();
    out.on("data", (chunk: Buffer) => stdout.add(chunk) || stream.destroy());
    err.on("data", (chunk: Buffer) => stderr.add(chunk) || stream.destroy());
    this.docker.modem.demuxStream(stream, out, err);
    let timedOut = false;
    const done = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", resolve);
    });
    if (input instanceof ReadableStream) void writeAll(input, stream);
    else if (withStdin) stream.end(input);
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          stream.destroy();
        }, options.timeoutMs + (KILL_AFTER_S + 1) * 1000)
      : undefined;
    await done;
    clearTimeout(timer);
    const info = await exec.inspect();
    const exitCode = info.ExitCode ?? -1;
    // `timeout` exits 124 when it stopped the command (137 when it had to kill it).
    if (seconds && (exitCode === 124 || exitCode === 137)) timedOut = true;
    return { exitCode, stdout: stdout.text(), stderr: stderr.text(), timedOut, truncated: stdout.truncated || stderr.truncated };
  }

  async spawn(pod: Pod, command: string[], options: ExecOptions): Promise<PodProcess> {
    const stream = await traceStep(`docker: spawn ${commandName(command)}`, async () => {
      const exec = await this.createExec(options.asRoot ? "0:0" : this.podUser, pod, command, options, true);
      return exec.start({ hijack: true, stdin: true });
    });
    const output = new OutputFanout();
    const errors = new OutputFanout(EARLY_STDERR_BYTES);
    const frames = new ExecFrames((which, payload) => (which === 1 ? output : errors).deliver(payload));
    stream.on("data", (chunk: Buffer) => frames.push(chunk));
    const exited = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", resolve);
    });
    return {
      write: (data) => void stream.write(data),
      onOutput: (listener) => output.listen(listener),
      onErrorOutput: (listener) => errors.listen(listener),
      exited,
      close: () => stream.end(),
    };
  }

  async listOrphans(isKnown: (key: PodKey) => boolean): Promise<OrphanPod[]> {
    const all = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${this.instanceId}`] } });
    return all
      .map((c) => ({ id: c.Id, dockerEngine: this.seat.id, name: (c.Names[0] ?? "").replace(/^\//, ""), repoId: c.Labels[LABEL_REPO] ?? "", userId: c.Labels[LABEL_USER] ?? "", state: c.State }))
      .filter((pod) => !pod.userId || !isKnown(pod));
  }

  async removeOrphan(id: string): Promise<void> {
    const info = await this.docker.getContainer(id).inspect();
    // Only ever a container of this Pier's.
    if (info.Config.Labels?.[LABEL_INSTANCE] !== this.instanceId) throw new Error(`Container ${id} is not one of this Pier's pods.`);
    await this.docker.getContainer(id).remove({ force: true });
  }

  private async find(key: PodKey): Promise<Docker.ContainerInfo | null> {
    const matches = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_INSTANCE}=${this.instanceId}`, `${LABEL_REPO}=${key.repoId}`, `${LABEL_USER}=${key.userId}`] },
    });
    return matches[0] ?? null;
  }

  private async ensureImage(image: string, progress: Progress): Promise<void> {
    const present = await this.docker
      .getImage(image)
      .inspect()
      .then(() => true, () => false);
    if (present) {
      progress({ step: "image", message: `Image ${image} is present.`, fraction: 1 });
      return;
    }
    const source = this.seat.copyImagesFrom;
    if (source && (await source.getImage(image).inspect().then(() => true, () => false))) await this.copyOnce(source, image, progress);
    else if (image === OWN_WORKSPACE_IMAGE) await this.buildWorkspaceImage(progress);
    else await this.pullImage(image, progress);
  }

  private copyOnce(source: Docker, image: string, progress: Progress): Promise<void> {
    const running = this.copying.get(image);
    if (running) return running;
    const copy = copyImage(source, this.docker, image, this.seat.name, progress).finally(() => this.copying.delete(image));
    this.copying.set(image, copy);
    return copy;
  }

  private async pullImage(image: string, progress: Progress): Promise<void> {
    progress({ step: "image", message: `Pulling ${image}…`, fraction: 0 });
    const layers = new Map<string, { current: number; total: number }>();
    const stream = await this.docker.pull(image).catch((error: Error) => {
      throw new Error(`Could not pull ${image}: ${dockerMessage(error)}`);
    });
    await followProgress(this.docker, stream, (event: PullEvent) => {
      if (event.id && event.progressDetail?.total) {
        layers.set(event.id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total });
        const sum = [...layers.values()].reduce((acc, l) => ({ current: acc.current + l.current, total: acc.total + l.total }), { current: 0, total: 0 });
        progress({ step: "image", message: `Pulling ${image}…`, fraction: sum.current / sum.total });
      }
    }).catch((error: Error) => {
      throw new Error(`Could not pull ${image}: ${dockerMessage(error)}`);
    });
    progress({ step: "image", message: `Pulled ${image}.`, fraction: 1 });
  }

  private async buildWorkspaceImage(progress: Progress): Promise<void> {
    progress({ step: "image", message: `Building ${OWN_WORKSPACE_IMAGE} (first use only)…`, fraction: 0 });
    const stream = await this.docker.buildImage({ context: WORKSPACE_CONTEXT, src: ["Dockerfile"] }, { t: OWN_WORKSPACE_IMAGE });
    await followProgress(this.docker, stream, (event: BuildEvent) => {
      const step = event.stream?.match(/^Step (\d+)\/(\d+) : (.*)/);
      if (step) {
        progress({ step: "image", message: `Building ${OWN_WORKSPACE_IMAGE}: ${step[3]!.slice(0, 80)}`, fraction: (Number(step[1]) - 1) / Number(step[2]) });
      }
      if (event.error) throw new Error(event.error);
    }).catch((error: Error) => {
      throw new Error(`Could not build ${OWN_WORKSPACE_IMAGE}: ${dockerMessage(error)}`);
    });
    progress({ step: "image", message: `Built ${OWN_WORKSPACE_IMAGE}.`, fraction: 1 });
  }

  /**
   * Bind sources are paths on the Docker host. When Pier itself runs in a container, its data
   * dir is a volume or bind mount, so the host path is found by inspecting our own container.
   */
  private hostPathResolver(): Promise<(path: string) => string> {
    const identity = (path: string) => path;
    if (!existsSync("/.dockerenv")) return Promise.resolve(identity);
    this.hostPaths ??= this.docker
      .getContainer(ownContainerId() ?? hostname())
      .inspect()
      .then(
        (self) => (path: string) => {
          const mount = self.Mounts.filter((m) => path === m.Destination || path.startsWith(m.Destination + "/")).sort(
            (a, b) => b.Destination.length - a.Destination.length,
          )[0];
          return mount ? join(mount.Source, relative(mount.Destination, path)) : path;
        },
        () => identity,
      );
    return this.hostPaths;
  }
}

/** Whether a pod's container still has the name it was made under (see MAKING): its making never finished. */
function stillMaking(container: Docker.ContainerInfo): boolean {
  return container.Names.some((name) => name.endsWith(MAKING));
}

/** Writes the stream to the command's stdin as it comes, then closes stdin (at once if the stream fails). */
async function writeAll(input: ReadableStream<Uint8Array>, stdin: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  const reader = input.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (stdin.destroyed) return void reader.cancel();
      stdin.write(value);
    }
  } catch {
    // Nothing more comes: the command sees its input end where it did.
  }
  if (!stdin.destroyed) stdin.end();
}

/** A command's name in the start trace: its program, and for tmux its command (has-session, attach-session…). */
function commandName(command: string[]): string {
  const [program = "", ...rest] = command;
  if (program !== "tmux") return program;
  return `tmux ${rest.find((word, i) => rest[i - 1] !== "-L" && /^[a-z]+-[a-z]+$/.test(word)) ?? ""}`.trimEnd();
}

/**
 * This process's container id, read from the mounts Docker sets up for it (/etc/hostname and
 * friends come from /var/lib/docker/containers/<id>/). The hostname is no guide: with
 * --network host it is the host's own.
 */
function ownContainerId(): string | null {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8").match(/\/containers\/([0-9a-f]{64})\//)?.[1] ?? null;
  } catch {
    return null;
  }
}

interface PullEvent {
  id?: string;
  progressDetail?: { current?: number; total?: number };
}
interface BuildEvent {
  stream?: string;
  error?: string;
}

/** The way to the engine failed (its socket gone or refusing, the connection cut), rather than the engine refusing a request. */
function lostEngine(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED";
}
