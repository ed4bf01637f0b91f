import type { Db } from "../infra/db.ts";
import type { EventBus } from "../infra/events.ts";
import { type GitHub, githubMessage } from "../github/client.ts";
import { getRepo } from "../repos/repos.ts";
import { FINAL_RUN_STATES } from "../runs/tables.ts";
import type { PublicRun } from "../runs/runs.ts";
import type { Credentials } from "../settings/credentials.ts";
import type { Triggers } from "./triggers.ts";

export interface IssueRepliesDeps {
  db: Db;
  bus: EventBus;
  triggers: Triggers;
  github: GitHub;
  credentials: Credentials;
}

/**
 * What Pier says on a GitHub issue a run was started from: the pull request's link once it opens,
 * then how the run ended. Said as the trigger's owner (their GitHub token, else the instance's),
 * once each: the firing remembers what has been said, so a restart does not say it again.
 */
export class IssueReplies {
  private saying = new Set<string>();
  private unsubscribe: () => void;

  constructor(private deps: IssueRepliesDeps) {
    this.unsubscribe = deps.bus.subscribe("run.changed", null, ({ run }) => void this.follow(run));
  }

  stop(): void {
    this.unsubscribe();
  }

  private async follow(run: PublicRun): Promise<void> {
    if (!run.triggerId) return;
    const firing = this.deps.triggers.issueFiringOf(run.id);
    if (!firing) return;
    if (run.prUrl && !firing.prTold) await this.say(firing.id, "pr", firing.triggerId, firing.issueNumber!, `Pier opened a pull request for this issue: ${run.prUrl}`);
    if (FINAL_RUN_STATES.includes(run.state) && !firing.outcomeTold) await this.say(firing.id, "outcome", firing.triggerId, firing.issueNumber!, outcomeOf(run));
  }

  private async say(firingId: string, what: "pr" | "outcome", triggerId: string, issueNumber: number, body: string): Promise<void> {
    // run.changed comes after every write: one comment is under way at a time for each thing said.
    const key = `${firingId}:${what}`;
    if (this.saying.has(key)) return;
    this.saying.add(key);
    try {
      const trigger = this.deps.triggers.row(triggerId);
      const repo = trigger ? getRepo(this.deps.db, trigger.repoId) : null;
      if (!trigger || !repo?.githubRepo) return;
      const token = await this.deps.credentials.githubToken(trigger.ownerId);
      if (!token) {
        console.warn(`[pier] no GitHub token to comment on issue #${issueNumber} of ${repo.githubRepo} as the trigger's owner; nothing was said there.`);
        this.deps.triggers.told(firingId, what);
        return;
      }
      const [owner, name] = repo.githubRepo.split("/");
      await this.deps.github.request(token, "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo: name, issue_number: issueNumber, body });
      this.deps.triggers.told(firingId, what);
    } catch (error) {
      // Said again at the run's next change.
      console.warn(`[pier] commenting on issue #${issueNumber} failed: ${githubMessage(error)}`);
    } finally {
      this.saying.delete(key);
    }
  }
}

function outcomeOf(run: PublicRun): string {
  const pr = run.prUrl ? ` (${run.prUrl})` : "";
  if (run.state === "done") return `Pier's run for this issue is done: its pull request${pr} was approved.`;
  if (run.state === "stopped") return `Pier's run for this issue was stopped${run.reason === "budget" ? " when it reached its budget" : " by a person"}${pr ? `; its pull request${pr} stays as it is` : ""}.`;
  return `Pier's run for this issue failed${run.reason ? `: ${run.reason}` : "."}`;
}
