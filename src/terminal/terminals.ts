import type { Actor } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { traceStep } from "../observability/start-trace.ts";
import type { Pods } from "../pods/pods.ts";
import { getRepo } from "../repos/repos.ts";
import { sessionFor } from "../sessions/session-scope.ts";
import type { Session } from "../sessions/session.ts";
import { type PodKey, PodGone } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import type { SettingsStore } from "../settings/settings.ts";
import { type PtyHolderBuild, placeHolder } from "./holder/build.ts";
import type { HolderHub } from "./holder/holder-stream.ts";
import { recordingPath } from "./recording.ts";
import { SessionTerminal } from "./session-terminal.ts";

/** How often, and how far apart, a terminal is tried again in a pod found gone when it started. */
const POD_GONE_ATTEMPTS = 5;
const POD_GONE_WAIT_MS = 250;

interface TerminalDeps {
  db: Db;
  dataDir: string;
  pods: Pods;
  settings: SettingsStore;
  /** What else the session's shell gets in its environment (where Pier's model gateway is); never a secret. */
  env?(session: Session): Record<string, string>;
  /**
   * The terminal holder: its build, the directory of a pod's (read-only to it) where Pier places
   * it, and the socket there on which Pier's hub hears from it.
   */
  holder?: { build: PtyHolderBuild; hub: HolderHub; dirOf(key: PodKey): string; socketOf(key: PodKey): string };
}

/** What the tmux servers of the Pier instance are called, before each one's session id. */
export function tmuxSocketName(instanceId: string): string {
  return `pier-${instanceId.slice(0, 8)}`;
}

/**
 * Opens sessions' terminals in their pods. A session's terminal starts when the session becomes
 * active (and again when the server starts), not when someone opens it, so the recording has all
 * of its output even while no browser is attached; the session's host keeps it (src/sessions/host.ts).
 */
export class Terminals {
  /** What this Pier's tmux servers are called (per data dir), so two Piers on one machine never share one. */
  readonly socketName: string;
  private outputListeners: Array<(sessionId: string, bytes: Uint8Array) => void> = [];

  constructor(private deps: TerminalDeps) {
    this.socketName = tmuxSocketName(deps.settings.instanceId());
  }

  /** Every terminal opened from now on also tells `listener` its output, as it comes (links to pull requests, a bell). */
  onOutput(listener: (sessionId: string, bytes: Uint8Array) => void): void {
    this.outputListeners.push(listener);
  }

  /**
   * The session's own tmux server: one per session, not one per pod, because tmux 3.3a crashes
   * (every session of the server with it) when its clients attach and resize across sessions at once.
   */
  socketFor(sessionId: string): string {
    return `${this.socketName}-${sessionId}`;
  }

  /**
   * Where a session's terminal output is recorded, for an actor who may see the session (see
   * session-scope.ts): the file may not exist yet. Any other session is a 404.
   */
  recordingFor(actor: Actor, sessionId: string): { session: Session; path: string } {
    const session = sessionFor(this.deps.db, actor, sessionId);
    return { session, path: recordingPath(this.deps.dataDir, session.id) };
  }

  /**
   * Attaches to the session's tmux session in its pod, starting it (and its shell) if needed; in
   * `shell`'s pod when the caller has just readied it. A shell it starts anew shows `note` first.
   */
  async open(session: Session, shell?: PodShell, note?: string | null): Promise<SessionTerminal> {
    const repo = getRepo(this.deps.db, session.repoId);
    let failed: { podId: string; error: unknown } | null = null;
    for (let attempt = 1; ; attempt++) {
      // Ensuring the pod also brings back one that was stopped or removed behind Pier's back.
      const inPod = shell ?? (await traceStep("terminal: pod ensure", () => this.deps.pods.ensure(repo, session.userId)));
      // The same pod, which did not go: the terminal failed on its own.
      if (failed && inPod.pod.id === failed.podId && !(failed.error instanceof PodGone)) throw failed.error;
      try {
        const terminal = await this.openIn(session, inPod, note);
        for (const listener of this.outputListeners) terminal.onOutput((bytes) => listener(session.id, bytes));
        return terminal;
      } catch (error) {
        // A pod being removed still looks like it runs for a moment, and may even take the
        // terminal's first command: ensured again a little later, it is found gone and made anew.
        if (shell || attempt === POD_GONE_ATTEMPTS) throw error;
        failed = { podId: inPod.pod.id, error };
        await Bun.sleep(POD_GONE_WAIT_MS * attempt);
      }
    }
  }

  private async openIn(session: Session, { runtime, pod }: PodShell, note?: string | null): Promise<SessionTerminal> {
    const repo = getRepo(this.deps.db, session.repoId);
    const holder = this.deps.holder;
    const binary = await traceStep("terminal: holder binary", async () => holder?.build.binary());
    const key = { repoId: session.repoId, userId: session.userId };
    const holderInPod = holder && binary ? { program: placeHolder(binary, holder.dirOf(key)), socket: holder.socketOf(key), hub: holder.hub } : null;
    // No secret goes in here: tmux keeps it in its command line and environment for the pod's life.
    // git and gh ask Pier for the GitHub token when they need it (see PodServices). The repo and
    // the worktree give the shell its prompt (the pod's profile.sh).
    return traceStep("terminal: tmux and holder", () => SessionTerminal.open(runtime, pod, {
      sessionId: session.id,
      worktreePath: session.worktreePath,
      startCommand: repo.terminalCommand,
      env: { ...this.deps.env?.(session), PIER_SESSION_ID: session.id, PIER_REPO: repo.name, PIER_WORKTREE: session.worktreePath },
      recordingPath: recordingPath(this.deps.dataDir, session.id),
      recordingLimitMiB: this.deps.settings.plain().recordingLimitMiB,
      socketName: this.socketFor(session.id),
      holder: holderInPod,
      note,
    }));
  }
}
