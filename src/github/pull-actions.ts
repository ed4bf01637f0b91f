import type { MergeMethod } from "../settings/settings.ts";
import type { GitHub } from "./client.ts";

/**
 * What Pier does to a pull request on a person's behalf, beyond opening it: merge it (GitHub
 * refuses one its own rules do not allow: failing required checks, missing reviews, conflicts)
 * and close it with a comment saying why. REST only, as the person whose token is given.
 */

function split(githubRepo: string): { owner: string; repo: string } {
  const [owner, repo] = githubRepo.split("/") as [string, string];
  return { owner, repo };
}

/** Merges by `method`, only if the head is still `sha` (GitHub answers 409 when it moved). */
export async function mergePullRequest(github: GitHub, token: string, githubRepo: string, number: number, method: MergeMethod, sha: string): Promise<{ sha: string }> {
  return github.request<{ sha: string }>(token, "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", { ...split(githubRepo), pull_number: number, merge_method: method, sha });
}

/** Comments on the pull request (its conversation is its issue's), then closes it. */
export async function closePullRequest(github: GitHub, token: string, githubRepo: string, number: number, comment: string): Promise<void> {
  await github.request(token, "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...split(githubRepo), issue_number: number, body: comment });
  await github.request(token, "PATCH /repos/{owner}/{repo}/pulls/{pull_number}", { ...split(githubRepo), pull_number: number, state: "closed" });
}
