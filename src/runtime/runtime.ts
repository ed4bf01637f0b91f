/**
 * Where sessions' shells and commands run. Two implementations share this interface, so the
 * session, terminal and chat code never branch on it: `docker` (one container per repo, the pod)
 * and `local` (plain processes on the server's own machine).
 */
export interface PodSpec {
  repoId: string;
  repoName: string;
  /** The image the repo asked for, or the workspace image from config. */
  image: string;
  /** The repo's directory in the data dir: the one path the pod may see. */
  mountDir: string;
}

export interface Pod {
  /** The container id, or "local". */
  id: string;
  image: string;
}

export type PodState = "running" | "stopped" | "missing";

export interface PodStatus {
  id: string;
  image: string;
  state: Exclude<PodState, "missing">;
}

/** One step of getting a pod ready, for the session page's progress view. */
export interface ProgressEvent {
  step: "image" | "pod" | "clone" | "worktree";
  message: string;
  /** 0..1 when the step can tell how far along it is. */
  fraction?: number;
}

export type Progress = (event: ProgressEvent) => void;

export interface ExecOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Kills the command after this long; the result then says timedOut. */
  timeoutMs?: number;
}

/**
 * Delivers a process's output to its listeners, keeping what arrives before the first listener
 * (the process may write before its caller has had a chance to listen).
 */
export class OutputFanout {
  private listeners: Array<(chunk: Uint8Array) => void> = [];
  private early: Uint8Array[] = [];

  listen(listener: (chunk: Uint8Array) => void): void {
    this.listeners.push(listener);
    for (const chunk of this.early.splice(0)) listener(chunk);
  }

  deliver(chunk: Uint8Array): void {
    if (this.listeners.length === 0) this.early.push(chunk);
    for (const listener of this.listeners) listener(chunk);
  }
}

/** A long-running process in the pod with its stdin and stdout (stderr is discarded). */
export interface PodProcess {
  write(data: string | Uint8Array): void;
  /** Called with each chunk of stdout, in order. */
  onOutput(listener: (chunk: Uint8Array) => void): void;
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
}

import type { FileOwner } from "../infra/git.ts";

export type { FileOwner };

export interface OrphanPod {
  id: string;
  name: string;
  repoId: string;
  state: string;
}

export interface Runtime {
  readonly kind: "docker" | "local";
  readonly fileOwner: FileOwner | null;
  /** Finds the repo's pod, starting or creating it (and its image) as needed. */
  ensurePod(spec: PodSpec, progress: Progress): Promise<Pod>;
  /** What the engine says about the repo's pod, changing nothing. */
  inspectPod(repoId: string): Promise<PodStatus | null>;
  stopPod(repoId: string): Promise<void>;
  /** Removes the pod's container; its files live in the data dir and are not touched. */
  removePod(repoId: string): Promise<void>;
  /** Runs a command to completion as the pod user. */
  exec(pod: Pod, command: string[], options: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running command as the pod user, talking to it over stdin and stdout. */
  spawn(pod: Pod, command: string[], options: ExecOptions): Promise<PodProcess>;
  /** Pods labelled as this Pier's whose repo no longer exists. */
  listOrphans(knownRepoIds: Set<string>): Promise<OrphanPod[]>;
}
