import { eq } from "drizzle-orm";
import { type Actor, assertAdmin } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { getRepo } from "../repos/repos.ts";
import { ALLOW_ALL, type ToolPolicy, type ToolPolicyInput, checkPolicy } from "./policy.ts";
import { globalToolPolicy, repoToolPolicies } from "./tables.ts";

const GLOBAL_ROW = 1;

type Row = typeof globalToolPolicy.$inferSelect | typeof repoToolPolicies.$inferSelect;

/** Where a session's policy comes from: its repo's override, or the instance's. */
export interface EffectivePolicy {
  policy: ToolPolicy;
  source: "repo" | "global";
}

/**
 * The tool policies: one for the instance, and an override for any repo that needs its own
 * (which replaces the global one whole, it is not merged with it). Everyone signed in may read
 * them; only admins change them, and never the agent (an admin's agent is no admin).
 */
export class ToolPolicies {
  constructor(private db: Db) {}

  /** The instance's policy (allow_all until an admin sets one). */
  global(_actor: Actor): ToolPolicy {
    return this.readGlobal();
  }

  setGlobal(actor: Actor, input: ToolPolicyInput): ToolPolicy {
    assertAdmin(actor, "Only an admin can change the tool policy.");
    const policy = checkPolicy(input);
    const values = { ...columnsOf(policy), updatedBy: actor.user.id, updatedAt: new Date() };
    this.db
      .insert(globalToolPolicy)
      .values({ id: GLOBAL_ROW, ...values })
      .onConflictDoUpdate({ target: globalToolPolicy.id, set: values })
      .run();
    return policy;
  }

  /** A repo's own policy, or null when it inherits the global one (404 for an unknown repo). */
  forRepo(_actor: Actor, repoId: string): ToolPolicy | null {
    getRepo(this.db, repoId);
    return this.readRepo(repoId);
  }

  /** Gives a repo its own policy, or with null, takes it away so the repo inherits again. */
  setForRepo(actor: Actor, repoId: string, input: ToolPolicyInput | null): ToolPolicy | null {
    assertAdmin(actor, "Only an admin can change a repository's tool policy.");
    getRepo(this.db, repoId);
    if (input === null) {
      this.db.delete(repoToolPolicies).where(eq(repoToolPolicies.repoId, repoId)).run();
      return null;
    }
    const policy = checkPolicy(input);
    const values = { ...columnsOf(policy), updatedBy: actor.user.id, updatedAt: new Date() };
    this.db
      .insert(repoToolPolicies)
      .values({ repoId, ...values })
      .onConflictDoUpdate({ target: repoToolPolicies.repoId, set: values })
      .run();
    return policy;
  }

  /** What governs the agent's tools in a session of the repo: its override, else the global policy. */
  effective(repoId: string): EffectivePolicy {
    const own = this.readRepo(repoId);
    return own ? { policy: own, source: "repo" } : { policy: this.readGlobal(), source: "global" };
  }

  private readGlobal(): ToolPolicy {
    const row = this.db.select().from(globalToolPolicy).where(eq(globalToolPolicy.id, GLOBAL_ROW)).get();
    return row ? policyOf(row) : ALLOW_ALL;
  }

  private readRepo(repoId: string): ToolPolicy | null {
    const row = this.db.select().from(repoToolPolicies).where(eq(repoToolPolicies.repoId, repoId)).get();
    return row ? policyOf(row) : null;
  }
}

function columnsOf(policy: ToolPolicy) {
  return { mode: policy.mode, allowed: JSON.stringify(policy.allowed), denied: JSON.stringify(policy.denied), ask: JSON.stringify(policy.ask) };
}

function policyOf(row: Row): ToolPolicy {
  return { mode: row.mode, allowed: JSON.parse(row.allowed), denied: JSON.parse(row.denied), ask: JSON.parse(row.ask) };
}
