/**
 * Where sessions' shells and commands run. Two implementations share this interface, so the
 * session, terminal and chat code never branch on it: `docker` (one container per repo and
 * person, the pod) and `local` (plain processes on the server's own machine).
 *
 * Everything a pod can write is hostile input to the server, so the server reads and writes
 * clones and worktrees only through `exec` and `spawn` here, never through its own filesystem.
 */

import { AppError } from "../infra/errors.ts";

/** Which pod: each person gets their own pod for each repo. */
export interface PodKey {
  repoId: string;
  userId: string;
}

export function podKeyString(key: PodKey): string {
  return `${key.repoId}/${key.userId}`;
}

/** A directory of the data dir a pod sees, at the same absolute path as the server sees it. */
export interface PodMount {
  path: string;
  readOnly: boolean;
  /** Where the pod sees it, when not at `path`. */
  target?: string;
}

/**
 * What a new pod is made from when the repository's environment says more than an image (see
 * src/environments): asked for only when the pod has to be created, since finding it out may
 * mean building an image.
 */
export interface PodEnvironment {
  image: string;
  /** Added to the pod's own environment (the devcontainer's containerEnv). */
  env: Record<string, string>;
  /** The user sessions run as: made the pod user (its uid becomes the file owner's) when the pod is created. */
  user: string | null;
  /** Asked-for resources; the runtime keeps them within the admin's pod limits. */
  cpus: number | null;
  memoryMb: number | null;
  /** Which environment it is (its content hash), kept on the pod; null for a plain image. */
  hash: string | null;
}

/** What the repo says about the engine its pods go on (see src/docker-engines/placement.ts). */
export interface PodPlacement {
  /** The engine it is pinned to (an id), or null. */
  dockerEngine: string | null;
  /** Labels an engine must all carry. */
  labels: string[];
}

/** A file or symbolic link Pier writes into a pod: root's, so the pod user can read it and not change it. */
export type PodFile = { path: string; mode: number; content: string | Uint8Array } | { path: string; linkTo: string };

/**
 * What a pod on an engine other than the local one is made with instead of `mounts`: that engine
 * may be another machine, so nothing of Pier's disk reaches it. The person's workspace is a volume
 * of that engine (kept when the pod goes), Pier's files for the pod are written into it, and
 * Pier's tools come from a read-only volume of that engine (see Runtime.placeTool).
 */
export interface RemotePodParts {
  /** The engine's volume holding the person's workspace, mounted at workDir and owned by the pod user. */
  workspaceVolume: string;
  /** Pier's files for the pod, written into it when it is made and once per server run. */
  files(): Promise<PodFile[]>;
}

export interface PodSpec {
  key: PodKey;
  /** Where a person's pod not yet placed goes; left out (Pier's own short-lived pods on its data dir), the local engine. */
  placement?: PodPlacement;
  repoName: string;
  username: string;
  /** The image the repo asked for, or the workspace image from config. */
  image: string;
  /** The pod's working directory: the person's own directory of the repo. */
  workDir: string;
  /** The only parts of the data dir the pod may see (on the local engine). */
  mounts: PodMount[];
  /** What it is made with on another engine, where it sees nothing of the data dir (a person's pod; Pier's own short-lived pods stay local). */
  remote?: RemotePodParts;
  /** When the pod must be created, what it is made from (else `image`, plainly). */
  environment?: (progress: Progress) => Promise<PodEnvironment>;
  /**
   * Keeps what the pod's maker needs of a container just made for it (its environment's
   * configuration), once the container is set up and before it is taken as made: a container
   * whose making was cut off before this ended is never found as the pod, but made again.
   */
  made?: (pod: Pod) => Promise<void>;
  /**
   * Whether a container found for the pod was left half made by the maker's own steps that follow
   * its making (its environment's once-per-pod commands, one of which a killed Pier left begun and
   * never ended): it is removed and made again, as one whose own setup was cut off is.
   */
  cutOff?: (containerId: string) => boolean;
}

export interface Pod {
  /** The container id, or "local". */
  id: string;
  /** The Docker engine it runs on ("local" unless placed elsewhere; absent on the local runtime). */
  dockerEngine?: string;
  image: string;
  /** Where the data dir's directories are mounted in it, as ensurePod found or made it (none on the local runtime). */
  mounts?: string[];
  /** ensurePod made this container just now. */
  created?: boolean;
  /** The environment's hash it was made from (see PodEnvironment.hash), as ensurePod found or made it. */
  envHash?: string | null;
}

