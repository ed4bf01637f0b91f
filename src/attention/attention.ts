import { isDiskFull } from "../infra/disk-full.ts";
import type { Actor } from "../auth/actor.ts";
import type { EventBus } from "../infra/events.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { Session } from "../sessions/session.ts";
import type { SessionAttention } from "../sessions/tables.ts";
import type { SettingsStore } from "../settings/settings.ts";
import { BellDetector } from "./bell.ts";
import type { AttentionFlags } from "./flags.ts";
import type { AttentionMessage, Webhooks } from "./webhooks.ts";

/** How long a page's "I am looking" lasts without being said again (pages say it every 20 s). */
export const LOOKING_TTL_MS = 45_000;

/** What each reason means, as a phrase ("the agent finished its turn"): the webhook's and the push's words. */
export const REASONS: Record<SessionAttention, string> = {
  turn_end: "the agent finished its turn",
  approval: "the agent waits for your approval",
  bell: "the terminal rang its bell",
  quiet: "the terminal went quiet",
  feedback: "someone sent the session's task back with feedback, for you to pass on to the agent or not",
  sign_in: "your Claude sign-in has expired: paste a new token",
  disk: "the disk is nearly full and Pier stopped what was filling it",
  budget: "it reached a budget, so Pier stopped its agent and refuses its model requests",
};

export interface AttentionDeps {
  bus: EventBus;
  sessions: Sessions;
  /** Where the reasons are kept and said. */
  flags: AttentionFlags;
  settings: SettingsStore;
  webhooks: Webhooks;
  repoName(repoId: string): string;
}

/**
 * "Needs you": a live session needs its person when its agent ended a turn, an approval waits, its
 * terminal rang the bell, or its terminal went quiet after output — each only while the person is
 * not looking at that session (its page visible, saying so). The reason is kept on the session
 * (`attention`), shown wherever the person is, sent once to their webhook, and cleared when they
 * look. An approval stays until it is answered: it still waits when the person looks away.
 */
export class Attention {
  /** Until when each session's person is looking at it (what their page last said). */
  private looking = new Map<string, number>();
  /** Sessions their person has looked at since Pier started: "quiet" counts output after a look. */
  private looked = new Set<string>();
  private bells = new Map<string, BellDetector>();
  private quietTimers = new Map<string, ReturnType<typeof setTimeout>>();
  // All four are let go as the session's host releases it (see forget).
  private stops: Array<() => void> = [];

  constructor(private deps: AttentionDeps) {
    this.stops.push(
      deps.bus.subscribe("chat.event", null, (event, sessionId) => {
        if (event.type === "turn_end") this.raise(sessionId, "turn_end");
        else if (event.type === "error" && event.code === "sign_in_expired") this.raise(sessionId, "sign_in");
        else if (event.type === "error" && event.code === "budget_exceeded") this.raise(sessionId, "budget");
      }),
      deps.bus.subscribe("session.attention", null, (change) => {
        if (change.attention) void this.tell(change.sessionId, change.attention);
      }),
    );
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
    for (const id of [...this.quietTimers.keys()]) this.forget(id);
  }

  /** Whether the session's person is looking at it now. */
  isLooking(sessionId: string): boolean {
    return (this.looking.get(sessionId) ?? 0) > Date.now();
  }

  /**
   * A page says whether its person is looking at the session (visible and focused) or stopped.
   * Only the session's own person counts: an admin looking in clears nothing. Looking clears
   * every reason but a waiting approval.
   */
  seen(actor: Actor, sessionId: string, looking: boolean): void {
    const session = this.deps.sessions.getFor(actor, sessionId);
    if (actor.kind !== "person" || actor.user.id !== session.userId) return;
    if (!looking) {
      this.looking.delete(sessionId);
      return;
    }
    this.looking.set(sessionId, Date.now() + LOOKING_TTL_MS);
    this.looked.add(sessionId);
    this.cancelQuiet(sessionId);
    if (session.attention && session.attention !== "approval") this.deps.flags.clear(session.attention, sessionId);
  }

  /**
   * Raises a reason on a live session whose person is not looking. A waiting approval is never
   * replaced, nor feedback, an expired sign-in or a reached budget waiting for its person by
   * anything less (the turn that found the sign-in expired, or the budget reached, ends right
   * after saying so).
   */
  raise(sessionId: string, reason: Exclude<SessionAttention, "approval">): void {
    if (this.isLooking(sessionId)) return;
    const session = this.deps.sessions.findLive(sessionId);
    if (!session || session.state !== "active" || session.attention === "approval") return;
    // An unattended run's turn ending, or its terminal going quiet, is its run's to act on: nobody is waiting to answer.
    if (session.origin === "run" && (reason === "turn_end" || reason === "quiet")) return;
    if (session.attention === "feedback" && reason !== "feedback") return;
    if (session.attention === "sign_in" && reason !== "sign_in" && reason !== "feedback") return;
    if (session.attention === "budget" && reason !== "budget" && reason !== "sign_in" && reason !== "feedback") return;
    try {
      this.deps.flags.mark(sessionId, reason);
    } catch (error) {
      // Raised from terminal output and timers: a full disk must not take those down with it.
      if (!isDiskFull(error)) throw error;
      console.error(`[pier] session ${sessionId} needs its person (${reason}), but the disk is too full to record it.`);
    }
  }

  /** What the session's terminal printed: a bell raises at once; output then silence raises "quiet". */
  terminalOutput(sessionId: string, bytes: Uint8Array): void {
    let bell = this.bells.get(sessionId);
    if (!bell) this.bells.set(sessionId, (bell = new BellDetector()));
    if (bell.feed(bytes)) this.raise(sessionId, "bell");
    if (!this.looked.has(sessionId) || this.isLooking(sessionId)) return;
    const seconds = this.deps.settings.plain().quietSeconds;
    if (seconds <= 0) return;
    this.cancelQuiet(sessionId);
    const timer = setTimeout(() => {
      this.quietTimers.delete(sessionId);
      this.raise(sessionId, "quiet");
    }, seconds * 1000);
    timer.unref?.();
    this.quietTimers.set(sessionId, timer);
  }

  /** The person's live sessions that need them, newest first. */
  needing(userId: string): Session[] {
    return this.deps.flags.needing(userId);
  }

  /** Sends the person's webhook once for this raise, unless they are looking after all. */
  private async tell(sessionId: string, reason: SessionAttention): Promise<void> {
    if (this.isLooking(sessionId)) return;
    const session = this.deps.sessions.get(sessionId);
    const pierUrl = this.deps.webhooks.pierUrlOf(session.userId);
    if (!pierUrl) return;
    const url = `${pierUrl}/sessions/${session.id}`;
    const line = `“${session.title}” needs you: ${REASONS[reason]}.`;
    const message: AttentionMessage = {
      text: `${line} ${url}`,
      message: `${line} ${url}`,
      title: "Pier: a session needs you",
      reason,
      sessionId: session.id,
      sessionTitle: session.title,
      repo: this.deps.repoName(session.repoId),
      url,
    };
    await this.deps.webhooks.send(session.userId, message);
  }

  private cancelQuiet(sessionId: string): void {
    const timer = this.quietTimers.get(sessionId);
    if (timer) clearTimeout(timer);
    this.quietTimers.delete(sessionId);
  }

  /** The session ended or failed (its host releases it): nothing of it is kept, and no reason stays on it. */
  forget(sessionId: string): void {
    this.cancelQuiet(sessionId);
    this.bells.delete(sessionId);
    this.looking.delete(sessionId);
    this.looked.delete(sessionId);
    this.deps.flags.clear(null, sessionId);
  }
}
