import { type Static, Type } from "@sinclair/typebox";
import { and, desc, eq, gt, inArray, isNull, lt, or } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { RequestError } from "octokit";
import { type GitHub, githubMessage } from "../github/client.ts";
import { type GitHubWeb, pullRequestLinkPattern } from "../github/web.ts";
import {
  type GitHubCheckRun,
  type GitHubCombinedStatus,
  type GitHubPull,
  type GitHubReview,
  ciSummary,
  prState,
  reviewStatus,
} from "../github/pr-status.ts";
import type { Db } from "../infra/db.ts";
import { AppError, forbidden, invalid } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { optionalText } from "../infra/input.ts";
import type { Pods } from "../pods/pods.ts";
import { getRepo, reposOnGithub } from "../repos/repos.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { Session } from "../sessions/session.ts";
import { sessions as sessionsTable } from "../sessions/tables.ts";
import type { Credentials } from "../settings/credentials.ts";
import type { SettingsStore } from "../settings/settings.ts";
import { LinkLookups } from "./link-lookups.ts";
import { visiblePullRequests } from "./pr-scope.ts";
import { LinkScanner } from "./link-scanner.ts";
import { pullRequests, sessionBranches, sessionPullRequests } from "./tables.ts";

type Row = typeof pullRequests.$inferSelect;
type FoundBy = (typeof sessionPullRequests.$inferSelect)["foundBy"];

/** A pull request as the API and pages show it (the pr object of API.md). */
export interface PublicPr {
  number: number;
  url: string;
  title: string;
  state: Row["state"];
  headBranch: string;
  headSha: string;
  baseBranch: string;
  ciStatus: Row["ciStatus"];
  checks: { passed: number; failed: number; pending: number };
  failingCheckUrl: string | null;
  reviewStatus: Row["reviewStatus"];
  mergeable: boolean | null;
  updatedAt: string;
}

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A pull request of a session was found or changed on GitHub (topic: the session). */
    "pr.updated": PublicPr & { sessionId: string };
  }
}

export const AddPrInput = Type.Object({ url: Type.String({ title: "URL", minLength: 1, error: "URL is required." }) });
export type AddPrInput = Static<typeof AddPrInput>;

export const OpenPrInput = Type.Object({
  title: optionalText("Title", { maxLength: 256 }),
  body: optionalText("Body", { maxLength: 65_536 }),
  draft: Type.Optional(Type.Union([Type.Boolean(), Type.Literal("on"), Type.Literal("true"), Type.Literal("false")], { title: "Draft", error: "Draft must be true or false." })),
});
export type OpenPrInput = Static<typeof OpenPrInput>;

/** Sessions that ended this long ago are no longer searched for new pull requests (known ones are still followed). */
const DISCOVER_AFTER_END_MS = 24 * 60 * 60_000;

export interface PullRequestDeps {
  db: Db;
  bus: EventBus;
  github: GitHub;
  web: GitHubWeb;
  credentials: Credentials;
  sessions: Sessions;
  pods: Pods;
  settings: SettingsStore;
  /** How many pull request links one session's output may have looked up on GitHub per minute. */
  linkLookupsPerMinute: number;
}

/**
 * The pull requests opened during sessions. Found four ways, de-duplicated by number: links in
 * the terminal's output or the chat, a search by the branches a session worked on, GitHub's
 * webhooks, and by hand. Each open one is followed until it is merged or closed, whether its
 * session is still going or not: conditional requests (ETags) make an unchanged answer a 304,
 * and every change is published (`pr.updated`).
 */
export class PullRequests {
  /** The last answer of each conditional request (its ETag and what it said), so a 304 can stand for it. */
  private answers = new Map<string, { etag: string; data: unknown }>();
  /** One refresh of a pull request at a time. */
  private refreshing = new Map<string, Promise<void>>();
  /**
   * When each session was last searched by its branches (the poller's clock). Not let go with the
   * session's host: an ended session is still searched for DISCOVER_AFTER_END_MS.
   */
  private searched = new Map<string, number>();
  /** Each live session's link scanners (terminal, chat): let go with its host (see forget). */
  private scanners = new Map<string, LinkScanner | null>();
  /** Links found in sessions' output, looked up a bounded number per session per minute. */
  private lookups: LinkLookups<"terminal" | "chat">;

  constructor(private deps: PullRequestDeps) {
    this.lookups = new LinkLookups(deps.linkLookupsPerMinute, (sessionId, number, how) => this.lookUpLink(sessionId, number, how));
  }

