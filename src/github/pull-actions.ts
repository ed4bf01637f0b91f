import type { MergeMethod } from "../settings/settings.ts";
import type { GitHub } from "./client.ts";

/**
 * What Pier does to a pull request on a person's behalf, beyond opening it: merge it (GitHub
 * refuses one its own rules do not allow: failing required checks, missing reviews, conflicts),
 * close it with a comment saying why, and comment on it or on an issue. REST only, as the person
 * whose token is given.
 */

function split(githubRepo: string): { owner: string; repo: string } {
  const [owner, repo] = githubRepo.split("/") as [string, string];
  return { owner, repo };
}

/**
 * Merges by `method`, only if the head is still `sha` (GitHub answers 409 when it moved). A refusal
 * is final, so it is not tried again: its sentence comes back at once.
 */
export async function mergePullRequest(github: GitHub, token: string, githubRepo: string, number: number, method: MergeMethod, sha: string): Promise<{ sha: string }> {
  return github.requestOnce<{ sha: string }>(token, "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", { ...split(githubRepo), pull_number: number, merge_method: method, sha });
}

/** Comments on an issue or a pull request (a pull request's conversation is its issue's). */
export async function commentOnIssue(github: GitHub, token: string, githubRepo: string, number: number, body: string): Promise<{ id: number; url: string }> {
  const comment = await github.request<{ id: number; html_url: string }>(token, "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    ...split(githubRepo),
    issue_number: number,
    body,
  });
  return { id: comment.id, url: comment.html_url };
}

/** Comments on the pull request, then closes it. */
export async function closePullRequest(github: GitHub, token: string, githubRepo: string, number: number, comment: string): Promise<void> {
  await commentOnIssue(github, token, githubRepo, number, comment);
  await github.request(token, "PATCH /repos/{owner}/{repo}/pulls/{pull_number}", { ...split(githubRepo), pull_number: number, state: "closed" });
}
