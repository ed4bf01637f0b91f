import { everyUserId } from "../auth/users.ts";
import type { Environments } from "../environments/environments.ts";
import { errorMessage } from "../infra/errors.ts";
import type { Db } from "../infra/db.ts";
import type { Pods } from "../pods/pods.ts";
import { listRepos } from "../repos/repos.ts";
import type { Scheduler } from "./scheduler.ts";

const WARM_EVERY_MS = 10 * 60_000;
const PREBUILD_EVERY_MS = 60 * 60_000;

export const WARM_PODS = "warm pods";

/**
 * The environments' periodic work: each person's pod of a repo with warmPods made and started
 * ahead (at start-up, and again should one stop or go), and the default branch's environment of
 * each repo whose pods are made from a devcontainer built ahead when it changed (GitHub's push
 * webhook does that at once where it is set up). One pod or build at a time: this is background
 * work on the machine people's sessions run on.
 */
export function scheduleEnvironmentJobs(scheduler: Scheduler, deps: { db: Db; pods: Pods; environments: Environments }): void {
  const { db, pods, environments } = deps;
  scheduler.every(WARM_PODS, WARM_EVERY_MS, async () => {
    for (const repo of listRepos(db).filter((r) => r.warmPods)) {
      for (const userId of everyUserId(db)) {
        if (pods.view(repo.id, userId)?.state === "running") continue;
        await pods.warm(repo, userId).catch((error: unknown) => console.warn(`[pier] warming a pod of ${repo.name} failed: ${errorMessage(error)}`));
      }
    }
  });
  scheduler.every("prebuild environments", PREBUILD_EVERY_MS, async () => {
    for (const repo of listRepos(db)) {
      if (!repo.warmPods && !pods.hasAny(repo.id)) continue;
      await environments.prebuild(repo).catch((error: unknown) => console.warn(`[pier] prebuilding the environment of ${repo.name} failed: ${errorMessage(error)}`));
    }
  });
}
