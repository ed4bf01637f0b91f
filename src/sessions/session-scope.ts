import { and, eq, type SQL } from "drizzle-orm";
import { type Actor, isAdmin } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { notFound } from "../infra/errors.ts";
import { sessions } from "./tables.ts";

type SessionRow = typeof sessions.$inferSelect;

/**
 * Who may see a session, and so anything made from it (its pull requests, transcript, recording,
 * a report drawn from it): its own person, or any admin; the agent only the session it works in.
 * Everyone else is told it does not exist. The rule is written once, here, as which sessions an
 * actor reaches; a single row and a SQL query are both checked against it.
 */
function reachOf(actor: Actor): { sessionId: string } | { userId: string } | "every" {
  if (actor.kind === "agent") return { sessionId: actor.sessionId };
  return isAdmin(actor) ? "every" : { userId: actor.user.id };
}

/** Whether the actor may see this session (see reachOf). */
export function maySeeSession(actor: Actor, session: Pick<SessionRow, "id" | "userId">): boolean {
  const reach = reachOf(actor);
  if (reach === "every") return true;
  return "sessionId" in reach ? session.id === reach.sessionId : session.userId === reach.userId;
}

/** The sessions the actor may see, as a condition on the sessions table (undefined: all of them). */
export function visibleSessions(actor: Actor): SQL | undefined {
  const reach = reachOf(actor);
  if (reach === "every") return undefined;
  return "sessionId" in reach ? eq(sessions.id, reach.sessionId) : eq(sessions.userId, reach.userId);
}

/** A session the actor may see; a 404, as if it did not exist, for any other. */
export function sessionFor(db: Db, actor: Actor, id: string): SessionRow {
  const session = db.select().from(sessions).where(and(eq(sessions.id, id), visibleSessions(actor))).get();
  if (!session) throw notFound("session");
  return session;
}
