import { Cron } from "croner";
import type { EventBus } from "../infra/events.ts";
import type { TriggerFiring } from "./firing.ts";
import type { TriggerRow, Triggers } from "./triggers.ts";

/**
 * The schedule triggers' clocks: one croner job per enabled schedule, in the server's time zone,
 * made again whenever its trigger changes. Firings missed while Pier was down are run once at
 * start, not once per missed time: the work they ask for is the same, and a day of a schedule
 * every minute is not a thousand runs anyone wants.
 */
export class Schedules {
  private jobs = new Map<string, Cron>();
  private inFlight = new Set<Promise<void>>();
  private unsubscribe: () => void;
  private stopped = false;

  constructor(private deps: { bus: EventBus; triggers: Triggers; firing: TriggerFiring<{ id: string }> }) {
    this.unsubscribe = deps.bus.subscribe("trigger.changed", null, ({ triggerId }) => this.follow(triggerId));
  }

  /** Starts every enabled schedule, after firing once each that missed a time while Pier was down. */
  start(now = new Date()): void {
    for (const trigger of this.deps.triggers.ofKind("schedule")) {
      if (!trigger.enabled || !trigger.cron) continue;
      const since = trigger.lastFiredAt ?? trigger.createdAt;
      const probe = new Cron(trigger.cron, { paused: true });
      const missed = probe.nextRun(since);
      probe.stop();
      if (missed && missed.getTime() <= now.getTime()) this.fire(trigger.id, now);
      this.schedule(trigger);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    for (const job of this.jobs.values()) job.stop();
    this.jobs.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private follow(triggerId: string): void {
    this.jobs.get(triggerId)?.stop();
    this.jobs.delete(triggerId);
    const trigger = this.deps.triggers.row(triggerId);
    if (trigger?.kind === "schedule") this.schedule(trigger);
  }

  private schedule(trigger: TriggerRow): void {
    if (this.stopped || !trigger.enabled || !trigger.cron) return;
    // protect: a firing still under way when the next time comes makes that time wait, not overlap.
    const job = new Cron(trigger.cron, { protect: true, unref: true }, () => this.fire(trigger.id, new Date()));
    this.jobs.set(trigger.id, job);
  }

  private fire(triggerId: string, at: Date): Promise<void> {
    const trigger = this.deps.triggers.row(triggerId);
    if (!trigger) return Promise.resolve();
    this.deps.triggers.markFired(triggerId, at);
    const firing = this.deps.firing.fire(trigger, { kind: "schedule", at }).then(
      () => undefined,
      (error) => {
      // Refusals are recorded with the firing; this is for the log of whoever runs Pier.
        console.warn(`[pier] the schedule trigger ${triggerId} fired and started nothing: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
    this.inFlight.add(firing);
    void firing.finally(() => this.inFlight.delete(firing));
    return firing;
  }
}
