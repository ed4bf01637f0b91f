import { RESTARTING_MESSAGE, SERVER_RESTARTING_CODE, SERVER_RESTARTING_REASON, SESSION_ENDED_CODE } from "../infra/close-codes.ts";
import type { EventBus } from "../infra/events.ts";
import type { PodState, ProgressEvent } from "../runtime/runtime.ts";
import type { Conversation } from "../chat/conversation.ts";
import type { SessionTerminal } from "../terminal/session-terminal.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import type { Session } from "./session.ts";

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

/** A WebSocket attached to a session (terminal, chat): what ending the session needs of it. */
export interface SessionSocket {
  sendText(text: string): unknown;
  close(code?: number, reason?: string): void;
}

const ENDED_MESSAGE = JSON.stringify({ type: "ended" });

/** The first line of a shell opened because the one before went with its pod. */
export const POD_RESTARTED_NOTE = "Pier: the pod restarted or was removed; this is a new shell.";
export const POD_REBUILT_NOTE = "Pier: your pod was rebuilt from the repository's new environment; this is a new shell in the same worktree.";
/** How often a terminal whose pod was lost is tried again, until its engine answers. */
const REOPEN_EVERY_MS = 1000;

/** The parts of a live session that are made elsewhere. */
export interface HostParts {
  bus: EventBus;
  /**
   * Starts (or re-attaches to) the session's terminal in its pod: in `shell`'s, when the pod was
   * readied just now; a shell it has to start anew shows `note` first.
   */
  openTerminal(session: Session, shell?: PodShell, note?: string | null): Promise<SessionTerminal>;
  /** What the engine says of the session's pod now; throws while the engine does not answer. */
  podState(session: Session): Promise<PodState>;
  /** The session's conversation (what it holds is stored; this is its queue and its turn under way). */
  openChat(sessionId: string): Conversation;
  /** Stops the MCP servers the session's chat agent started in its worktree. */
  stopAgentProcesses(sessionId: string): Promise<void>;
  /**
   * Lets go of what Pier holds elsewhere for the session while it is live (its gateway and MCP
   * tokens, what attention and the pull request scanners keep of it). Called each time the session
   * stops being live, whichever way (it ended, or its provisioning failed), so no way out keeps it.
   */
  release(sessionId: string): void;
}

/**
 * One live session: the parts it has while it lives (its terminal, its chat, its open sockets,
 * its provisioning progress; what other parts of Pier keep for it is let go through
 * `HostParts.release`, so all of it goes here) and a lifecycle that only moves forward:
 * provisioning → active → ending → ended (a failed provisioning ends too; resuming makes a new host).
 */
