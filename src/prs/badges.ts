/**
 * What a person reads of a pull request at a glance: its state, CI and review as short labels
 * with a tone (the colour they take). Shared by the pages and the browser, which redraws a pull
 * request when it changes, so both say the same words.
 */
import type { PublicPr } from "./pull-requests.ts";

export type BadgeTone = "good" | "bad" | "waiting" | "neutral" | "merged";

export interface Badge {
  label: string;
  tone: BadgeTone;
}

export const STATE_BADGE: Record<PublicPr["state"], Badge> = {
  open: { label: "Open", tone: "good" },
  draft: { label: "Draft", tone: "neutral" },
  merged: { label: "Merged", tone: "merged" },
  closed: { label: "Closed", tone: "bad" },
};

export const CI_BADGE: Record<PublicPr["ciStatus"], Badge> = {
  none: { label: "No checks", tone: "neutral" },
  pending: { label: "CI pending", tone: "waiting" },
  passing: { label: "CI passing", tone: "good" },
  failing: { label: "CI failing", tone: "bad" },
};

/** Nothing to say of a pull request nobody was asked to review. */
export const REVIEW_BADGE: Record<PublicPr["reviewStatus"], Badge | null> = {
  none: null,
  review_required: { label: "Review required", tone: "waiting" },
  approved: { label: "Approved", tone: "good" },
  changes_requested: { label: "Changes requested", tone: "bad" },
};

/** Whether an open pull request merges cleanly; null while GitHub is still working it out, or once it is merged or closed. */
export function mergeableBadge(pr: Pick<PublicPr, "state" | "mergeable">): Badge | null {
  if (pr.state !== "open" && pr.state !== "draft") return null;
  if (pr.mergeable === true) return { label: "No conflicts", tone: "good" };
  if (pr.mergeable === false) return { label: "Has conflicts", tone: "bad" };
  return null;
}

/** "1 failed, 2 passed, 1 pending"; empty when there are no checks. */
export function checkCounts(checks: PublicPr["checks"]): string {
  const parts = [
    checks.failed ? `${checks.failed} failed` : "",
    checks.passed ? `${checks.passed} passed` : "",
    checks.pending ? `${checks.pending} pending` : "",
  ];
  return parts.filter(Boolean).join(", ");
}

/** A link from GitHub only if it is a web address (never `javascript:` or the like). */
export function webLink(url: string | null): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

/** "14:05:12 UTC" from an ISO time: when checks resume after GitHub limited the rate. */
export function resumeTime(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}
