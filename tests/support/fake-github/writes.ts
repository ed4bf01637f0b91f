/**
 * What a caller changes on pull requests and issues through the API, answered as GitHub does:
 * merging (its three methods and its 405/409 refusals), editing or closing, and commenting.
 */
import { ApiError, type Answer } from "./answers.ts";
import { issueCommentObject, pullObject } from "./objects.ts";
import { closePull, mergePull, readMergeable, type MergeMethod } from "./pulls.ts";
import { isoNow, type Pull, type Repo, type Site } from "./state.ts";

const MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request";
const UPDATE_DOCS = "https://docs.github.com/rest/pulls/pulls#update-a-pull-request";
const COMMENT_DOCS = "https://docs.github.com/rest/issues/comments#create-an-issue-comment";
const MERGE_METHODS: MergeMethod[] = ["merge", "squash", "rebase"];

/** The JSON body of a write (none at all counts as `{}`); GitHub's 400 when it is not JSON. */
export async function jsonBody(request: Request, docs: string): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    const input = JSON.parse(text) as unknown;
    return input && typeof input === "object" ? (input as Record<string, unknown>) : {};
  } catch {
    throw new ApiError(400, "Problems parsing JSON", docs);
  }
}

/** PUT /pulls/{n}/merge: `{merge_method?, sha?, commit_title?, commit_message?}`. */
export async function mergeRequest(repo: Repo, pull: Pull, request: Request, by: string): Promise<Answer> {
  const input = await jsonBody(request, MERGE_DOCS);
  const method = (input.merge_method ?? "merge") as MergeMethod;
  if (!MERGE_METHODS.includes(method)) throw new ApiError(422, "Validation Failed", MERGE_DOCS);
  if (pull.state !== "open") throw new ApiError(405, "Pull Request is not mergeable", MERGE_DOCS);
  if (pull.draft) throw new ApiError(405, "Pull Request is still a draft", MERGE_DOCS);
  if (typeof input.sha === "string" && input.sha !== pull.headSha) {
    throw new ApiError(409, "Head branch was modified. Review and try the merge again.", MERGE_DOCS);
  }
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  const commit = await mergePull(repo, pull, by, { method, title: text(input.commit_title), message: text(input.commit_message) });
  if (commit === null) throw new ApiError(405, "Pull Request is not mergeable", MERGE_DOCS);
  return { status: 200, body: { sha: commit, merged: true, message: "Pull Request successfully merged" } };
}

/** PATCH /pulls/{n}: a new title or body, or `state: "closed"`. Reopening is not modelled. */
export async function updateRequest(site: Site, repo: Repo, pull: Pull, request: Request): Promise<Answer> {
  const input = await jsonBody(request, UPDATE_DOCS);
  if (input.state !== undefined && input.state !== "open" && input.state !== "closed") throw new ApiError(422, "Validation Failed", UPDATE_DOCS);
  if (input.state === "open" && pull.state === "closed") throw new Error("fake-github: reopening a pull request is not modelled");
  if (typeof input.title === "string") pull.title = input.title;
  if (typeof input.body === "string") pull.body = input.body;
  if (input.state === "closed" && pull.state === "open") closePull(pull);
  else pull.updatedAt = isoNow();
  return { status: 200, body: pullObject(site, repo, pull, await readMergeable(repo, pull)) };
}

/** POST /issues/{n}/comments `{body}` on an issue or a pull request (every pull request is an issue). */
export async function commentRequest(site: Site, repo: Repo, number: number, request: Request, by: string): Promise<Answer> {
  if (!repo.pulls.some((pull) => pull.number === number) && !repo.issues.some((issue) => issue.number === number)) throw new ApiError(404, "Not Found", COMMENT_DOCS);
  const input = await jsonBody(request, COMMENT_DOCS);
  if (typeof input.body !== "string" || input.body === "") {
    throw new ApiError(422, "Validation Failed", COMMENT_DOCS, [{ resource: "IssueComment", code: "missing_field", field: "body" }]);
  }
  const comment = { id: site.nextId(), number, login: by, body: input.body, createdAt: isoNow() };
  repo.issueComments.push(comment);
  const body = issueCommentObject(site, repo, comment);
  return { status: 201, body, headers: { location: body.url } };
}
