import { forbidden } from "../infra/errors.ts";
import type { User } from "./user.ts";

/**
 * Who is acting: a person (through a page, the API or a script), or the agent working in a
 * session for its person. Domain functions take an actor and check, next to the data they guard,
 * what it may do, so every door (HTTP, agent tools, Pier's MCP endpoint) shares one check. A
 * person acting over HTTP carries the address they came from, which the audit log keeps.
 */
export type Actor = { kind: "person"; user: User; address?: string } | { kind: "agent"; user: User; sessionId: string };

export function personActor(user: User, address?: string): Actor {
  return address === undefined ? { kind: "person", user } : { kind: "person", user, address };
}

/** Admins may change the instance; an agent never may, whoever its person is. */
export function isAdmin(actor: Actor): boolean {
  return actor.kind === "person" && actor.user.role === "admin";
}

export function assertAdmin(actor: Actor, message?: string): void {
  if (!isAdmin(actor)) throw forbidden(message);
}

/** Things only the person may do for themself (their credentials, their notifications), never an agent for them. */
export function assertPerson(actor: Actor, message = "Only the person themself can do this, not an agent acting for them."): asserts actor is Extract<Actor, { kind: "person" }> {
  if (actor.kind !== "person") throw forbidden(message);
}
