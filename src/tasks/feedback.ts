import { type Static, Type } from "@sinclair/typebox";
import type { Actor } from "../auth/actor.ts";
import { assertSpeaker } from "../chat/speaker.ts";
import { AppError } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { requiredText } from "../infra/input.ts";
import type { SessionHosts } from "../sessions/hosts.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { Session } from "../sessions/session.ts";
import { passedOnMessage } from "./task-words.ts";
import type { PublicNote, Tasks } from "./tasks.ts";

/** POST /api/sessions/:id/feedback: which note of the session's task to pass on. */
export const PassOnInput = Type.Object({ noteId: requiredText("noteId", { error: "noteId must be the id of a note of the session's task." }) });
export type PassOnInput = Static<typeof PassOnInput>;

export interface TaskFeedbackDeps {
  bus: EventBus;
  sessions: Sessions;
  hosts: SessionHosts;
  tasks: Tasks;
  /** Raises "needs you" with reason feedback on a session (its person decides what to do with it). */
  needsFeedback(sessionId: string): void;
  /** The person acted on the session's feedback: its "needs you" goes. */
  feedbackHandled(sessionId: string): void;
  /** Whether the session's person has already sent exactly this message. */
  said(sessionId: string, text: string): boolean;
}

/**
 * What a task's rejection does to the sessions linked to it. Only a session's own person's
 * messages are user turns in it, so another member's feedback never becomes one by itself: it is
 * the task's note and a "needs you" (reason `feedback`) for each linked live session's person,
 * who passes it on to their agent with one click (`passOn`), quoted and attributed. When every
 * linked live session is the rejecter's own, their feedback is their own message to their agent,
 * and goes at once.
 */
export class TaskFeedback {
  constructor(private deps: TaskFeedbackDeps) {
    deps.bus.subscribe("task.rejected", null, ({ task, note }) => this.rejected(task.id, note));
  }

  /**
   * The session's person sends a note of the session's task (feedback above all) to its agent
   * as their own message. Only they may: anyone else's message would be a turn in their session.
   */
  passOn(actor: Actor, sessionId: string, { noteId }: PassOnInput): { text: string } {
    const session = this.deps.sessions.getFor(actor, sessionId);
    assertSpeaker(actor, session, "pass a note on to its agent");
    if (!session.taskId) throw new AppError(409, "no_task", "The session is linked to no task, so it has no feedback to pass on.");
    const note = this.deps.tasks.note(actor, session.taskId, noteId);
    const conversation = this.conversationOf(session);
    const text = this.messageFor(session, note);
    conversation.send(text);
    this.deps.feedbackHandled(session.id);
    return { text };
  }

  /**
   * The feedback the session's person may pass on now, for its page: the task's latest, by
   * someone else, not yet passed on; null for anyone but the session's person.
   */
  waiting(actor: Actor, session: Session): { note: PublicNote; author: string } | null {
    if (actor.kind !== "person" || actor.user.id !== session.userId || session.state !== "active" || !session.taskId) return null;
    const note = this.deps.tasks.notes(actor, session.taskId).findLast((n) => n.kind === "feedback");
    if (!note || note.userId === session.userId || this.deps.said(session.id, this.messageFor(session, note))) return null;
    return { note, author: this.deps.tasks.noteAuthor(note) };
  }

  private rejected(taskId: string, note: PublicNote): void {
    // A run's session hears the feedback from its run (src/runs/runs.ts), as a round of its own.
    const linked = this.deps.sessions.allActive().filter((session) => session.taskId === taskId && session.origin === "person");
    const allTheirOwn = linked.every((session) => session.userId === note.userId);
    for (const session of linked) {
      if (allTheirOwn) this.deps.hosts.get(session.id)?.chat().send(this.messageFor(session, note));
      else if (session.userId !== note.userId) this.deps.needsFeedback(session.id);
    }
  }

  private messageFor(session: Session, note: PublicNote): string {
    const isThePerson = note.author === "user" && note.userId === session.userId;
    return passedOnMessage(note, { name: this.deps.tasks.noteAuthor(note), isThePerson });
  }

  private conversationOf(session: Session) {
    const host = this.deps.hosts.get(session.id);
    if (session.state === "active" && host) return host.chat();
    throw new AppError(409, "session_not_active", `The session is ${session.state}; resume it to pass the note on to its agent.`);
  }
}
