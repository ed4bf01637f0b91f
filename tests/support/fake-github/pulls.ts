/**
 * Pull requests as GitHub keeps them: opened after GitHub's checks, following their branches
 * while open, mergeability worked out lazily, listed with GitHub's filters.
 */
import type { ValidationError } from "./answers.ts";
import { branchTips, commitMessages, mergeIntoBranch, mergesCleanly, pullStats, rebaseIntoBranch, squashIntoBranch } from "./bare-repo.ts";
import { isoNow, nextNumber, type Pull, type Repo, type Site } from "./state.ts";

/** Opens a pull request after GitHub's checks; returns it, or the errors of GitHub's 422. */
export async function openPull(site: Site, repo: Repo, input: Record<string, unknown>, author: string): Promise<Pull | ValidationError[]> {
  const tips = await branchTips(repo.dir);
  const title = typeof input.title === "string" && input.title.trim() !== "" ? input.title : null;
  const base = typeof input.base === "string" && tips.has(input.base) ? input.base : null;
  const head = headBranch(repo, input.head);
  const headSha = head === null ? undefined : tips.get(head);
  const errors: ValidationError[] = [];
  if (title === null) errors.push({ resource: "PullRequest", code: "missing_field", field: "title" });
  if (base === null) errors.push({ resource: "PullRequest", code: "invalid", field: "base" });
  if (headSha === undefined) errors.push({ resource: "PullRequest", code: "invalid", field: "head" });
  if (title === null || base === null || head === null || headSha === undefined) return errors;
  const baseSha = tips.get(base)!;

  if (repo.pulls.some((pull) => pull.state === "open" && pull.headRef === head && pull.baseRef === base)) {
    return [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner}:${head}.` }];
  }
  const stats = await pullStats(repo.dir, baseSha, headSha);
  if (stats.commits === 0) {
    return [{ resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` }];
  }

  const now = isoNow();
  const pull: Pull = {
    id: site.nextId(),
    number: nextNumber(repo),
    title,
    body: typeof input.body === "string" ? input.body : null,
    author,
    state: "open",
    draft: input.draft === true,
    headRef: head,
    baseRef: base,
    headSha,
    baseSha,
    previousHeadSha: null,
    ...stats,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    mergedAt: null,
    mergedBy: null,
    mergeCommitSha: null,
    requestedReviewers: [],
    reviews: [],
    reviewComments: [],
    mergeability: null,
  };
  repo.pulls.push(pull);
  return pull;
}

/** The branch a PR's `head` names: `branch`, or `owner:branch` with this repo's owner (PRs from forks are not modelled). */
function headBranch(repo: Repo, head: unknown): string | null {
  if (typeof head !== "string") return null;
  const colon = head.indexOf(":");
  if (colon < 0) return head;
  return head.slice(0, colon).toLowerCase() === repo.owner.toLowerCase() ? head.slice(colon + 1) : null;
}

/**
 * Brings open pull requests up to date with their branches: a push (over HTTP, or by a test's git)
 * moves a PR's head, and deleting its head or base branch closes it, as on GitHub.
 */
export async function syncPulls(repo: Repo): Promise<void> {
  const open = repo.pulls.filter((pull) => pull.state === "open");
  if (open.length === 0) return;
  const tips = await branchTips(repo.dir);
  for (const pull of open) {
    const head = tips.get(pull.headRef);
    const base = tips.get(pull.baseRef);
    if (!head || !base) {
      closePull(pull);
      continue;
    }
    if (head === pull.headSha && base === pull.baseSha) continue;
    if (head !== pull.headSha) {
      pull.previousHeadSha = pull.headSha;
      pull.updatedAt = isoNow();
    }
    Object.assign(pull, { headSha: head, baseSha: base }, await pullStats(repo.dir, base, head));
  }
}

export function closePull(pull: Pull): void {
  pull.state = "closed";
  pull.closedAt = pull.updatedAt = isoNow();
}

