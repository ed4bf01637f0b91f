import type { Db } from "../infra/db.ts";
import { reposOnGithub } from "../repos/repos.ts";
import type { TriggerFiring } from "./firing.ts";
import type { IssueFields } from "./template.ts";
import { DEFAULT_MENTION, type TriggerRow, type Triggers } from "./triggers.ts";

/** The parts of GitHub's `issues` and `issue_comment` payloads a github_issue trigger reads. */
export interface IssuePayload {
  action?: string;
  repository?: { full_name: string };
  issue?: { number: number; title: string; body?: string | null; html_url: string; user?: { login: string } | null; pull_request?: unknown };
  label?: { name: string };
  comment?: { body?: string | null; user?: { login: string } | null };
  sender?: { login: string };
}

/** What one delivery asks of one trigger: a run, or a refusal to record. */
type Ask = { trigger: TriggerRow; issue: IssueFields } & ({ refusal: null } | { refusal: string });

/**
 * GitHub issues as a trigger's occasion, through the webhook Pier already has (signature checked
 * there): an issue labelled with the trigger's label, or a new comment mentioning the trigger's
 * name (`@pier` unless set) by a login the trigger allows. A comment from anyone else starts
 * nothing and is recorded as refused. Pull requests' conversations are left alone: they are the
 * runs' own business.
 */
export class GitHubIssueTriggers {
  constructor(private deps: { db: Db; triggers: Triggers; firing: TriggerFiring<{ id: string }> }) {}

  async delivery(event: string, payload: IssuePayload): Promise<void> {
    for (const ask of this.asks(event, payload)) {
      if (ask.refusal !== null) {
        this.deps.firing.refuse(ask.trigger, ask.refusal, ask.issue.number);
        continue;
      }
      try {
        await this.deps.firing.fire(ask.trigger, { kind: "issue", issue: ask.issue });
      } catch (error) {
        // Recorded with the firing; GitHub is answered all the same (it would only send it again).
        console.warn(`[pier] issue #${ask.issue.number} started nothing through trigger ${ask.trigger.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private asks(event: string, payload: IssuePayload): Ask[] {
    const issue = payload.issue;
    if (!issue || issue.pull_request || !payload.repository) return [];
    const repoIds = new Set(reposOnGithub(this.deps.db, payload.repository.full_name).map((repo) => repo.id));
    const candidates = this.deps.triggers.ofKind("github_issue").filter((trigger) => repoIds.has(trigger.repoId));
    const fields = (author: string): IssueFields => ({ number: issue.number, title: issue.title, body: issue.body ?? "", url: issue.html_url, author });
    const asks: Ask[] = [];
    for (const trigger of candidates) {
      if (event === "issues" && payload.action === "labeled") {
        if (!trigger.label || payload.label?.name.toLowerCase() !== trigger.label.toLowerCase()) continue;
        // Labelling takes triage rights on the repository, so whoever labels may start a run.
        asks.push({ trigger, issue: fields(issue.user?.login ?? "someone"), refusal: null });
      } else if (event === "issue_comment" && payload.action === "created" && payload.comment) {
        if (!mentions(payload.comment.body ?? "", trigger.mention ?? DEFAULT_MENTION)) continue;
        const login = payload.comment.user?.login ?? payload.sender?.login ?? "";
        const allowed = (JSON.parse(trigger.allowedLogins) as string[]).includes(login.toLowerCase());
        const refusal = allowed ? null : `${login || "An unknown account"} asked in a comment on issue #${issue.number}, and is not among the logins this trigger allows.`;
        asks.push({ trigger, issue: fields(login), refusal } as Ask);
      }
    }
    return asks;
  }
}

/** True when the text mentions the name as GitHub would link it: `@pier`, not `me@pier.dev` or `@pierre`. */
export function mentions(text: string, mention: string): boolean {
  const name = mention.replace(/^@/, "").replace(/[-]/g, "\\-");
  return new RegExp(`(^|[^A-Za-z0-9_@.])@${name}(?![A-Za-z0-9_-])`, "i").test(text);
}
