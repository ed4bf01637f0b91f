import { type HostParts, SessionHost } from "./host.ts";
import type { Session } from "./session.ts";

/** How long the host of a failed provisioning stays, for pages that open just after. */
const KEEP_FAILED_MS = 60_000;

/**
 * The live sessions, each with its one host: the only map of sessions the server keeps in
 * memory. A session gets a host when provisioning starts (or, after a restart, when it is found
 * active) and loses it when it ends.
 */
export class SessionHosts {
  private hosts = new Map<string, SessionHost>();
  private parts: HostParts | null = null;

  /**
   * What every host is made of. Those parts (the chats, the agents' MCP servers) need the
   * sessions, which need the hosts, so they are connected once all exist, before any session is
   * started or resumed.
   */
  connect(parts: HostParts): void {
    this.parts = parts;
  }

  /** A fresh host for a session about to be provisioned (a resumed one starts over). */
  begin(session: Session): SessionHost {
    if (!this.parts) throw new Error("A session host was asked for before the hosts' parts were connected.");
    const host = new SessionHost(session, this.parts);
    this.hosts.set(session.id, host);
    return host;
  }

  get(sessionId: string): SessionHost | undefined {
    return this.hosts.get(sessionId);
  }

  /** The host of an active session, made (with its terminal started) if the server has none yet. */
  active(session: Session): SessionHost {
    const existing = this.hosts.get(session.id);
    if (existing) return existing;
    const host = this.begin(session);
    host.activate(session);
    return host;
  }

  /** The terminal of an active session. */
  terminal(session: Session) {
    return this.active(session).terminal();
  }

  /** The session failed to provision: its host goes after a while. */
  failed(host: SessionHost, error: string): void {
    host.fail(error);
    setTimeout(() => this.forget(host), KEEP_FAILED_MS).unref();
  }

  /** The session ended: its host goes now. */
  ended(host: SessionHost): void {
    host.ended();
    this.forget(host);
  }

  /** Resolves when no provisioning run is under way. */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.hosts.values()].flatMap((host) => (host.provisioning ? [host.provisioning] : []));
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  /** Pier is stopping to restart: every session's open pages are told, and its turn stopped (see SessionHost.stopForRestart). */
  async stopForRestart(turnGraceMs: number): Promise<void> {
    await Promise.all([...this.hosts.values()].map((host) => host.stopForRestart(turnGraceMs)));
  }

  /** Server shutdown: every terminal stops being watched; the shells keep running in their pods. */
  async detachAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((host) => host.detach()));
    this.hosts.clear();
  }

  private forget(host: SessionHost): void {
    if (this.hosts.get(host.sessionId) === host) this.hosts.delete(host.sessionId);
  }
}