export type MergeMethod = "merge" | "squash" | "rebase";

export interface MergeOptions {
  method: MergeMethod;
  /** GitHub's defaults: "Merge pull request #n from owner/branch" (merge), "<title> (#n)" (squash). */
  title?: string;
  message?: string;
}

/**
 * Merges as GitHub's merge button does with each method: a merge commit, one squashed commit, or
 * head's commits replayed onto the base. Returns the commit the base branch now points at, or
 * null when the pull request cannot be merged so (conflicts, or a commit that does not rebase).
 */
export async function mergePull(repo: Repo, pull: Pull, by: string, options: MergeOptions = { method: "merge" }): Promise<string | null> {
  if (pull.state !== "open") throw new Error(`fake-github: #${pull.number} is closed; only an open pull request can be merged`);
  if (!(await mergesCleanly(repo.dir, pull.baseSha, pull.headSha))) return null;
  const ends = { baseRef: pull.baseRef, baseSha: pull.baseSha, headSha: pull.headSha };
  let commit: string | null;
  if (options.method === "squash") {
    const title = options.title ?? `${pull.title} (#${pull.number})`;
    const body = options.message ?? (await commitMessages(repo.dir, pull.baseSha, pull.headSha)).map((message) => `* ${message}`).join("\n\n");
    commit = await squashIntoBranch(repo.dir, { ...ends, message: `${title}\n\n${body}`.trim(), author: pull.author });
  } else if (options.method === "rebase") {
    commit = await rebaseIntoBranch(repo.dir, ends);
  } else {
    const title = options.title ?? `Merge pull request #${pull.number} from ${repo.owner}/${pull.headRef}`;
    commit = await mergeIntoBranch(repo.dir, { ...ends, message: `${title}\n\n${options.message ?? pull.title}`, author: by });
  }
  if (commit === null) return null;
  closePull(pull);
  Object.assign(pull, { mergedAt: pull.closedAt, mergedBy: by, mergeCommitSha: commit });
  return commit;
}

/**
 * `mergeable` for a GET of the pull request. The first read after the head or base moves answers
 * null, as GitHub does while its background job runs; the trial merge is done then, and later
 * reads answer it. Closed pull requests answer null.
 */
export async function readMergeable(repo: Repo, pull: Pull): Promise<boolean | null> {
  if (pull.state === "closed") return null;
  const of = mergeKey(pull);
  if (pull.mergeability?.of === of) return pull.mergeability.mergeable;
  pull.mergeability = { of, mergeable: await mergesCleanly(repo.dir, pull.baseSha, pull.headSha) };
  return null;
}

/** `mergeable` as already worked out, without starting the work (what webhook payloads carry). */
export function knownMergeable(pull: Pull): boolean | null {
  if (pull.state === "closed" || pull.mergeability?.of !== mergeKey(pull)) return null;
  return pull.mergeability.mergeable;
}

function mergeKey(pull: Pull): string {
  return `${pull.baseSha}...${pull.headSha}`;
}

/** GET /pulls's filters and order: state (default open), head, base, sort (created|updated), direction. */
export function listPulls(repo: Repo, query: URLSearchParams): Pull[] {
  const state = query.get("state") ?? "open";
  const head = query.get("head");
  const base = query.get("base");
  const sort = query.get("sort") === "updated" ? "updatedAt" : "createdAt";
  const direction = query.get("direction") ?? (sort === "createdAt" ? "desc" : "asc");
  return repo.pulls
    .filter((pull) => state === "all" || pull.state === state)
    // As on GitHub, `head` filters only in its `owner:branch` form; a bare branch name is ignored.
    .filter((pull) => !head?.includes(":") || head.toLowerCase() === `${repo.owner}:${pull.headRef}`.toLowerCase())
    .filter((pull) => !base || pull.baseRef === base)
    .sort((a, b) => {
      const order = a[sort].localeCompare(b[sort]) || a.number - b.number;
      return direction === "asc" ? order : -order;
    });
}
