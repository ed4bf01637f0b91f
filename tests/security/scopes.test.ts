/**
 * Who sees what, once for every resource made from a session: each actor kind against sessions,
 * pull requests, tasks, verification reports, costs, transcripts, recordings and preview share links, through every
 * list and lookup the domains offer (the same functions the API, the pages and the agent's tools
 * call). The rows are written into a real Pier's SQLite database; every door is called; what each
 * actor gets is compared with the table.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Actor, personActor } from "../../src/auth/actor.ts";
import { createFirstAdmin, createUser } from "../../src/auth/users.ts";
import type { User } from "../../src/auth/user.ts";
import { appendItem } from "../../src/chat/items.ts";
import { costReport } from "../../src/costs/cost-report.ts";
import { listPrices, recordUsage } from "../../src/costs/costs.ts";
import { AppError } from "../../src/infra/errors.ts";
import { pullRequests, sessionPullRequests } from "../../src/prs/tables.ts";
import { repos } from "../../src/repos/tables.ts";
import { sessions } from "../../src/sessions/tables.ts";
import { taskVerifications } from "../../src/tasks/tables.ts";
import { recordingPath } from "../../src/terminal/recording.ts";
import { type TestPier, closeForGood, startTestPier } from "../support/pier.ts";

const RESOURCES = ["sessions", "prs", "tasks", "reports", "costs", "transcripts", "recordings", "share links"] as const;
type Resource = (typeof RESOURCES)[number];

/**
 * What each actor may see of the person's session S (and of what was made from it: its pull
 * request, its linked task, that task's report drawn from S, its spending, transcript, recording).
 * Every person sees every task; the agent only its session's. Spending is per person, so an agent
 * of another session of the same person sees it too (the costs rule today). A preview's share link
 * publishes it, which only the person (or an admin) decides, never an agent.
 */
const SEES: Record<string, Record<Resource, boolean>> = {
  "the person": { sessions: true, prs: true, tasks: true, reports: true, costs: true, transcripts: true, recordings: true, "share links": true },
  "an admin": { sessions: true, prs: true, tasks: true, reports: true, costs: true, transcripts: true, recordings: true, "share links": true },
  "the agent of the session": { sessions: true, prs: true, tasks: true, reports: true, costs: true, transcripts: true, recordings: true, "share links": false },
  "another member": { sessions: false, prs: false, tasks: true, reports: false, costs: false, transcripts: false, recordings: false, "share links": false },
  "an agent of another member's session": { sessions: false, prs: false, tasks: false, reports: false, costs: false, transcripts: false, recordings: false, "share links": false },
  "an agent of the person's other session": { sessions: false, prs: false, tasks: false, reports: false, costs: true, transcripts: false, recordings: false, "share links": false },
};

/**
 * Whether the actor reached the session to share its preview: S has ended, so those who may are
 * refused for that alone (409); a 404 says it does not exist for them, a 403 that they may not.
 */
function mayShare(share: () => unknown): boolean {
  try {
    share();
    return true;
  } catch (error) {
    if (error instanceof AppError && error.status === 409) return true;
    if (error instanceof AppError && (error.status === 404 || error.status === 403)) return false;
    throw error;
  }
}

/** Whether a lookup finds it: a 404 says it does not exist for this actor; any other failure is the test's. */
function found(lookup: () => unknown): boolean {
  try {
    lookup();
    return true;
  } catch (error) {
    if (error instanceof AppError && error.status === 404) return false;
    throw error;
  }
}

