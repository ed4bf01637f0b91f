import type { AuditLog } from "../audit/audit-log.ts";
import { SYSTEM_ACTOR } from "../audit/entry.ts";
import { type Static, Type } from "@sinclair/typebox";
import { and, eq } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { SERVER_STOPPING, type ToolCall, type Verdict } from "../chat/engine.ts";
import type { NewChatItem } from "../chat/items.ts";
import type { ApprovalScope } from "../chat/protocol.ts";
import type { AttentionFlags } from "../attention/flags.ts";
import type { Db } from "../infra/db.ts";
import { AppError, forbidden } from "../infra/errors.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { Session } from "../sessions/session.ts";
import { unifiedDiff } from "../tools/output.ts";
import type { ToolPolicies } from "./policies.ts";
import { type ToolPolicy, decide } from "./policy.ts";
import { sessionToolGrants } from "./tables.ts";

/** A person's answer to an approval request (the chat socket's approval message, or POST …/approvals/:callId). */
export const ApprovalAnswerInput = Type.Object({
  allow: Type.Boolean({ title: "Allow", error: "Allow must be true or false." }),
  scope: Type.Optional(
    Type.Union([Type.Literal("once"), Type.Literal("session")], { title: "Scope", error: 'Scope must be "once" or "session".' }),
  ),
});
export type ApprovalAnswerInput = Static<typeof ApprovalAnswerInput>;

/** An approval waiting for its person, as GET /api/sessions/:id/approvals lists it. */
export interface PendingApproval {
  id: string;
  tool: string;
  input: unknown;
  requestedAt: string;
}

interface Waiting extends PendingApproval {
  sessionId: string;
  /** Asked by an unattended run's agent: nobody may be there, so it is refused after runApprovalMinutes. */
  unattended: boolean;
  record(item: NewChatItem): void;
  settle(answer: Answer): void;
}

/** Who answered (null when no one did: the turn was stopped first), and what. */
interface Answer {
  allow: boolean;
  scope: ApprovalScope;
  by: { id: string; username: string } | null;
  reason?: string;
}

/** Edits bigger than this are shown as their input, not previewed as a diff. */
const MAX_PREVIEW_CHARS = 200_000;

const ALLOWED: Verdict = { allowed: true };

/**
 * Enforces the tool policy on every call the chat's agent makes, before it runs: allowed calls
 * go on, denied ones are refused with a sentence for the model, and the ones the policy asks
 * about wait for the session's person (or an admin) to answer, from the chat or the API. While
 * one waits the session's attention is "approval". Each request and its answer are kept in the
 * conversation, so a reloaded page shows the card again. What waits lives only in this process:
 * after a restart the turn that asked is gone, and its request has expired.
 */
export class Approvals {
  private waiting = new Map<string, Waiting>();

  constructor(
    private deps: {
      db: Db;
      sessions: Sessions;
      flags: AttentionFlags;
      policies: ToolPolicies;
      /** What an unattended run's agent may call (the runToolPolicy setting), and how long it waits for a person. */
      runs: { policy(): ToolPolicy; approvalMinutes(): number };
      /** Each answer goes in it: who allowed or denied which tool (not its input, which may hold anything), Pier for a run's left unanswered. */
      audit: AuditLog;
    },
  ) {}

  /** At start: nothing waits in a process that has just started, whatever the sessions last said. */
  forgetAfterRestart(): void {
    this.deps.flags.clear("approval");
  }

  /** The verdict on one call of the session's agent (ConversationDeps.authorize). */
  async authorize(session: Session, call: ToolCall, signal: AbortSignal, record: (item: NewChatItem) => void): Promise<Verdict> {
    const decision = decide(this.policyOf(session), call.name);
    if (decision === "allow") return ALLOWED;
    if (decision === "deny") return { allowed: false, reason: denial(call.name) };
    if (this.granted(session.id, call.name)) return ALLOWED;
    if (signal.aborted) return { allowed: false, reason: "The turn was stopped before this call was approved." };
    const answer = await this.ask(session, call, signal, record);
    if (answer.allow) return ALLOWED;
    return {
      allowed: false,
      reason: answer.by
        ? `${answer.by.username} did not approve this ${call.name} call, so it did not run. Ask them what they would like instead.`
        : `${answer.reason ?? "Nobody approved this call"}, so it did not run.`,
    };
  }

  /**
   * For tools called from outside the chat (Pier's MCP endpoint, by Claude Code in the session's
   * terminal): why the policy denies the tool, or null. A tool the policy asks about runs there,
   * because Claude Code asks its person itself before it calls an MCP tool.
   */
  refusalOutsideChat(session: Session, tool: string): string | null {
    return decide(this.policyOf(session), tool) === "deny" ? denial(tool) : null;
  }

  /**
   * Refuses the approvals unattended runs' agents have waited on for runApprovalMinutes by `now`
   * (the run job's beat): nobody may ever come, and the run goes on without the call.
   */
  expireUnattended(now = Date.now()): void {
    const minutes = this.deps.runs.approvalMinutes();
    for (const waiting of [...this.waiting.values()]) {
      if (!waiting.unattended || Date.parse(waiting.requestedAt) + minutes * 60_000 > now) continue;
      waiting.settle({ allow: false, scope: "once", by: null, reason: `Nobody approved it within ${minutes} minutes` });
      this.deps.audit.record(SYSTEM_ACTOR, "approval_answered", { kind: "session", id: waiting.sessionId, name: this.deps.sessions.get(waiting.sessionId).title }, { detail: `denied ${waiting.tool}: nobody approved it within ${minutes} minutes` });
    }
  }