/**
 * Whether the pod shares Pier's disk (the local engine, or the local runtime): else its workspace,
 * the mirror and Pier's files reach it through the engine and Pier's address, never a path.
 */
export function onPiersDisk(pod: Pod): boolean {
  return pod.dockerEngine === undefined || pod.dockerEngine === "local";
}

export type PodState = "running" | "stopped" | "missing";

export interface PodStatus {
  id: string;
  /** The Docker engine it runs on, as in Pod. */
  dockerEngine?: string;
  image: string;
  state: Exclude<PodState, "missing">;
  /**
   * Its container is still being made (or its making was cut off, and it is made again at the
   * pod's next start): not yet the pod, whatever its state, so nothing is recorded of it or run in it.
   */
  making?: boolean;
}

/** One step of getting a pod ready, for the session page's progress view. */
export interface ProgressEvent {
  step: "image" | "pod" | "clone" | "worktree" | "environment" | "setup";
  message: string;
  /** 0..1 when the step can tell how far along it is. */
  fraction?: number;
  /** The latest lines the step's command printed (the repository's setup script), made fit to show. */
  lines?: string[];
}

export type Progress = (event: ProgressEvent) => void;

export interface ExecOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Kills the command after this long; the result then says timedOut. */
  timeoutMs?: number;
  /**
   * Written to the command's stdin, which is then closed. A stream is written as it comes, so the
   * command can start before all of its input is known; such a command must see in its input where
   * it ends, as Docker may not pass the end of stdin on to a command.
   */
  stdin?: string | Uint8Array | ReadableStream<Uint8Array>;
  /**
   * Keeps at most this many bytes of stdout (and of stderr); past it the command's output is cut
   * off and the result says truncated. What a pod prints must never fill the server's memory.
   */
  maxOutputBytes?: number;
  /**
   * Runs the command as root in the pod rather than as the pod user: only for Pier's own program
   * that sets up what the pod user must not replace (the bridge's sockets). The local runtime has
   * no user but the server's own.
   */
  asRoot?: boolean;
}

/**
 * The engine did not answer: said as a sentence for the session page, with what to do. An engine
 * other than the local one is named (the local one is "the Docker engine", as it always was).
 */
export function engineUnreachable(engineName?: string): AppError {
  const which = engineName && engineName !== "local" ? `The Docker engine ${engineName}` : "The Docker engine";
  return new AppError(503, "engine_unreachable", `${which} is not answering, so your pod cannot be started. Try again once it is back; nothing of your work is lost.`);
}

/** The output kept of a command when it sets no maxOutputBytes. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * Delivers a process's output to its listeners, keeping what arrives before the first listener
 * (the process may write before its caller has had a chance to listen). With `earlyLimit`, only
 * the latest that many bytes are kept meanwhile (for output nobody may ever listen to).
 */
export class OutputFanout {
  private listeners: Array<(chunk: Uint8Array) => void> = [];
  private early: Uint8Array[] = [];
  private earlyBytes = 0;

  constructor(private earlyLimit = Number.POSITIVE_INFINITY) {}

  listen(listener: (chunk: Uint8Array) => void): void {
    this.listeners.push(listener);
    for (const chunk of this.early.splice(0)) listener(chunk);
    this.earlyBytes = 0;
  }

  deliver(chunk: Uint8Array): void {
    for (const listener of this.listeners) listener(chunk);
    if (this.listeners.length > 0) return;
    this.early.push(chunk);
    this.earlyBytes += chunk.length;
    while (this.earlyBytes > this.earlyLimit && this.early.length > 0) this.earlyBytes -= this.early.shift()!.length;
  }
}

/** What is kept of a process's stderr until someone listens to it. */
export const EARLY_STDERR_BYTES = 64 * 1024;

/** A long-running process in the pod with its stdin, stdout and stderr. */
export interface PodProcess {
  write(data: string | Uint8Array): void;
  /** Called with each chunk of stdout, in order. */
  onOutput(listener: (chunk: Uint8Array) => void): void;
  /** Called with each chunk of stderr, in order (what came before the first listener is kept, up to EARLY_STDERR_BYTES). */
  onErrorOutput(listener: (chunk: Uint8Array) => void): void;
  /** Resolves when the process has ended (or its connection to the pod was lost). */
  exited: Promise<void>;
  /** Closes stdin and the connection; the process ends when its stdin closes. */
  close(): void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Output went past maxOutputBytes and was cut off there. */
  truncated: boolean;
}

