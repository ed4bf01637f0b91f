// One pull request in the session's panel, drawn from a live update: the same classes and words as
// the page's own rendering (views/pr-views.tsx PrRow), from the shared labels of src/prs/badges.ts.

import { type Badge, CI_BADGE, REVIEW_BADGE, STATE_BADGE, checkCounts, mergeableBadge, webLink } from "../prs/badges.ts";
import type { PublicPr } from "../prs/pull-requests.ts";
import { el } from "./dom.ts";

export function prRow(pr: PublicPr): HTMLLIElement {
  const link = webLink(pr.url);
  const failing = webLink(pr.failingCheckUrl);
  const review = REVIEW_BADGE[pr.reviewStatus];
  const mergeable = mergeableBadge(pr);
  const counts = checkCounts(pr.checks);
  const parts = [
    badge(STATE_BADGE[pr.state], "state"),
    badge(CI_BADGE[pr.ciStatus], "ci"),
    ...(counts ? [el("span", { class: "pr-counts muted" }, counts)] : []),
    ...(review ? [badge(review, "review")] : []),
    ...(mergeable ? [badge(mergeable, "mergeable")] : []),
  ];
  // Spaces between the badges, so they read as words and not one run of text.
  const badges = el("div", { class: "pr-badges" }, ...parts.flatMap((part, index) => (index === 0 ? [part] : [" ", part])));
  return el(
    "li",
    { class: "pr", "data-pr": String(pr.number), "data-ci": pr.ciStatus, "data-review": pr.reviewStatus },
    el(
      "a",
      { class: "pr-title", href: link ?? undefined, target: "_blank", rel: "noopener noreferrer" },
      el("span", { class: "pr-number" }, `#${pr.number}`),
      " ",
      el("span", {}, pr.title),
    ),
    badges,
    ...(failing ? [el("a", { class: "pr-failing", href: failing, target: "_blank", rel: "noopener noreferrer" }, "First failing check")] : []),
    ...(pr.headBranch ? [el("p", { class: "pr-branches muted mono wrap" }, `${pr.headBranch} → ${pr.baseBranch}`)] : []),
  );
}

function badge(badge: Badge, kind: string): HTMLSpanElement {
  return el("span", { class: `badge badge-${badge.tone}`, "data-kind": kind }, badge.label);
}