  // ---------------------------------------------------------------- reading

  /** The pull requests of a session the actor may see, newest first. */
  forSession(actor: Actor, sessionId: string): PublicPr[] {
    this.deps.sessions.getFor(actor, sessionId);
    return this.rowsOf(sessionId).map(publicPr);
  }

  /** Every pull request the actor may see (see pr-scope.ts), with its session. */
  all(actor: Actor, state: "open" | "all" = "open"): Array<PublicPr & { sessionId: string; repoId: string }> {
    const rows = this.deps.db
      .select({ pr: pullRequests, sessionId: sessionPullRequests.sessionId })
      .from(sessionPullRequests)
      .innerJoin(pullRequests, and(eq(pullRequests.repoId, sessionPullRequests.repoId), eq(pullRequests.number, sessionPullRequests.number)))
      .innerJoin(sessionsTable, eq(sessionsTable.id, sessionPullRequests.sessionId))
      .where(
        and(
          visiblePullRequests(actor),
          state === "open" ? inArray(pullRequests.state, ["open", "draft"]) : undefined,
        ),
      )
      .orderBy(desc(pullRequests.updatedAt))
      .all();
    return rows.map(({ pr, sessionId }) => ({ ...publicPr(pr), sessionId, repoId: pr.repoId }));
  }

  /** The pull requests of several sessions at once, for lists (sessions page, dashboard) of sessions the caller may already see. */
  bySession(sessionIds: string[]): Map<string, PublicPr[]> {
    const found = new Map<string, PublicPr[]>();
    if (sessionIds.length === 0) return found;
    const rows = this.deps.db
      .select({ pr: pullRequests, sessionId: sessionPullRequests.sessionId })
      .from(sessionPullRequests)
      .innerJoin(pullRequests, and(eq(pullRequests.repoId, sessionPullRequests.repoId), eq(pullRequests.number, sessionPullRequests.number)))
      .where(inArray(sessionPullRequests.sessionId, sessionIds))
      .orderBy(desc(pullRequests.number))
      .all();
    for (const { pr, sessionId } of rows) found.set(sessionId, [...(found.get(sessionId) ?? []), publicPr(pr)]);
    return found;
  }

  // ---------------------------------------------------------------- finding

  /**
   * Reads what a session produced (its terminal's output, or the chat's agent text and tool
   * results) for links to its repo's pull requests, as it comes, in pieces. What it prints is
   * the session's to choose, so the lookups its links cause are bounded (see LinkLookups).
   */
  scan(sessionId: string, source: "terminal" | "chat", text: string): void {
    const key = `${sessionId} ${source}`;
    let scanner = this.scanners.get(key);
    if (scanner === undefined) {
      const session = this.deps.sessions.get(sessionId);
      const repo = getRepo(this.deps.db, session.repoId);
      scanner = repo.githubRepo
        ? new LinkScanner(pullRequestLinkPattern(this.deps.web, repo.githubRepo), (number) => this.lookups.offer(sessionId, number, source))
        : null;
      this.scanners.set(key, scanner);
    }
    scanner?.feed(text);
  }

  /**
   * The session stopped being live (its host releases it): its scanners go (the pull requests it
   * found stay and are still followed; links it showed are still looked up). One whose provisioning
   * failed had none: a resumed session's went when it ended before.
   */
  forget(sessionId: string): void {
    for (const source of ["terminal", "chat"]) this.scanners.delete(`${sessionId} ${source}`);
    this.lookups.forget(sessionId);
  }

  /** A person records a pull request of the session's repo by its link. */
  async addByUrl(actor: Actor, sessionId: string, input: AddPrInput): Promise<PublicPr> {
    const session = this.deps.sessions.getFor(actor, sessionId);
    const repo = getRepo(this.deps.db, session.repoId);
    if (!repo.githubRepo) throw invalid("url", `${repo.name} is not on GitHub; set its GitHub repository in the repository's settings first.`);
    const match = [...`${input.url.trim()} `.matchAll(pullRequestLinkPattern(this.deps.web, repo.githubRepo))][0];
    if (!match) throw invalid("url", `That is not a pull request of ${repo.githubRepo} (${this.deps.web.origin}/${repo.githubRepo}/pull/<number>).`);
    const number = Number(match[1]);
    await this.found(session, number, "manual");
    return publicPr(this.row(repo.id, number)!);
  }

