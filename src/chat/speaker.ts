import type { Actor } from "../auth/actor.ts";
import { forbidden } from "../infra/errors.ts";

/**
 * Who speaks in a session's conversation: only its own person. Everything that becomes a user
 * turn (a chat message, a sent review, feedback passed on) is checked here, so an admin who may
 * read along, or anyone else, never starts a turn in someone else's session (see quoted.ts for
 * how others' words reach an agent instead).
 */
export function assertSpeaker(actor: Actor, session: { userId: string }, what = "talk to its agent"): void {
  if (actor.kind !== "person" || actor.user.id !== session.userId) throw forbidden(`Only the session's own person can ${what}; others can read along.`);
}
