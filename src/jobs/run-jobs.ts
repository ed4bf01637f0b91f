import type { Approvals } from "../policies/approvals.ts";
import type { Runs } from "../runs/runs.ts";
import type { Scheduler } from "./scheduler.ts";

/** How often queued runs and runs waiting on CI are looked at again (events move them sooner). */
const RUN_TICK_MS = 5000;

export const MOVE_RUNS = "move runs";

/**
 * Starts queued runs as slots free, moves on runs whose wait for CI is over, and refuses the tool
 * approvals runs' agents have waited on for too long.
 */
export function scheduleRunJobs(scheduler: Scheduler, deps: { runs: Runs; approvals: Approvals }): void {
  scheduler.every(MOVE_RUNS, RUN_TICK_MS, async () => {
    deps.approvals.expireUnattended();
    await deps.runs.tick();
  });
}