export class SessionHost {
  state: "provisioning" | "active" | "ending" | "ended" = "provisioning";
  /** The provisioning run under way, so shutdown can wait for it. */
  provisioning: Promise<void> | null = null;
  private steps = new Map<string, ProgressEvent>();
  private settled: Extract<SessionEvent, { type: "state" }> | null = null;
  private terminalOpened: Promise<SessionTerminal> | null = null;
  private conversation: Conversation | null = null;
  private sockets = new Set<SessionSocket>();
  /** What the next new shell says first: the setup script's output, or that the terminal's pod was lost; until a terminal opens. */
  private note: string | null = null;
  /** The note says why Pier itself replaced the pod (a rebuild, a move): losing the old shell says nothing else. */
  private noteOfPier = false;
  private reopening = false;
  /** Server shutdown: no terminal is opened again. */
  private detached = false;

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
   * now, in the pod provisioning just readied (`shell`) when there is one, not asked for again. A
   * new shell shows `note` first (what the repo's setup script printed).
   */
  activate(session: Session, shell?: PodShell, note: string | null = null): void {
    this.session = session;
    this.state = "active";
    this.note = note;
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
   * The session's terminal, started on first use, and again if its shell went away: at once, by
   * itself, when it went with its pod (the engine or the pod restarted), so the recording goes on
   * and a reconnecting page finds it.
   */
  terminal(shell?: PodShell): Promise<SessionTerminal> {
    if (this.terminalOpened) return this.terminalOpened;
    const opening = this.parts.openTerminal(this.session, shell, this.note);
    this.terminalOpened = opening;
    const forget = () => {
      if (this.terminalOpened === opening) this.terminalOpened = null;
    };
    opening.then((host) => {
      this.note = null;
      this.noteOfPier = false;
      host.onExit((lost) => {
        forget();
        if (lost) void this.reopenAfterLoss();
      });
    }, forget);
    return opening;
  }

  /**
   * The terminal's connection to its pod was lost. It is opened again every second until the
   * engine answers (ensuring the pod starts it if its restart policy has not); if the shell went
   * with the pod, the new one says so first. A pod that is gone altogether (removed) is not made
   * again from here: the next action in the session provisions it.
   */
  private async reopenAfterLoss(): Promise<void> {
    if (!this.noteOfPier) this.note = POD_RESTARTED_NOTE;
    if (this.reopening) return;
    this.reopening = true;
    console.error(`[pier] session ${this.session.id} lost its terminal's pod; opening it again once the engine answers`);
    try {
      while (this.state === "active" && !this.detached) {
        try {
          if ((await this.parts.podState(this.session)) === "missing") return;
          await this.terminal();
          return;
        } catch {
          await Bun.sleep(REOPEN_EVERY_MS);
        }
      }
    } finally {
      this.reopening = false;
    }
  }

  /** The pod is about to be made again from a new environment: the shell that opens next says so. */
  podRebuilding(): void {
    this.podReplacing(POD_REBUILT_NOTE);
  }

  /**
   * The pod was made again from a new environment (its old shell went with the old container):
   * the terminal opens again in the new one, its shell saying why first.
   */
  podRebuilt(): void {
    this.podReplaced(POD_REBUILT_NOTE);
  }

  /**
   * The pod is being moved to another engine: the turn under way stops and the agent's processes
   * in the pod end (the session stays active, its worktree as it is); the shell that opens next,
   * in the pod where it ends up, says `note` first.
   */
  async pauseForMove(note: string): Promise<void> {
    this.podReplacing(note);
    await this.conversation?.interrupt();
    await this.parts.stopAgentProcesses(this.session.id);
  }

  /** The pod is running again after a move (on its new engine, or where it was if the move failed): its terminal opens again there. */
  resumeAfterMove(note: string): void {
    this.podReplaced(note);
  }

  private podReplacing(note: string): void {
    this.note = note;
    this.noteOfPier = true;
  }

  private podReplaced(note: string): void {
    this.podReplacing(note);
    if (this.state !== "active" || this.detached) return;
    this.terminal().catch((error: unknown) => {
      console.error(`[pier] the terminal of session ${this.session.id} could not open in its pod again:`, error instanceof Error ? error.message : error);
    });
  }

  /** A line from Pier in the session's terminal, when it has one open (nobody is watching one that is not). */
  sayInTerminal(message: string): void {
    void this.terminalOpened?.then((terminal) => terminal.notice(message)).catch(() => undefined);
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
    await this.parts.stopAgentProcesses(this.session.id);
    const terminal = await this.terminalOpened?.catch(() => null);
    this.terminalOpened = null;
    await terminal?.terminate();
  }

  /** The session ended (its work saved, its worktree gone). */
  ended(): void {
    this.state = "ended";
    this.settle("ended");
  }

  /**
   * Pier is stopping to restart: open pages are told (their sockets close with 1012 and reconnect
   * by themselves), and the turn under way is stopped and recorded as interrupted within
   * `turnGraceMs` (one that takes longer is closed at the next start, as after a kill).
   */
  async stopForRestart(turnGraceMs: number): Promise<void> {
    for (const socket of this.sockets) {
      socket.sendText(RESTARTING_MESSAGE);
      socket.close(SERVER_RESTARTING_CODE, SERVER_RESTARTING_REASON);
    }
    this.sockets.clear();
    await this.conversation?.stopForShutdown(turnGraceMs);
  }

  /** Server shutdown: stop watching; the shell keeps running in its pod. */
  async detach(): Promise<void> {
    this.detached = true;
    const terminal = await this.terminalOpened?.catch(() => null);
    await terminal?.detachAll();
  }

  private settle(state: "active" | "failed" | "ended", error?: string): void {
    this.settled = { type: "state", state, ...(error ? { error } : {}) };
    // Before it is published: a page told the session ended finds its tokens already gone.
    if (state !== "active") this.parts.release(this.session.id);
    this.parts.bus.publish("session.state", this.session.id, { sessionId: this.session.id, userId: this.session.userId, repoId: this.session.repoId, state, ...(error ? { error } : {}) });
  }
}
