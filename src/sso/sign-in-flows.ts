import { hashToken } from "../auth/sign-ins.ts";
import type { AuthorizationChecks } from "./oidc-client.ts";

/** What a round trip to a provider is for: signing in, or linking the identity to the person signed in with `signInId`. */
export type FlowPurpose = { kind: "sign_in" } | { kind: "link"; userId: string; signInId: string };

/** One round trip to a provider, kept here between the redirect and the callback. */
export interface SignInFlow extends AuthorizationChecks {
  providerId: string;
  purpose: FlowPurpose;
  /** The page of Pier's to go to afterwards (checked by the web layer before it gets here). */
  next: string;
}

/** How long a person has at the provider. */
export const FLOW_LIFETIME_MS = 10 * 60 * 1000;
/** Round trips kept at most; past that the oldest go, so requests to start sign-ins cannot fill the memory. */
const MAX_FLOWS = 10_000;

interface Kept {
  flow: SignInFlow;
  /** SHA-256 of the browser's binding cookie: only the browser that started the round trip may finish it. */
  bindingHash: string;
  expiresAt: number;
}

/**
 * The round trips under way, by state. Each is taken once (a second callback with the same state
 * finds nothing), only by the browser that started it (its binding cookie; a link sent to someone
 * else signs nobody in as its sender), and only within FLOW_LIFETIME_MS. Kept in memory: a restart
 * means starting again, as for the login limits.
 */
export class SignInFlows {
  private flows = new Map<string, Kept>();

  begin(flow: SignInFlow, binding: string, now = Date.now()): void {
    this.sweep(now);
    while (this.flows.size >= MAX_FLOWS) this.flows.delete(this.flows.keys().next().value!);
    this.flows.set(flow.state, { flow, bindingHash: hashToken(binding), expiresAt: now + FLOW_LIFETIME_MS });
  }

  /** The round trip this state and binding began, taken so it cannot be finished twice; null for any other. */
  take(state: string, binding: string | null, now = Date.now()): SignInFlow | null {
    const kept = this.flows.get(state);
    // A wrong binding leaves the round trip to its own browser: someone who saw the state cannot spoil it.
    if (!kept || binding === null || kept.bindingHash !== hashToken(binding)) return null;
    this.flows.delete(state);
    return kept.expiresAt > now ? kept.flow : null;
  }

  /** Drops the expired round trips: all at the front, as every one lasts as long and the map keeps their order. */
  private sweep(now: number): void {
    for (const [state, kept] of this.flows) {
      if (kept.expiresAt > now) return;
      this.flows.delete(state);
    }
  }
}
