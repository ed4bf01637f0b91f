import { type Actor, isAdmin } from "../auth/actor.ts";

/**
 * Whose spending an actor may see: an admin everyone's (null), anyone else only their own
 * person's, every session and task of it. Every figure of the cost reports is summed under this
 * rule (spending.ts); one session's costs are that session's to show (see session-scope.ts).
 */
export function spendingOwnerFor(actor: Actor): string | null {
  return isAdmin(actor) ? null : actor.user.id;
}
