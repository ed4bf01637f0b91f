import type { PullRequests } from "../prs/pull-requests.ts";
import type { Scheduler } from "./scheduler.ts";

/** How often the pull request poller looks for what is due (each PR is asked every prPollSeconds). */
const PR_POLL_TICK_MS = 5000;

export const FOLLOW_PULL_REQUESTS = "follow pull requests";

/** Follows the pull requests opened during sessions: their state and checks, asked of GitHub as each falls due. */
export function schedulePrJobs(scheduler: Scheduler, deps: { prs: PullRequests }): void {
  scheduler.every(FOLLOW_PULL_REQUESTS, PR_POLL_TICK_MS, () => deps.prs.poll());
}