  /** A run's session follows the runs' policy; any other, its repo's (or the instance's). */
  private policyOf(session: Session): ToolPolicy {
    return session.origin === "run" ? this.deps.runs.policy() : this.deps.policies.effective(session.repoId).policy;
  }

  /** Answers a request of the session's agent, as its person or an admin (others get 404, the agent 403). */
  answer(actor: Actor, sessionId: string, callId: string, input: ApprovalAnswerInput) {
    const session = this.deps.sessions.getFor(actor, sessionId);
    if (actor.kind !== "person") throw forbidden("Only a person can answer an approval.");
    const waiting = this.waiting.get(key(session.id, callId));
    if (!waiting) {
      throw new AppError(
        409,
        "approval_not_pending",
        "No approval is waiting with that id: it was answered already, or the turn that asked for it has ended.",
      );
    }
    const scope = input.scope ?? "once";
    waiting.settle({ allow: input.allow, scope, by: { id: actor.user.id, username: actor.user.username } });
    this.deps.audit.record(actor, "approval_answered", { kind: "session", id: session.id, name: session.title }, { detail: `${input.allow ? "allowed" : "denied"} ${waiting.tool} (${scope})` });
    return { id: callId, tool: waiting.tool, allow: input.allow, scope, by: actor.user.username };
  }

  /** The session's approvals waiting for an answer, oldest first (for its person or an admin). */
  pendingFor(actor: Actor, sessionId: string): PendingApproval[] {
    const session = this.deps.sessions.getFor(actor, sessionId);
    return [...this.waiting.values()].filter((w) => w.sessionId === session.id).map(({ id, tool, input, requestedAt }) => ({ id, tool, input, requestedAt }));
  }

  /** The ids of the session's approvals that can still be answered (ConversationDeps.pendingApprovals). */
  pendingIds(sessionId: string): string[] {
    return [...this.waiting.values()].filter((w) => w.sessionId === sessionId).map((w) => w.id);
  }

  /**
   * Keeps the request in the conversation, marks the session as waiting, and resolves with the
   * answer: a person's, or a refusal once the turn is stopped (an interrupt, the session ending).
   * The answer is kept before anything else happens, so whoever asks next sees it.
   */
  private ask(session: Session, call: ToolCall, signal: AbortSignal, record: (item: NewChatItem) => void) {
    const preview = previewOf(call);
    record({ kind: "approval_request", id: call.id, tool: call.name, input: call.input, ...(preview ? { diff: preview } : {}) });
    return new Promise<Answer>((resolve) => {
      const id = key(session.id, call.id);
      const stopped = () =>
        waiting.settle({ allow: false, scope: "once", by: null, reason: signal.reason === SERVER_STOPPING ? "Pier stopped before anyone answered" : "The turn was stopped before anyone answered" });
      const waiting: Waiting = {
        id: call.id,
        sessionId: session.id,
        unattended: session.origin === "run",
        tool: call.name,
        input: call.input,
        requestedAt: new Date().toISOString(),
        record,
        settle: (answer) => {
          if (this.waiting.get(id) !== waiting) return;
          this.waiting.delete(id);
          signal.removeEventListener("abort", stopped);
          if (answer.allow && answer.scope === "session") this.grant(session.id, call.name, answer.by?.id ?? null);
          const { by, ...decision } = answer;
          record({ kind: "approval_decision", id: call.id, ...decision, by: by?.username ?? null });
          if (this.pendingIds(session.id).length === 0) this.deps.flags.clear("approval", session.id);
          resolve(answer);
        },
      };
      this.waiting.set(id, waiting);
      this.deps.flags.mark(session.id, "approval");
      signal.addEventListener("abort", stopped, { once: true });
    });
  }

  /** Whether the session's person allowed this tool for the rest of the session. */
  private granted(sessionId: string, tool: string): boolean {
    return (
      this.deps.db
        .select({ tool: sessionToolGrants.tool })
        .from(sessionToolGrants)
        .where(and(eq(sessionToolGrants.sessionId, sessionId), eq(sessionToolGrants.tool, tool)))
        .get() !== undefined
    );
  }

  private grant(sessionId: string, tool: string, grantedBy: string | null): void {
    this.deps.db.insert(sessionToolGrants).values({ sessionId, tool, grantedBy, createdAt: new Date() }).onConflictDoNothing().run();
  }
}

/** What the model is told of a denied tool. */
function denial(tool: string): string {
  return `Pier's tool policy for this repository denies ${tool}. Do not call it again; carry on without it or ask the person.`;
}

function key(sessionId: string, callId: string): string {
  return `${sessionId}\0${callId}`;
}

/** The change a file tool would make, as a diff, so the person sees what they approve. */
function previewOf(call: ToolCall): string | null {
  const input = (call.input ?? {}) as Record<string, unknown>;
  const path = typeof input.path === "string" ? input.path : null;
  if (!path) return null;
  const pair =
    call.name === "edit_file" && typeof input.old_string === "string" && typeof input.new_string === "string"
      ? [input.old_string, input.new_string]
      : call.name === "write_file" && typeof input.content === "string"
        ? ["", input.content]
        : null;
  if (!pair || pair[0]!.length + pair[1]!.length > MAX_PREVIEW_CHARS) return null;
  return unifiedDiff(path, pair[0]!, pair[1]!);
}
