import { describe, expect, test } from "bun:test";
import { githubWeb, pullRequestLinkPattern } from "../../src/github/web.ts";
import { ciSummary, prState, reviewStatus } from "../../src/github/pr-status.ts";
import { LinkScanner } from "../../src/prs/link-scanner.ts";

describe("a pull request's status", () => {
  test("state: merged and closed win over draft", () => {
    expect(prState({ state: "open", draft: false, merged: false, merged_at: null })).toBe("open");
    expect(prState({ state: "open", draft: true, merged: false, merged_at: null })).toBe("draft");
    expect(prState({ state: "closed", draft: true, merged: false, merged_at: null })).toBe("closed");
    expect(prState({ state: "closed", draft: false, merged_at: "2026-11-22T00:00:00Z" })).toBe("merged");
  });

  test("CI counts check runs and commit statuses together; a failure wins and keeps its link", () => {
    const run = (status: string, conclusion: string | null, html_url: string | null = null) => ({ name: "x", status, conclusion, html_url });
    expect(ciSummary([], null)).toEqual({ ciStatus: "none", checks: { passed: 0, failed: 0, pending: 0 }, failingCheckUrl: null });
    expect(ciSummary([run("in_progress", null), run("completed", "success")], null).ciStatus).toBe("pending");
    expect(ciSummary([run("completed", "success"), run("completed", "skipped")], { statuses: [{ context: "ci", state: "success", target_url: null }] })).toEqual({
      ciStatus: "passing",
      checks: { passed: 3, failed: 0, pending: 0 },
      failingCheckUrl: null,
    });
    expect(
      ciSummary([run("completed", "success"), run("in_progress", null), run("completed", "timed_out", "https://ci/1")], {
        statuses: [{ context: "lint", state: "error", target_url: "https://ci/2" }],
      }),
    ).toEqual({ ciStatus: "failing", checks: { passed: 1, failed: 2, pending: 1 }, failingCheckUrl: "https://ci/1" });
  });

  test("review: each reviewer's latest non-comment review counts; changes requested wins", () => {
    const review = (login: string, state: string) => ({ user: { login }, state });
    expect(reviewStatus([], [])).toBe("none");
    expect(reviewStatus([], [{ login: "ana" }])).toBe("review_required");
    expect(reviewStatus([review("ana", "CHANGES_REQUESTED"), review("ana", "COMMENTED")], [])).toBe("changes_requested");
    expect(reviewStatus([review("ana", "CHANGES_REQUESTED"), review("ana", "APPROVED")], [])).toBe("approved");
    expect(reviewStatus([review("ana", "APPROVED"), review("bo", "CHANGES_REQUESTED")], [])).toBe("changes_requested");
    expect(reviewStatus([review("ana", "APPROVED"), review("ana", "DISMISSED")], [{ login: "bo" }])).toBe("review_required");
  });
});

describe("finding pull request links in pieces of output", () => {
  const web = githubWeb("https://api.github.com");
  const scan = (...pieces: string[]) => {
    const found: number[] = [];
    const scanner = new LinkScanner(pullRequestLinkPattern(web, "acme/widgets"), (n) => {
      found.push(n);
      return true;
    });
    for (const piece of pieces) scanner.feed(piece);
    return found;
  };

  test("a link split across pieces, and one inside colour codes, each once", () => {
    expect(scan("Creating pull request...\r\nhttps://github.com/acme/wid", "gets/pull/42\r\n")).toEqual([42]);
    expect(scan("https://github.com/acme/widgets/pull/4", "2\r\n")).toEqual([42]);
    expect(scan("\x1b[1;32mhttps://github.com/acme/widgets/pull/7\x1b[0m\r\n", "again https://github.com/acme/widgets/pull/7\n")).toEqual([7]);
    expect(scan("\x1b]8;;https://github.com/acme/widgets/pull/9\x1b\\#9\x1b]8;;\x1b\\\n")).toEqual([9]);
  });

  test("another repo's links, issues and half-arrived numbers are not pull requests of this repo", () => {
    expect(scan("https://github.com/acme/other/pull/3\n https://github.com/acme/widgets/issues/4\n")).toEqual([]);
    expect(scan("https://github.com/acme/widgets/pull/12")).toEqual([]);
  });
});
