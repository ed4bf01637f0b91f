import type { Actor } from "../auth/actor.ts";
import type { AuditActorKind, auditEntries } from "./tables.ts";

/** What the audit log records, each said once where it happens (see README, "Audit log"). */
export const AUDIT_ACTIONS = [
  "sign_in",
  "sign_in_failed",
  "token_created",
  "token_revoked",
  "user_created",
  "setting_changed",
  "credential_changed",
  "repo_added",
  "repo_removed",
  "session_started",
  "session_ended",
  "session_resumed",
  "approval_answered",
  "gateway_refused",
  "trigger_fired",
  "trigger_refused",
  "backup_taken",
  "sso_provider_added",
  "sso_provider_changed",
  "sso_provider_removed",
  "identity_linked",
  "identity_unlinked",
  "agent_added",
  "agent_changed",
  "agent_removed",
  "docker_engine_added",
  "docker_engine_changed",
  "docker_engine_removed",
  "pod_moved",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Who did it, as the entry keeps them: a person (by their id; a refused sign-in under a username
 * nobody has keeps neither id nor name), the agent working in a session (by the session's id, named
 * after its person), a trigger, or Pier itself.
 */
export type AuditActor =
  | { kind: "person"; id: string | null; name: string | null }
  | { kind: "agent"; id: string; name: string | null }
  | { kind: "trigger"; id: string; name: string }
  | { kind: "system"; id: null; name: string };

export const SYSTEM_ACTOR: AuditActor = { kind: "system", id: null, name: "Pier" };

/** What it was done to: a user, a token, a setting's key, a repo, a session, a run… by id and its name then. */
export interface AuditTarget {
  kind: string;
  id: string | null;
  name: string | null;
}

/** A domain's actor as the audit log names it. */
export function auditActorOf(actor: Actor): AuditActor {
  return actor.kind === "agent"
    ? { kind: "agent", id: actor.sessionId, name: actor.user.username }
    : { kind: "person", id: actor.user.id, name: actor.user.username };
}

export type AuditRow = typeof auditEntries.$inferSelect;

/** An entry as GET /api/audit answers it (API.md, "Single sign-on, push, audit"). */
export function publicAuditEntry(row: AuditRow) {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { kind: row.actorKind as AuditActorKind, id: row.actorId, name: row.actorName },
    action: row.action,
    target: row.targetKind === null ? null : { kind: row.targetKind, id: row.targetId, name: row.targetName },
    detail: row.detail,
    address: row.address,
  };
}
export type PublicAuditEntry = ReturnType<typeof publicAuditEntry>;