  /** The branch now checked out in a session's worktree joins the branches its PRs are searched by. */
  noteBranch(sessionId: string, branch: string): void {
    this.deps.db.insert(sessionBranches).values({ sessionId, branch }).onConflictDoNothing().run();
  }

  /**
   * Records that a pull request belongs to a session (once, however often it is found) and
   * fetches its state from GitHub at once.
   */
  async found(session: Session, number: number, how: FoundBy): Promise<void> {
    const repo = getRepo(this.deps.db, session.repoId);
    if (!repo.githubRepo) return;
    const now = new Date();
    const isNew = this.deps.db.transaction((tx) => {
      tx.insert(pullRequests)
        .values({
          repoId: repo.id,
          number,
          url: `${this.deps.web.origin}/${repo.githubRepo}/pull/${number}`,
          title: `Pull request #${number}`,
          state: "open",
          headBranch: "",
          headSha: "",
          baseBranch: "",
          ciStatus: "none",
          checksPassed: 0,
          checksFailed: 0,
          checksPending: 0,
          reviewStatus: "none",
          updatedAt: now,
        })
        .onConflictDoNothing()
        .run();
      const linked = tx
        .insert(sessionPullRequests)
        .values({ sessionId: session.id, repoId: repo.id, number, foundBy: how, createdAt: now })
        .onConflictDoNothing()
        .returning({ number: sessionPullRequests.number })
        .all();
      return linked.length > 0;
    });
    if (isNew) this.publish(repo.id, number);
    await this.refresh(repo.id, number);
  }

  /** Asks GitHub for pull requests whose head is a branch the session worked on (so one opened on the web is found too). */
  async searchByBranches(session: Session): Promise<void> {
    const repo = getRepo(this.deps.db, session.repoId);
    const token = await this.deps.credentials.githubToken(session.userId);
    if (!repo.githubRepo || !token) return;
    const [owner, name] = repo.githubRepo.split("/") as [string, string];
    const branches = new Set([session.branch, ...this.deps.db.select().from(sessionBranches).where(eq(sessionBranches.sessionId, session.id)).all().map((row) => row.branch)]);
    for (const branch of branches) {
      const answer = await this.cachedGet<GitHubPull[]>(token, `search ${repo.id} ${branch}`, "GET /repos/{owner}/{repo}/pulls", {
        owner,
        repo: name,
        head: `${owner}:${branch}`,
        state: "all",
        per_page: 20,
      });
      if (!answer.changed) continue;
      for (const pull of answer.data) {
        this.saveStatus(repo.id, pull, null);
        await this.found(session, pull.number, "branch");
      }
    }
  }

  // ---------------------------------------------------------------- keeping up

