import type { SQL } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { visibleSessions } from "../sessions/session-scope.ts";

/**
 * Who may see a pull request: whoever may see a session it belongs to (see session-scope.ts), as
 * that session's. So a member sees their own sessions', an admin everyone's, and the agent only its
 * own session's, not every pull request of its person. A condition on session_pull_requests joined
 * to the sessions table (undefined: all of them).
 */
export function visiblePullRequests(actor: Actor): SQL | undefined {
  return visibleSessions(actor);
}
