import type { PodMoves } from "../docker-engines/pod-moves.ts";
import type { Pods } from "../pods/pods.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { SettingsStore } from "../settings/settings.ts";
import type { Scheduler } from "./scheduler.ts";

const RECONCILE_EVERY_MS = 5 * 60_000;
const IDLE_CHECK_EVERY_MS = 60_000;

export const RECONCILE_PODS = "reconcile pods";

/**
 * The pods' periodic work: bringing Pier's records in line with the engine (and saying which
 * containers nobody owns) after removing what moves left on engines that were not answering
 * then, and stopping pods none of whose sessions has been used for a while.
 */
export function schedulePodJobs(scheduler: Scheduler, deps: { pods: Pods; sessions: Sessions; settings: SettingsStore; moves: Pick<PodMoves, "settleUnfinished"> }): void {
  const { pods, sessions, settings, moves } = deps;
  scheduler.every(RECONCILE_PODS, RECONCILE_EVERY_MS, async () => {
    await moves.settleUnfinished();
    const orphans = await pods.reconcile();
    if (orphans.length) {
      console.warn(`[pier] ${orphans.length} container(s) labelled as this Pier's belong to no repository or person: ${orphans.map((o) => o.name).join(", ")}`);
    }
  });
  scheduler.every("stop idle pods", IDLE_CHECK_EVERY_MS, () =>
    pods.stopIdle(settings.plain().podIdleMinutes, ({ repoId, userId }) => sessions.hasLiveSession(repoId, userId)),
  );
}
