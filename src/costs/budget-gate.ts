import type { Db } from "../infra/db.ts";
import type { EventBus } from "../infra/events.ts";
import { readPlainSettings } from "../settings/settings.ts";
import { budgetStatus } from "./budget.ts";

/** Which budget a session's spending reached. */
export type BudgetKind = "run" | "session" | "monthly";

export interface BudgetExceeded {
  sessionId: string;
  budget: BudgetKind;
  limitUsd: number;
  spentUsd: number;
}

declare module "../infra/events.ts" {
  interface PierEvents {
    /**
     * A session's spending reached one of its budgets (topic: the session id): its turn is being
     * stopped and its model requests are refused from now on. Said once per session and budget.
     */
    "budget.exceeded": BudgetExceeded;
  }
}

/** A budget reached, with the sentence that tells the person (and Claude Code, in the gateway's refusal). */
export interface BudgetReached extends BudgetExceeded {
  message: string;
}

export interface BudgetGateDeps {
  db: Db;
  bus: EventBus;
  /** What the session has cost so far (its row's total). */
  sessionCostUsd(sessionId: string): number;
  /** The budget of the run the session belongs to, or null when it is no run's (or the run has none). */
  runBudgetFor(sessionId: string): number | null;
  /**
   * Stops the session's turn under way, if it has one, and tells its person (a note in its chat
   * and "needs you"): called once per session and budget, as it is reached.
   */
  stop(reached: BudgetReached): void;
}

/**
 * The one gate every model request of a session passes: Pier's own agent before each request,
 * and Pier's gateway for Claude Code's (in the chat or typed in the terminal). It holds a run's
 * budget, the instance's budget per session, and the monthly budget when it is a hard stop.
 * Spending is only known once a response is paid for, so the response that crosses a budget is
 * the last one: after it the turn is stopped and every further request is refused.
 */
export class BudgetGate {
  /** The budgets already said to have been reached, by session and limit, so each is said once. */
  private said = new Set<string>();

  constructor(private deps: BudgetGateDeps) {}

  /** The budget the session is past, or null when it may spend. Cheap enough to ask before every request. */
  reached(sessionId: string): BudgetReached | null {
    const spent = this.deps.sessionCostUsd(sessionId);
    const runBudget = this.deps.runBudgetFor(sessionId);
    if (runBudget !== null && spent >= runBudget) return reachedOf(sessionId, "run", runBudget, spent);
    const plain = readPlainSettings(this.deps.db);
    if (plain.sessionBudgetUsd !== null && spent >= plain.sessionBudgetUsd) return reachedOf(sessionId, "session", plain.sessionBudgetUsd, spent);
    if (plain.monthlyBudgetHard && plain.monthlyBudgetUsd !== null) {
      const month = budgetStatus(this.deps.db);
      if (month.crossed) return reachedOf(sessionId, "monthly", plain.monthlyBudgetUsd, month.spentUsd);
    }
    return null;
  }

  /**
   * Asked before a model request: the budget that refuses it, or null to go on. The first refusal
   * of a budget is said (the turn stopped, the person told, "budget.exceeded"; `told` then), so a
   * request refused because of someone else's spending (the monthly budget) is never silent either.
   */
  refusal(sessionId: string): { reached: BudgetReached; told: boolean } | null {
    const reached = this.reached(sessionId);
    return reached && { reached, told: this.sayOnce(reached) };
  }

  /** A response of the session was paid for: if that reached a budget, the turn stops now. */
  spent(sessionId: string): void {
    const reached = this.reached(sessionId);
    if (reached) this.sayOnce(reached);
  }

  /** The session ended: should it be resumed, a budget it reached is said again. */
  forget(sessionId: string): void {
    for (const key of this.said) if (key.startsWith(`${sessionId}\0`)) this.said.delete(key);
  }

  /** Says a reached budget, unless it was said already; whether it said it now. */
  private sayOnce(reached: BudgetReached): boolean {
    const key = `${reached.sessionId}\0${reached.budget}\0${reached.limitUsd}`;
    if (this.said.has(key)) return false;
    this.said.add(key);
    this.deps.stop(reached);
    const { message: _, ...event } = reached;
    this.deps.bus.publish("budget.exceeded", reached.sessionId, event);
    return true;
  }
}

function reachedOf(sessionId: string, budget: BudgetKind, limitUsd: number, spentUsd: number): BudgetReached {
  return { sessionId, budget, limitUsd, spentUsd, message: budgetMessage(budget, limitUsd, spentUsd) };
}

const usd = (amount: number) => `$${amount.toFixed(2)}`;

/** The sentence naming the budget, for the chat, the terminal's claude and the gateway's refusal. */
export function budgetMessage(budget: BudgetKind, limitUsd: number, spentUsd: number): string {
  switch (budget) {
    case "run":
      return `This run reached its budget: it has spent ${usd(spentUsd)} of ${usd(limitUsd)}, so Pier stopped it and refuses its model requests.`;
    case "session":
      return `This session reached the session budget: it has spent ${usd(spentUsd)} of ${usd(limitUsd)}, so Pier stopped its agent and refuses its model requests until an admin raises the budget in Settings.`;
    case "monthly":
      return `This month's spending, ${usd(spentUsd)}, reached the monthly budget of ${usd(limitUsd)}, a hard stop: Pier refuses every model request until an admin raises the budget in Settings or the month ends.`;
  }
}