  /** Brings one pull request up to date with GitHub; publishes what changed. One at a time per PR. */
  refresh(repoId: string, number: number): Promise<void> {
    const key = `${repoId}#${number}`;
    const running = this.refreshing.get(key);
    if (running) return running;
    const run = this.fetchStatus(repoId, number)
      .catch((error) => {
        // A link to a pull request that does not exist (a typo, another fork): nothing to follow.
        if (error instanceof RequestError && error.status === 404) this.dropIfNeverSeen(repoId, number);
        else console.error(`[pier] following pull request ${key} failed: ${githubMessage(error)}`);
      })
      .finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, run);
    return run;
  }

  /**
   * The poller's one tick: every open pull request not asked about for a poll period is asked
   * again, and every live (or just ended) session is searched by its branches, its worktree's
   * branch noted first; links waiting for a new minute are looked up. While GitHub limits the
   * rate, nothing is asked.
   */
  async poll(now = Date.now()): Promise<void> {
    if (this.deps.github.rateLimit && this.deps.github.rateLimit.until > now) return;
    await this.lookups.drain(now);
    const period = this.deps.settings.plain().prPollSeconds * 1000;
    const due = new Date(now - period);
    const open = this.deps.db
      .select({ repoId: pullRequests.repoId, number: pullRequests.number })
      .from(pullRequests)
      .where(and(inArray(pullRequests.state, ["open", "draft"]), or(isNull(pullRequests.checkedAt), lt(pullRequests.checkedAt, due))))
      .all();
    for (const pr of open) await this.refresh(pr.repoId, pr.number);

    const recent = this.deps.db
      .select()
      .from(sessionsTable)
      .where(or(eq(sessionsTable.state, "active"), gt(sessionsTable.endedAt, new Date(now - DISCOVER_AFTER_END_MS))))
      .all();
    for (const session of recent) {
      if ((this.searched.get(session.id) ?? 0) > now - period) continue;
      this.searched.set(session.id, now);
      // Sessions of repos not on GitHub have nothing to find (and their pods are not asked).
      if (!getRepo(this.deps.db, session.repoId).githubRepo) continue;
      try {
        if (session.state === "active") await this.noteWorktreeBranch(session);
        await this.searchByBranches(session);
      } catch (error) {
        console.error(`[pier] searching pull requests of session ${session.id} failed: ${githubMessage(error)}`);
      }
    }
  }

  /**
   * A webhook delivery from GitHub (its signature already checked): the pull requests it is
   * about are updated at once, and a new one whose branch a session worked on is found.
   */
  async webhook(event: string, payload: WebhookPayload): Promise<void> {
    for (const repo of reposOnGithub(this.deps.db, payload.repository?.full_name ?? "")) {
      if (event === "pull_request" && payload.pull_request) {
        this.saveStatus(repo.id, payload.pull_request, null);
        for (const session of this.sessionsOnBranch(repo.id, payload.pull_request.head.ref)) {
          await this.found(session, payload.pull_request.number, "webhook");
        }
        await this.refreshLinked(repo.id, [payload.pull_request.number]);
      } else if (event === "pull_request_review" && payload.pull_request) {
        await this.refreshLinked(repo.id, [payload.pull_request.number]);
      } else if (event === "check_run" || event === "check_suite" || event === "status") {
        const sha = payload.check_run?.head_sha ?? payload.check_suite?.head_sha ?? payload.sha;
        if (!sha) continue;
        const numbers = this.deps.db
          .select({ number: pullRequests.number })
          .from(pullRequests)
          .where(and(eq(pullRequests.repoId, repo.id), eq(pullRequests.headSha, sha)))
          .all();
        await this.refreshLinked(repo.id, numbers.map((row) => row.number));
      }
    }
  }

  // ---------------------------------------------------------------- opening

  /** What the Open pull request form starts with: the session's title, and its commits as the body. */
  async draft(actor: Actor, sessionId: string): Promise<{ title: string; body: string; base: string }> {
    const session = this.deps.sessions.getFor(actor, sessionId);
    const repo = getRepo(this.deps.db, session.repoId);
    const shell = await this.deps.pods.ensure(repo, session.userId);
    const titles = await this.deps.pods.workspace(repo, session.userId, shell).commitTitles(session.baseSha ?? session.baseRef, session.branch);
    const body = [titles.map((title) => `- ${title}`).join("\n"), `Opened from Pier session “${session.title}”.`].filter(Boolean).join("\n\n");
    return { title: session.title, body, base: repo.defaultBranch };
  }

  /**
   * Opens a pull request from the session's branch against the repo's default branch: the branch
   * is pushed from the person's pod with their credentials, then GitHub is asked, as them.
   * GitHub's refusals come back as its own sentences.
   */
  async open(actor: Actor, sessionId: string, input: OpenPrInput): Promise<PublicPr> {
    const session = this.deps.sessions.getFor(actor, sessionId);
    if (actor.kind !== "person" || actor.user.id !== session.userId) throw forbidden("Only the session's own person can open its pull request.");
    if (session.state !== "active") throw new AppError(409, "session_not_active", "Open a pull request from an active session; resume this one first.");
    const repo = getRepo(this.deps.db, session.repoId);
    if (!repo.githubRepo) throw new AppError(400, "not_on_github", `${repo.name} is not on GitHub; set its GitHub repository in the repository's settings first.`);
    const token = await this.deps.credentials.githubToken(session.userId);
    if (!token) throw new AppError(400, "no_github_token", "No GitHub token is set: add yours, or ask an admin to set one in settings.");
    const suggested = await this.draft(actor, sessionId);

    const shell = await this.deps.pods.ensure(repo, session.userId);
    await this.deps.pods.workspace(repo, session.userId, shell).push(session.branch);
    const [owner, name] = repo.githubRepo.split("/") as [string, string];
    let pull: GitHubPull;
    try {
      pull = await this.deps.github.request<GitHubPull>(token, "POST /repos/{owner}/{repo}/pulls", {
        owner,
        repo: name,
        head: session.branch,
        base: repo.defaultBranch,
        title: input.title?.trim() || suggested.title,
        body: input.body ?? suggested.body,
        draft: input.draft === true || input.draft === "on" || input.draft === "true",
      });
    } catch (error) {
      throw new AppError(422, "github_refused", `GitHub did not open the pull request: ${githubMessage(error)}`);
    }
    this.saveStatus(repo.id, pull, null);
    await this.found(session, pull.number, "opened");
    return publicPr(this.row(repo.id, pull.number)!);
  }

  // ---------------------------------------------------------------- inside

  private async fetchStatus(repoId: string, number: number): Promise<void> {
    const repo = getRepo(this.deps.db, repoId);
    const token = await this.tokenFor(repoId, number);
    if (!repo.githubRepo || !token) return;
    const [owner, name] = repo.githubRepo.split("/") as [string, string];
    const params = { owner, repo: name };
    const pull = await this.cachedGet<GitHubPull>(token, `pull ${repoId}#${number}`, "GET /repos/{owner}/{repo}/pulls/{pull_number}", { ...params, pull_number: number });
    const sha = pull.data.head.sha;
    const [runs, statuses, reviews] = await Promise.all([
      this.cachedGet<{ check_runs: GitHubCheckRun[] }>(token, `checks ${repoId} ${sha}`, "GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { ...params, ref: sha, per_page: 100 }),
      this.cachedGet<GitHubCombinedStatus>(token, `status ${repoId} ${sha}`, "GET /repos/{owner}/{repo}/commits/{ref}/status", { ...params, ref: sha, per_page: 100 }),
      this.cachedGet<GitHubReview[]>(token, `reviews ${repoId}#${number}`, "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { ...params, pull_number: number, per_page: 100 }),
    ]);
    this.deps.github.cleared();
    const changed = this.saveStatus(repoId, pull.data, { runs: runs.data.check_runs, statuses: statuses.data, reviews: reviews.data });
    this.deps.db.update(pullRequests).set({ checkedAt: new Date() }).where(and(eq(pullRequests.repoId, repoId), eq(pullRequests.number, number))).run();
    if (changed) this.publish(repoId, number);
  }

  /**
   * Stores what GitHub said of a pull request (and, when given, its checks and reviews); true
   * when anything a person sees changed.
   */
  private saveStatus(repoId: string, pull: GitHubPull, more: { runs: GitHubCheckRun[]; statuses: GitHubCombinedStatus; reviews: GitHubReview[] } | null): boolean {
    const before = this.row(repoId, pull.number);
    const ci = more ? ciSummary(more.runs, more.statuses) : null;
    const values = {
      url: pull.html_url,
      title: pull.title,
      state: prState(pull),
      headBranch: pull.head.ref,
      headSha: pull.head.sha,
      baseBranch: pull.base.ref,
      ...(ci ? { ciStatus: ci.ciStatus, checksPassed: ci.checks.passed, checksFailed: ci.checks.failed, checksPending: ci.checks.pending, failingCheckUrl: ci.failingCheckUrl } : {}),
      ...(more ? { reviewStatus: reviewStatus(more.reviews, pull.requested_reviewers) } : {}),
      ...(pull.mergeable !== undefined ? { mergeable: pull.mergeable } : {}),
      updatedAt: new Date(pull.updated_at),
    };
    if (!before) return false;
    this.deps.db.update(pullRequests).set(values).where(and(eq(pullRequests.repoId, repoId), eq(pullRequests.number, pull.number))).run();
    const after = this.row(repoId, pull.number)!;
    return JSON.stringify(publicPr(before)) !== JSON.stringify(publicPr(after));
  }

  /** A conditional GET whose 304 stands for the answer it remembers. */
  private async cachedGet<T>(token: string, key: string, route: string, params: Record<string, unknown>): Promise<{ changed: boolean; data: T }> {
    const last = this.answers.get(key);
    const answer = await this.deps.github.get<T>(token, route, params, last?.etag ?? null);
    if (!answer.changed) return { changed: false, data: last!.data as T };
    if (answer.etag) this.answers.set(key, { etag: answer.etag, data: answer.data });
    return { changed: true, data: answer.data };
  }

  private dropIfNeverSeen(repoId: string, number: number): void {
    const row = this.row(repoId, number);
    if (!row || row.headSha !== "") return;
    const where = (table: typeof pullRequests | typeof sessionPullRequests) => and(eq(table.repoId, repoId), eq(table.number, number));
    this.deps.db.transaction((tx) => {
      tx.delete(sessionPullRequests).where(where(sessionPullRequests)).run();
      tx.delete(pullRequests).where(where(pullRequests)).run();
    });
  }

  /** A link a session showed, its turn come: recorded and looked up; a failure is said, never thrown. */
  private async lookUpLink(sessionId: string, number: number, how: "terminal" | "chat"): Promise<void> {
    try {
      await this.found(this.deps.sessions.get(sessionId), number, how);
    } catch (error) {
      console.error(`[pier] looking up pull request #${number} of session ${sessionId} failed: ${githubMessage(error)}`);
    }
  }

  private async refreshLinked(repoId: string, numbers: number[]): Promise<void> {
    for (const number of numbers) if (this.row(repoId, number)) await this.refresh(repoId, number);
  }

  private async noteWorktreeBranch(session: Session): Promise<void> {
    const repo = getRepo(this.deps.db, session.repoId);
    const shell = await this.deps.pods.ensure(repo, session.userId);
    const branch = await this.deps.pods.workspace(repo, session.userId, shell).currentBranch(session.worktreePath);
    if (branch) this.noteBranch(session.id, branch);
  }

  /** The token of the person whose session found the pull request first (theirs, else the instance's). */
  private async tokenFor(repoId: string, number: number): Promise<string | null> {
    const link = this.deps.db
      .select({ userId: sessionsTable.userId })
      .from(sessionPullRequests)
      .innerJoin(sessionsTable, eq(sessionsTable.id, sessionPullRequests.sessionId))
      .where(and(eq(sessionPullRequests.repoId, repoId), eq(sessionPullRequests.number, number)))
      .orderBy(sessionPullRequests.createdAt)
      .get();
    return link ? this.deps.credentials.githubToken(link.userId) : null;
  }

  private sessionsOnBranch(repoId: string, branch: string): Session[] {
    const byOwnBranch = this.deps.db.select().from(sessionsTable).where(and(eq(sessionsTable.repoId, repoId), eq(sessionsTable.branch, branch))).all();
    const byWorktree = this.deps.db
      .select({ session: sessionsTable })
      .from(sessionBranches)
      .innerJoin(sessionsTable, eq(sessionsTable.id, sessionBranches.sessionId))
      .where(and(eq(sessionsTable.repoId, repoId), eq(sessionBranches.branch, branch)))
      .all()
      .map((row) => row.session);
    return [...new Map([...byOwnBranch, ...byWorktree].map((s) => [s.id, s])).values()];
  }


  private rowsOf(sessionId: string): Row[] {
    return this.deps.db
      .select({ pr: pullRequests })
      .from(sessionPullRequests)
      .innerJoin(pullRequests, and(eq(pullRequests.repoId, sessionPullRequests.repoId), eq(pullRequests.number, sessionPullRequests.number)))
      .where(eq(sessionPullRequests.sessionId, sessionId))
      .orderBy(desc(pullRequests.number))
      .all()
      .map((row) => row.pr);
  }

  private row(repoId: string, number: number): Row | undefined {
    return this.deps.db.select().from(pullRequests).where(and(eq(pullRequests.repoId, repoId), eq(pullRequests.number, number))).get();
  }

  private publish(repoId: string, number: number): void {
    const row = this.row(repoId, number);
    if (!row) return;
    const links = this.deps.db
      .select({ sessionId: sessionPullRequests.sessionId })
      .from(sessionPullRequests)
      .where(and(eq(sessionPullRequests.repoId, repoId), eq(sessionPullRequests.number, number)))
      .all();
    for (const { sessionId } of links) this.deps.bus.publish("pr.updated", sessionId, { ...publicPr(row), sessionId });
  }
}

/** The parts of GitHub's webhook payloads Pier reads. */
export interface WebhookPayload {
  repository?: { full_name: string };
  pull_request?: GitHubPull;
  check_run?: { head_sha: string };
  check_suite?: { head_sha: string };
  sha?: string;
}

export function publicPr(row: Row): PublicPr {
  return {
    number: row.number,
    url: row.url,
    title: row.title,
    state: row.state,
    headBranch: row.headBranch,
    headSha: row.headSha,
    baseBranch: row.baseBranch,
    ciStatus: row.ciStatus,
    checks: { passed: row.checksPassed, failed: row.checksFailed, pending: row.checksPending },
    failingCheckUrl: row.failingCheckUrl,
    reviewStatus: row.reviewStatus,
    mergeable: row.mergeable,
    updatedAt: row.updatedAt.toISOString(),
  };
}
