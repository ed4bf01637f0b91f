import type { DiskWatch } from "../pods/disk-watch.ts";
import type { Scheduler } from "./scheduler.ts";

/** How often the free space of the workspaces' disk is looked at (one statfs: cheap). */
const DISK_WATCH_TICK_MS = 1000;

export const WATCH_DISK = "watch the workspaces' disk";

/** Keeps one person's pod from filling the disk the workspaces share (see DiskWatch). */
export function scheduleDiskJobs(scheduler: Scheduler, deps: { diskWatch: DiskWatch }): void {
  scheduler.every(WATCH_DISK, DISK_WATCH_TICK_MS, () => deps.diskWatch.check());
}
