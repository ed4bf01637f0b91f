import { and, eq, gte, inArray, not } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { FINAL_RUN_STATES, runs } from "./tables.ts";
import { sessions } from "../sessions/tables.ts";

/**
 * What a trigger's runs hold of its limits: how many are live, and how much of the day's budget
 * is spent or spoken for. The runs' own read, for the triggers' firing (src/triggers/firing.ts);
 * the Runs door answers for one person's runs, not for a trigger's.
 */
export interface TriggerLoad {
  /** Runs not yet done, stopped or failed. */
  live: number;
  /** Over the last 24 hours: what ended runs cost, and for live runs the more of their cost and their budget (they may spend it all). */
  committedUsd: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function triggerLoad(db: Db, triggerId: string, now = Date.now()): TriggerLoad {
  const live = db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.triggerId, triggerId), not(inArray(runs.state, FINAL_RUN_STATES))))
    .all().length;
  const recent = db
    .select({ state: runs.state, budgetUsd: runs.budgetUsd, costUsd: sessions.costUsd })
    .from(runs)
    .leftJoin(sessions, eq(sessions.id, runs.sessionId))
    .where(and(eq(runs.triggerId, triggerId), gte(runs.createdAt, new Date(now - DAY_MS))))
    .all();
  let committedUsd = 0;
  for (const run of recent) {
    const cost = run.costUsd ?? 0;
    committedUsd += FINAL_RUN_STATES.includes(run.state) ? cost : Math.max(cost, run.budgetUsd);
  }
  return { live, committedUsd };
}
