import type { SignInMethod } from "../auth/sign-in-events.ts";
import { budgetMessage } from "../costs/budget-gate.ts";
import type { EventBus } from "../infra/events.ts";
import type { AuditLog } from "./audit-log.ts";

/**
 * What the audit log hears on the bus rather than being told where it happens: sign-ins (by
 * password here, by an identity provider from single sign-on) and their refusals, and the budgets
 * past which Pier's gateway refuses a session's model requests (said once per session and budget,
 * where the refusals themselves repeat with every request).
 */
export function recordHeardEvents(deps: { bus: EventBus; audit: AuditLog; sessionOf(id: string): { id: string; userId: string; title: string } }): void {
  const { bus, audit } = deps;
  bus.subscribe("auth.signed_in", null, (signedIn) =>
    audit.record({ kind: "person", id: signedIn.userId, name: signedIn.username }, "sign_in", null, { detail: methodWords(signedIn.method), address: signedIn.address }),
  );
  bus.subscribe("auth.sign_in_failed", null, (refused) =>
    audit.record(audit.personNamed(refused.username), "sign_in_failed", null, { detail: `${methodWords(refused.method)}: ${refused.reason}`, address: refused.address }),
  );
  bus.subscribe("budget.exceeded", null, (reached) => {
    const session = deps.sessionOf(reached.sessionId);
    audit.record(audit.agentOf(session), "gateway_refused", { kind: "session", id: session.id, name: session.title }, {
      detail: `budget: ${budgetMessage(reached.budget, reached.limitUsd, reached.spentUsd)}`,
    });
  });
}

function methodWords(method: SignInMethod): string {
  return method.kind === "password" ? "password" : `single sign-on (${method.providerName})`;
}
