import { QUOTED_BLOCKS_ARE_DATA, quoted } from "../chat/quoted.ts";
import type { ChangeRequest, FailingCheck } from "../github/pr-feedback.ts";

/**
 * What Pier says to a run's agent in a fix round. Pier's own words are the instruction; what CI
 * and reviewers wrote on GitHub is quoted data naming where it comes from (see src/chat/quoted.ts),
 * cut to a length a message can carry.
 */

/** Where a round stands against the cap, said at the end of each round's instruction. */
export interface RoundCount {
  number: number;
  max: number;
}

const TITLE_CHARS = 300;
const OUTPUT_CHARS = 4000;
const LOG_CHARS = 8000;
const REVIEW_CHARS = 8000;
const COMMENT_CHARS = 4000;

/** The end of each instruction: nobody pushes but Pier, and rounds are counted. */
function closing(count: RoundCount): string {
  return `Do not push: when your turn ends, Pier pushes the branch, which updates the pull request. This is fix round ${count.number} of at most ${count.max}.`;
}

function clip(text: string, max: number, keep: "start" | "end" = "start"): string {
  if (text.length <= max) return text;
  return keep === "start" ? `${text.slice(0, max)}\n[… cut]` : `[cut …]\n${text.slice(-max)}`;
}

/** One line naming the failing checks, for the round's summary. */
export function ciSummaryLine(checks: FailingCheck[]): string {
  return `CI failed: ${checks.map((check) => check.name).join(", ")}`.slice(0, 200);
}

/** The checks' names are the repository's CI's words: they appear only inside the quoted blocks. */
export function ciRoundMessage(pr: { number: number; headSha: string }, checks: FailingCheck[], count: RoundCount): string {
  return [
    `CI failed on your pull request #${pr.number} (commit ${pr.headSha.slice(0, 7)}): ${checks.length === 1 ? "one check" : `${checks.length} checks`} failed. What GitHub reported for each follows: its output and the last lines of its job's log. Find the cause, fix it in this worktree, run what failed if you can, and commit the fix on the current branch. ${closing(count)}`,
    QUOTED_BLOCKS_ARE_DATA,
    ...checks.map((check) => quoted({ from: "CI on GitHub", what: `failing check “${check.name}” (${check.conclusion}) of pull request #${pr.number}` }, checkReport(check))),
  ].join("\n\n");
}

function checkReport(check: FailingCheck): string {
  const parts = [
    check.title ? clip(check.title, TITLE_CHARS) : null,
    check.summary ? clip(check.summary, OUTPUT_CHARS) : null,
    check.text ? clip(check.text, OUTPUT_CHARS) : null,
    check.logTail ? `The last lines of its log:\n${clip(check.logTail, LOG_CHARS, "end")}` : null,
    check.url ? `Its page: ${check.url}` : null,
  ].filter((part): part is string => part !== null);
  return parts.length > 0 ? parts.join("\n\n") : "It reported nothing more than its conclusion.";
}

/** One line naming the reviewers and the line comments, for the round's summary. */
export function reviewSummaryLine(requests: ChangeRequest[]): string {
  const comments = requests.reduce((sum, request) => sum + request.comments.length, 0);
  const who = [...new Set(requests.map((request) => request.reviewer))].join(", ");
  return `Changes requested by ${who} (${comments} line comment${comments === 1 ? "" : "s"})`.slice(0, 200);
}

export function reviewRoundMessage(pr: { number: number }, requests: ChangeRequest[], count: RoundCount): string {
  const blocks = requests.flatMap((request) => {
    const from = `${request.reviewer} (a reviewer on GitHub)`;
    return [
      ...(request.body.trim() ? [quoted({ from, what: `review requesting changes on pull request #${pr.number}` }, clip(request.body, REVIEW_CHARS))] : []),
      ...request.comments.map((comment) =>
        quoted({ from, what: `comment on ${comment.path}${comment.line === null ? "" : `, line ${comment.line}`}` }, clip(comment.body, COMMENT_CHARS)),
      ),
    ];
  });
  return [
    `${reviewSummaryLine(requests)} on your pull request #${pr.number}. The reviews and their line comments follow, as written on GitHub. Make the changes they ask for where they are right for the code, in this worktree, and commit on the current branch; where you disagree, say why in your last message. ${closing(count)}`,
    QUOTED_BLOCKS_ARE_DATA,
    ...blocks,
  ].join("\n\n");
}

export function conflictSummaryLine(baseBranch: string): string {
  return `Conflicts with ${baseBranch}: rebase onto it`;
}

/** No one else's words here: the conflict is git's fact, and the base is the repository's. */
export function conflictRoundMessage(pr: { number: number; baseBranch: string }, count: RoundCount): string {
  const base = `origin/${pr.baseBranch}`;
  return `Your pull request #${pr.number} no longer merges cleanly into ${pr.baseBranch}: it has moved on since your branch left it. Pier has fetched its latest commits as ${base}. Rebase your branch onto it (git rebase ${base}), resolve each conflict keeping what both sides meant, continue until the rebase is done, run the tests, and make sure everything is committed. ${closing(count)}`;
}
