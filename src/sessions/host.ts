import { SESSION_ENDED_CODE } from "../infra/close-codes.ts";
import type { EventBus } from "../infra/events.ts";
import type { ProgressEvent } from "../runtime/runtime.ts";
import type { Conversation } from "../chat/conversation.ts";
import type { TerminalEnd, TerminalHost } from "../terminal/terminal-host.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import type { Session } from "./sessions.ts";

/** What the session page hears while a session is being provisioned, and how it settled. */
export type SessionEvent = ({ type: "progress" } & ProgressEvent) | { type: "state"; state: "active" | "failed" | "ended"; error?: string };

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A step of provisioning moved on (topic: the session). */
    "session.progress": ProgressEvent;
    /** The session became active, failed to provision, or ended (topic: the session). */
    "session.state": { sessionId: string; userId: string; repoId: string; state: "active" | "failed" | "ended"; error?: string };
  }
}

/**
 * Calls `closed` each time a session stops being live, whichever way: it ended, or its provisioning
 * failed. What only a live session may hold (its tokens for Pier's gateway and MCP endpoint) is let
 * go here, so no way out of being live keeps it.
 */
export function onSessionClosed(bus: EventBus, closed: (sessionId: string) => void): () => void {
  return bus.subscribe("session.state", null, ({ sessionId, state }) => {
    if (state !== "active") closed(sessionId);
  });
}

/** A WebSocket attached to a session (terminal, chat): what ending the session needs of it. */
export interface SessionSocket {
  sendText(text: string): unknown;
  close(code?: number, reason?: string): void;
}

const ENDED_MESSAGE = JSON.stringify({ type: "ended" });

/** The line a new shell starts with when the one before was lost with its pod (see TerminalEnd). */
export const NEW_SHELL_NOTICE =
  "Pier: your pod was removed or restarted outside Pier, and the shell in it is gone. This is a new shell in the same worktree; the worktree's files are as they were.";

/** The parts of a live session that are made elsewhere. */
export interface HostParts {
  bus: EventBus;
  /**
   * Starts (or re-attaches to) the session's terminal in its pod: in `shell`'s, when the pod was
   * readied just now. A shell started anew prints `newShellNotice` first, when there is one.
   */
  openTerminal(session: Session, shell?: PodShell, newShellNotice?: string | null): Promise<TerminalHost>;
  /** The session's conversation (what it holds is stored; this is its queue and its turn under way). */
  openChat(sessionId: string): Conversation;
  /** Stops the MCP servers the session's chat agent started in its worktree. */
  stopMcpServers(sessionId: string): Promise<void>;
}

/**
 * One live session: the parts it has while it lives (its terminal, its chat, its open sockets,
 * its provisioning progress) and a lifecycle that only moves forward:
 * provisioning → active → ending → ended (a failed provisioning ends too; resuming makes a new host).
 */
export class SessionHost {
  state: "provisioning" | "active" | "ending" | "ended" = "provisioning";
  /** The provisioning run under way, so shutdown can wait for it. */
  provisioning: Promise<void> | null = null;
  private steps = new Map<string, ProgressEvent>();
  private settled: Extract<SessionEvent, { type: "state" }> | null = null;
  private terminalHost: Promise<TerminalHost> | null = null;
  /** The last terminal's shell was lost with its pod: the next one says so (once). */
  private shellLost = false;
  private conversation: Conversation | null = null;
  private sockets = new Set<SessionSocket>();

  constructor(
    private session: Session,
    private parts: HostParts,
  ) {}

  get sessionId(): string {
    return this.session.id;
  }

  /** A step of provisioning moved on: kept for pages that open later, and published. */
  progress(event: ProgressEvent): void {
    this.steps.set(event.step, event);
    this.parts.bus.publish("session.progress", this.session.id, event);
  }

  /**
   * Provisioning finished (`session` as it now is): it is ready to work in; its terminal starts
   * now, in the pod provisioning just readied (`shell`) when there is one, not asked for again.
   */
  activate(session: Session, shell?: PodShell): void {
    this.session = session;
    this.state = "active";
    this.settle("active");
    this.terminal(shell).catch((error) => {
      console.error(`[pier] the terminal of session ${session.id} could not start:`, error instanceof Error ? error.message : error);
    });
  }

  /** Provisioning failed; the host stays a while so a page opened now still sees every step. */
  fail(error: string): void {
    this.state = "ended";
    this.settle("failed", error);
  }

  /** The steps so far and how the run settled, for a page that starts listening now. */
  snapshot(): SessionEvent[] {
    const events: SessionEvent[] = [...this.steps.values()].map((step) => ({ type: "progress", ...step }));
    if (this.settled) events.push(this.settled);
    return events;
  }

  /**
   * The session's terminal, started on first use (and again if its shell went away). A shell lost
   * with its pod is followed by a new one that says so in its first line, once.
   */
  terminal(shell?: PodShell): Promise<TerminalHost> {
    if (this.terminalHost) return this.terminalHost;
    const opening = this.parts.openTerminal(this.session, shell, this.shellLost ? NEW_SHELL_NOTICE : null);
    this.terminalHost = opening;
    const forget = (how?: TerminalEnd) => {
      if (this.terminalHost === opening) this.terminalHost = null;
      if (how === "lost") this.shellLost = true;
    };
    opening.then((host) => {
      this.shellLost = false;
      host.onExit(forget);
    }, () => forget());
    return opening;
  }

  /** The session's chat, opened on first use. */
  chat(): Conversation {
    this.conversation ??= this.parts.openChat(this.session.id);
    return this.conversation;
  }

  /** Tracks a socket so ending the session closes it; returns what forgets it. */
  addSocket(socket: SessionSocket): () => void {
    if (this.state === "ending" || this.state === "ended") {
      socket.sendText(ENDED_MESSAGE);
      socket.close(SESSION_ENDED_CODE, "session ended");
      return () => {};
    }
    this.sockets.add(socket);
    return () => this.sockets.delete(socket);
  }

  /**
   * The session is ending: its sockets are told and closed (4001), its chat and its agent's MCP
   * servers stop, its shell and tmux session go, and its recording is closed. Saving its work is
   * the caller's next step.
   */
  async end(): Promise<void> {
    this.state = "ending";
    for (const socket of this.sockets) {
      socket.sendText(ENDED_MESSAGE);
      socket.close(SESSION_ENDED_CODE, "session ended");
    }
    this.sockets.clear();
    await this.conversation?.end();
    await this.parts.stopMcpServers(this.session.id);
    const terminal = await this.terminalHost?.catch(() => null);
    this.terminalHost = null;
    await terminal?.terminate();
  }

  /** The session ended (its work saved, its worktree gone). */
  ended(): void {
    this.state = "ended";
    this.settle("ended");
  }

  /** Server shutdown: stop watching; the shell keeps running in its pod. */
  async detach(): Promise<void> {
    const terminal = await this.terminalHost?.catch(() => null);
    await terminal?.detachAll();
  }

  private settle(state: "active" | "failed" | "ended", error?: string): void {
    this.settled = { type: "state", state, ...(error ? { error } : {}) };
    this.parts.bus.publish("session.state", this.session.id, { sessionId: this.session.id, userId: this.session.userId, repoId: this.session.repoId, state, ...(error ? { error } : {}) });
  }
}
