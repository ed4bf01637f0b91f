import type { Db } from "../infra/db.ts";
import type { Pods } from "../pods/pods.ts";
import { getRepo } from "../repos/repos.ts";
import type { Session } from "../sessions/sessions.ts";
import type { SettingsStore } from "../settings/settings.ts";
import { recordingPath } from "./recording.ts";
import { TerminalHost } from "./terminal-host.ts";

interface TerminalDeps {
  db: Db;
  dataDir: string;
  pods: Pods;
  settings: SettingsStore;
}

/**
 * The terminal of every active session. A session's terminal starts when the session becomes
 * active (and again when the server starts), not when someone opens it, so the recording has
 * all of its output even while no browser is attached.
 */
export class Terminals {
  private hosts = new Map<string, Promise<TerminalHost>>();

  /** One tmux server per Pier (per data dir), so two Piers on one machine never share one. */
  readonly socketName: string;

  constructor(private deps: TerminalDeps) {
    this.socketName = `pier-${deps.settings.instanceId().slice(0, 8)}`;
  }

  /** The session's terminal, attached (or started) on first use. */
  host(session: Session): Promise<TerminalHost> {
    const existing = this.hosts.get(session.id);
    if (existing) return existing;
    const opening = this.open(session);
    this.hosts.set(session.id, opening);
    opening.then(
      (host) => host.onExit(() => this.forget(session.id, opening)),
      () => this.forget(session.id, opening),
    );
    return opening;
  }

  /** Starts the terminals of sessions that were active when the server stopped. */
  startAll(sessions: Session[]): void {
    for (const session of sessions) {
      this.host(session).catch((error) => {
        console.error(`[pier] the terminal of session ${session.id} could not start:`, error instanceof Error ? error.message : error);
      });
    }
  }

  /** The session is ending: its shell and tmux session go, and its recording is closed. */
  async end(sessionId: string): Promise<void> {
    const opening = this.hosts.get(sessionId);
    this.hosts.delete(sessionId);
    const host = await opening?.catch(() => null);
    await host?.terminate();
  }

  /** Server shutdown: stop watching; the shells keep running in their pods. */
  async detachAll(): Promise<void> {
    const hosts = await Promise.allSettled(this.hosts.values());
    this.hosts.clear();
    for (const result of hosts) if (result.status === "fulfilled") result.value.detachAll();
  }

  private async open(session: Session): Promise<TerminalHost> {
    const repo = getRepo(this.deps.db, session.repoId);
    // Ensuring the pod also brings back one that was stopped or removed behind Pier's back.
    const { runtime, pod } = await this.deps.pods.ensure(repo, session.userId);
    // No secret goes in here: tmux keeps it in its command line and environment for the pod's life.
    // git and gh ask Pier for the GitHub token when they need it (see PodServices).
    return TerminalHost.open(runtime, pod, {
      sessionId: session.id,
      worktreePath: session.worktreePath,
      startCommand: repo.terminalCommand,
      env: { PIER_SESSION_ID: session.id },
      recordingPath: recordingPath(this.deps.dataDir, session.id),
      recordingLimitMiB: this.deps.settings.plain().recordingLimitMiB,
      socketName: this.socketName,
    });
  }

  private forget(sessionId: string, which: Promise<TerminalHost>): void {
    if (this.hosts.get(sessionId) === which) this.hosts.delete(sessionId);
  }
}
