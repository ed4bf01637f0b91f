import { type Actor, personActor } from "../auth/actor.ts";
import { findUser } from "../auth/users.ts";
import type { Db } from "../infra/db.ts";
import { AppError } from "../infra/errors.ts";
import type { SettingsStore } from "../settings/settings.ts";
import type { ChatEngineName } from "../sessions/tables.ts";
import type { PublicTask, Tasks } from "../tasks/tasks.ts";
import { triggerLoad } from "../runs/trigger-load.ts";
import type { TriggerRow, Triggers } from "./triggers.ts";
import { type IssueFields, renderTemplate } from "./template.ts";

/** What made a trigger fire: its schedule's time, a webhook's JSON, or a GitHub issue (labelled, or a comment asking). */
export type Occasion = { kind: "schedule"; at: Date } | { kind: "webhook"; payload: unknown; address?: string } | { kind: "issue"; issue: IssueFields };

/** The runs' door, as far as a trigger needs it (Runs.start). */
export interface RunStarter<R extends { id: string }> {
  start(actor: Actor, taskId: string, input: { repoId?: string; engine?: ChatEngineName; model?: string; budgetUsd?: number }, from: { triggerId: string; brief: string }): Promise<R[]>;
}

export interface FiringDeps<R extends { id: string }> {
  db: Db;
  triggers: Triggers;
  tasks: Tasks;
  settings: SettingsStore;
  runs: RunStarter<R>;
}

const MAX_TITLE = 200;

/**
 * A trigger firing: within its limits (its concurrency cap, its budget per day), a task made as its
 * owner from the prompt template and the occasion, and a run of it started as its owner. Every
 * firing is recorded, started or refused with the reason, never dropped in silence; a refusal over
 * a limit is a 429 to whoever fired it. Firings of one trigger go one at a time, so two at once
 * cannot both fit in the last slot.
 */
export class TriggerFiring<R extends { id: string }> {
  private queues = new Map<string, Promise<unknown>>();

  constructor(private deps: FiringDeps<R>) {}

  fire(trigger: TriggerRow, occasion: Occasion): Promise<{ task: PublicTask; runs: R[] }> {
    const previous = this.queues.get(trigger.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.fireNow(trigger, occasion));
    this.queues.set(trigger.id, next);
    void next.catch(() => undefined).finally(() => {
      if (this.queues.get(trigger.id) === next) this.queues.delete(trigger.id);
    });
    return next;
  }

  /** Records a firing that never reached the limits (a comment from a login the trigger does not allow, say). */
  refuse(trigger: TriggerRow, reason: string, issueNumber?: number): void {
    this.deps.triggers.record(trigger.id, { outcome: "refused", reason, issueNumber });
  }

  private async fireNow(trigger: TriggerRow, occasion: Occasion): Promise<{ task: PublicTask; runs: R[] }> {
    const issueNumber = occasion.kind === "issue" ? occasion.issue.number : undefined;
    // Where a webhook's call came from, for the audit log.
    const address = occasion.kind === "webhook" ? occasion.address : undefined;
    const refused = (status: number, code: string, reason: string) => {
      this.deps.triggers.record(trigger.id, { outcome: "refused", reason, issueNumber, address });
      return new AppError(status, code, reason);
    };
    if (!trigger.enabled) throw refused(409, "trigger_disabled", "The trigger is turned off.");
    const load = triggerLoad(this.deps.db, trigger.id);
    if (trigger.maxConcurrent !== null && load.live >= trigger.maxConcurrent) {
      throw refused(429, "too_many_runs", `The trigger already has ${load.live} run${load.live === 1 ? "" : "s"} going, its limit at once.`);
    }
    const budgetUsd = trigger.budgetUsd ?? this.deps.settings.plain().runBudgetUsd ?? undefined;
    if (trigger.dailyBudgetUsd !== null && load.committedUsd + (budgetUsd ?? 0) > trigger.dailyBudgetUsd) {
      throw refused(
        429,
        "over_daily_budget",
        `The trigger's budget per day ($${trigger.dailyBudgetUsd}) does not leave room for another run: its runs of the last 24 hours have spent or may still spend $${load.committedUsd.toFixed(2)}, and a run may spend $${(budgetUsd ?? 0).toFixed(2)}.`,
      );
    }
    const owner = findUser(this.deps.db, trigger.ownerId);
    if (!owner) throw refused(409, "trigger_owner_gone", "The trigger's owner no longer exists.");
    const actor = personActor(owner);
    let task: PublicTask;
    try {
      task = this.deps.tasks.create(actor, { title: titleFor(trigger, occasion), description: descriptionFor(trigger, occasion), repoId: trigger.repoId });
    } catch (error) {
      // A payload too long for a task's description, say.
      this.deps.triggers.record(trigger.id, { outcome: "refused", reason: `The task could not be made: ${error instanceof Error ? error.message : String(error)}`, issueNumber, address });
      throw error;
    }
    let runs: R[];
    try {
      runs = await this.deps.runs.start(
        actor,
        task.id,
        { repoId: trigger.repoId, engine: trigger.engine ?? undefined, model: trigger.model ?? undefined, budgetUsd },
        // The description as written here: while the task still says this, its quoted values are known to be Pier's.
        { triggerId: trigger.id, brief: task.description },
      );
    } catch (error) {
      // Nothing is left half-made: the task goes again, and the refusal says why.
      this.deps.tasks.remove(actor, task.id);
      const message = error instanceof Error ? error.message : String(error);
      this.deps.triggers.record(trigger.id, { outcome: "refused", reason: `The run could not start: ${message}`, issueNumber, address });
      throw error;
    }
    for (const run of runs) this.deps.triggers.record(trigger.id, { outcome: "started", runId: run.id, issueNumber, address });
    return { task: this.deps.tasks.get(actor, task.id), runs };
  }
}

function titleFor(trigger: TriggerRow, occasion: Occasion): string {
  const title =
    occasion.kind === "issue"
      ? `${occasion.issue.title} (#${occasion.issue.number})`
      : `${trigger.name} · ${(occasion.kind === "schedule" ? occasion.at : new Date()).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const oneLine = title.replace(/[\x00-\x1f\x7f]+/g, " ").trim();
  return oneLine.length > MAX_TITLE ? `${oneLine.slice(0, MAX_TITLE - 1)}…` : oneLine;
}

function descriptionFor(trigger: TriggerRow, occasion: Occasion): string {
  const prompt = renderTemplate(trigger.promptTemplate, occasion.kind === "webhook" ? { payload: occasion.payload } : occasion.kind === "issue" ? { issue: occasion.issue } : {});
  const origin =
    occasion.kind === "issue"
      ? `From GitHub issue #${occasion.issue.number} (${occasion.issue.url}), through the trigger “${trigger.name}”.`
      : `Started by the ${occasion.kind === "schedule" ? "schedule" : "webhook"} trigger “${trigger.name}”.`;
  return `${prompt}\n\n${origin}`;
}