/** The user that owns the files in pods' directories: the pod user. */
export interface FileOwner {
  uid: number;
  gid: number;
}

export interface OrphanPod {
  id: string;
  /** The Docker engine it is on (absent on the local runtime). */
  dockerEngine?: string;
  name: string;
  repoId: string;
  /** Empty for a pod from before pods were per person. */
  userId: string;
  state: string;
}

/**
 * Collects a command's output up to a limit, as bytes (a multi-byte character may be cut in
 * two by a chunk boundary, so decoding waits for the end).
 */
export class BoundedOutput {
  private chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  constructor(private limit: number) {}

  /** False once the limit is reached: the caller should stop the command. */
  add(chunk: Uint8Array): boolean {
    const room = this.limit - this.size;
    if (chunk.length > room) {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.size = this.limit;
      this.truncated = true;
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/**
 * The pod a command was to run in is not running or no longer exists: it was stopped or removed
 * behind Pier's back, perhaps a moment ago (the engine lists a pod being removed as running until
 * it has gone). Ensuring the pod again brings it back; until then, a 503.
 */
export class PodGone extends AppError {
  constructor(why: string) {
    super(503, "pod_gone", `The pod is not running (${why}); it is made again at the next action.`);
  }
}

export interface Runtime {
  readonly kind: "docker" | "local";
  /** Who owns the files in pods' directories; null when the server's own user does (local). */
  readonly fileOwner: FileOwner | null;
  /**
   * Whether the engine the pods run on answers now (within a couple of seconds): with a pod's key,
   * the engine that pod is on; without, every engine. Absent where there is no engine (the local runtime).
   */
  engineAnswers?(key?: PodKey): Promise<boolean>;
  /** Each engine by name and whether it answers now, where there are several (the placed runtime). */
  engineStates?(): Promise<Array<{ name: string; answers: boolean }>>;
  /**
   * Chooses and records the engine a person's pod not placed yet goes on, as ensurePod would, and
   * says which engine it is on: what the pod is told about where Pier is depends on it (its
   * programs dial a bridge on another engine). Absent where there is one place (the local runtime).
   */
  place?(spec: PodSpec): string;
  /**
   * Finds the pod, starting or creating it (and its image) as needed. A container whose making
   * never finished (see PodSpec.made and cutOff) is removed and the pod made again.
   */
  ensurePod(spec: PodSpec, progress: Progress): Promise<Pod>;
  /** What the engine says about the pod, changing nothing. */
  inspectPod(key: PodKey): Promise<PodStatus | null>;
  /** When the pod's container last started (a restart makes a new value); absent where pods never restart (local). */
  podStartedAt?(pod: Pod): Promise<string | null>;
  stopPod(key: PodKey): Promise<void>;
  /** Removes the pod's container; its files live in the data dir and are not touched. */
  removePod(key: PodKey): Promise<void>;
  /** Runs a command to completion as the pod user, with its output bounded. */
  exec(pod: Pod, command: string[], options: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running command as the pod user, talking to it over stdin and stdout. */
  spawn(pod: Pod, command: string[], options: ExecOptions): Promise<PodProcess>;
  /**
   * Writes files into a pod that does not share Pier's disk (see onPiersDisk), root's, replacing
   * what was at their paths. Absent where every pod shares it.
   */
  writeFiles?(pod: Pod, files: PodFile[]): Promise<void>;
  /**
   * Makes sure one version of one of Pier's tools (`name` names both) is in the read-only tools
   * volume of the engine of a pod that does not share Pier's disk, copied from `sourceDir` on the
   * server the first time; returns where the pod sees it. Absent where every pod shares Pier's disk.
   */
  placeTool?(pod: Pod, name: string, sourceDir: string): Promise<string>;
  /** Pods labelled as this Pier's whose repo and person are not (or no longer) known. */
  listOrphans(isKnown: (key: PodKey) => boolean): Promise<OrphanPod[]>;
  /** Removes one of those by its id. */
  removeOrphan(id: string): Promise<void>;
}