describe("one scope per resource", () => {
  let pier: TestPier;
  const actors = new Map<string, Actor>();
  /** The person's session S, their other session, and another member's session. */
  const ids = { session: "s-person", otherOwnSession: "s-person-other", otherMembersSession: "s-other-member", task: "", repo: "r-scopes" };
  const RECORDED = "terminal output only S's viewers may read";
  const SAID = "words only S's viewers may read";

  beforeAll(async () => {
    pier = await startTestPier();
    const { db } = pier.pier;
    const admin = await createFirstAdmin(db, { username: "admin", password: "admin password 1" });
    const person = await createUser(db, personActor(admin), { username: "ana", password: "ana password 1" });
    const member = await createUser(db, personActor(admin), { username: "bo", password: "bo password 1" });
    db.insert(repos).values({ id: ids.repo, name: "scopes", url: "https://example.com/scopes.git", defaultBranch: "main", githubRepo: null, createdBy: admin.id, createdAt: new Date() }).run();
    ids.task = pier.pier.tasks.create(personActor(person), { title: "The person's task" }).id;
    const ended = new Date(Date.now() - 60_000);
    const session = (id: string, user: User, taskId: string | null, minutesAgo: number) => ({
      id, repoId: ids.repo, userId: user.id, taskId, title: `session ${id}`, branch: `pier/${user.username}/${id}`, createdBranch: true,
      baseRef: "origin/main", worktreePath: `/worktrees/${id}`, state: "ended" as const, createdAt: new Date(Date.now() - minutesAgo * 60_000), endedAt: ended,
    });
    db.insert(sessions).values([
      session(ids.session, person, ids.task, 3),
      session(ids.otherOwnSession, person, null, 2),
      session(ids.otherMembersSession, member, null, 1),
    ]).run();
    // One merged pull request per session, so none is followed on GitHub.
    for (const [number, sessionId] of [[1, ids.session], [2, ids.otherOwnSession], [3, ids.otherMembersSession]] as const) {
      db.insert(pullRequests).values({
        repoId: ids.repo, number, url: `https://github.com/o/scopes/pull/${number}`, title: `PR ${number}`, state: "merged", headBranch: `b${number}`, headSha: "0".repeat(40),
        baseBranch: "main", ciStatus: "none", checksPassed: 0, checksFailed: 0, checksPending: 0, reviewStatus: "none", updatedAt: new Date(),
      }).run();
      db.insert(sessionPullRequests).values({ sessionId, repoId: ids.repo, number, foundBy: "manual", createdAt: new Date() }).run();
    }
    db.insert(taskVerifications).values({ taskId: ids.task, status: "ready", markdown: "The report", error: null, startedAt: ended, finishedAt: ended, sessionIds: JSON.stringify([ids.session]) }).run();
    const model = listPrices(db)[0]!.model;
    recordUsage(db, { sessionId: ids.session, taskId: ids.task, userId: person.id, repoId: ids.repo, model, usage: { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0 } });
    appendItem(db, ids.session, { kind: "user", text: SAID });
    const path = recordingPath(pier.dataDir, ids.session);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify({ version: 2, width: 80, height: 24 })}\n${JSON.stringify([0.1, "o", RECORDED])}\n`);

    actors.set("the person", personActor(person));
    actors.set("an admin", personActor(admin));
    actors.set("the agent of the session", { kind: "agent", user: person, sessionId: ids.session });
    actors.set("another member", personActor(member));
    actors.set("an agent of another member's session", { kind: "agent", user: member, sessionId: ids.otherMembersSession });
    actors.set("an agent of the person's other session", { kind: "agent", user: person, sessionId: ids.otherOwnSession });
  }, 60_000);

  afterAll(async () => {
    if (pier) await closeForGood(pier);
  }, 60_000);

  /** Every door to a resource of session S, each answering whether the actor got it. */
  const doors: Record<Resource, Array<(actor: Actor) => boolean>> = {
    sessions: [
      (actor) => found(() => pier.pier.sessions.getFor(actor, ids.session)),
      (actor) => pier.pier.sessions.list(actor).some((session) => session.id === ids.session),
      (actor) => pier.pier.sessions.query(actor, {}).sessions.some((session) => session.id === ids.session),
    ],
    prs: [
      (actor) => found(() => expect(pier.pier.prs.forSession(actor, ids.session).map((pr) => pr.number)).toEqual([1])),
      (actor) => pier.pier.prs.all(actor, "all").some((pr) => pr.number === 1 && pr.sessionId === ids.session),
    ],
    tasks: [
      (actor) => found(() => pier.pier.tasks.get(actor, ids.task)),
      (actor) => pier.pier.tasks.list(actor).some((task) => task.id === ids.task),
      (actor) => found(() => pier.pier.tasks.notes(actor, ids.task)),
    ],
    reports: [
      (actor) => found(() => expect(pier.pier.verifications.get(actor, ids.task).markdown).toBe("The report")),
      (actor) => pier.pier.verifications.mayRead(actor, ids.task) && found(() => pier.pier.tasks.get(actor, ids.task)),
    ],
    costs: [
      (actor) => costReport(pier.pier.db, actor, { groupBy: "session" }).some((row) => row.key === ids.session && row.costUsd > 0),
      (actor) => costReport(pier.pier.db, actor, { groupBy: "task" }).some((row) => row.key === ids.task && row.costUsd > 0),
    ],
    transcripts: [
      (actor) => found(() => expect(pier.pier.chats.transcript(actor, ids.session).map((item) => (item.kind === "user" ? item.text : ""))).toEqual([SAID])),
    ],
    recordings: [
      (actor) => found(() => expect(readFileSync(pier.pier.terminals.recordingFor(actor, ids.session).path, "utf8")).toContain(RECORDED)),
    ],
    "share links": [
      (actor) => mayShare(() => pier.pier.previews.share(actor, ids.session, "3000", { minutes: 5 }, { origin: "http://127.0.0.1", https: false })),
    ],
  };

  for (const [who, sees] of Object.entries(SEES)) {
    for (const resource of RESOURCES) {
      test(`${who} ${sees[resource] ? "sees" : "does not see"} the session's ${resource}`, () => {
        const actor = actors.get(who)!;
        expect(doors[resource].map((door) => door(actor))).toEqual(doors[resource].map(() => sees[resource]));
      });
    }
  }

  test("each actor's lists hold only what the table lets it see: no one else's session, pull request or spending slips in", () => {
    const mine = (actor: Actor) => ({
      sessions: pier.pier.sessions.list(actor).map((session) => session.id).sort(),
      prs: pier.pier.prs.all(actor, "all").map((pr) => pr.number).sort(),
      spending: costReport(pier.pier.db, actor, { groupBy: "user" }).length,
    });
    expect(mine(actors.get("the person")!)).toEqual({ sessions: [ids.session, ids.otherOwnSession].sort(), prs: [1, 2], spending: 1 });
    expect(mine(actors.get("an admin")!)).toEqual({ sessions: [ids.session, ids.otherOwnSession, ids.otherMembersSession].sort(), prs: [1, 2, 3], spending: 1 });
    expect(mine(actors.get("the agent of the session")!)).toEqual({ sessions: [ids.session], prs: [1], spending: 1 });
    expect(mine(actors.get("another member")!)).toEqual({ sessions: [ids.otherMembersSession], prs: [3], spending: 0 });
    expect(mine(actors.get("an agent of the person's other session")!)).toEqual({ sessions: [ids.otherOwnSession], prs: [2], spending: 1 });
  });
});
