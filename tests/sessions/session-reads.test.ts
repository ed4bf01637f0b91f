import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { personActor } from "../../src/auth/actor.ts";
import { createFirstAdmin, createUser } from "../../src/auth/users.ts";
import { openDatabase } from "../../src/infra/db.ts";
import { repos } from "../../src/repos/tables.ts";
import { SessionReads } from "../../src/sessions/session-reads.ts";
import { type SessionState, sessions } from "../../src/sessions/tables.ts";

// A real database with two people and two repos; sessions are written as rows, in every state.
const dir = mkdtempSync(join(tmpdir(), "pier-session-reads-"));
const db = openDatabase(join(dir, "pier.db"));
const ana = await createFirstAdmin(db, { username: "ana", password: "ana password 1" });
const bo = await createUser(db, personActor(ana), { username: "bo", password: "bo password 1", role: "member" });
for (const name of ["web", "api"]) {
  db.insert(repos).values({ id: name, name, url: `https://example.test/${name}.git`, defaultBranch: "main", createdAt: new Date() }).run();
}
const reads = new SessionReads(db);

function session(id: string, repoId: string, userId: string, state: SessionState): string {
  db.insert(sessions)
    .values({ id, repoId, userId, title: id, branch: `pier/${id}`, createdBranch: true, baseRef: "origin/main", worktreePath: `/w/${id}`, state, step: "", model: "m", engine: "pier", costUsd: 0, createdAt: new Date() })
    .run();
  return id;
}

afterAll(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a live session of the pod's own person and repo (SessionReads.isLiveFor)", () => {
  const anaWeb = { repoId: "web", userId: ana.id };
  const states: Array<[SessionState, boolean]> = [
    ["provisioning", true],
    ["active", true],
    ["ended", false],
    ["failed", false],
  ];

  test.each(states)("a session in state %s is live for its own pod: %p", (state, live) => {
    expect(reads.isLiveFor(anaWeb, session(`own-${state}`, "web", ana.id, state))).toBe(live);
  });

  test("an active session is none of another pod's business: another person's pod of the repo, the person's pod of another repo", () => {
    const id = session("ana-web-active", "web", ana.id, "active");
    expect(reads.isLiveFor(anaWeb, id)).toBe(true);
    expect(reads.isLiveFor({ repoId: "web", userId: bo.id }, id)).toBe(false);
    expect(reads.isLiveFor({ repoId: "api", userId: ana.id }, id)).toBe(false);
  });

  test("an id that is no session is not live for anyone", () => {
    expect(reads.isLiveFor(anaWeb, "no-such-session")).toBe(false);
    expect(reads.isLiveFor(anaWeb, "")).toBe(false);
  });
});

describe("the pods with live sessions", () => {
  test("livePods groups the active sessions by pod (repo and person); ended, failed and provisioning ones are left out", () => {
    const bo1 = session("bo-api-1", "api", bo.id, "active");
    const bo2 = session("bo-api-2", "api", bo.id, "active");
    session("bo-api-ended", "api", bo.id, "ended");
    const pods = reads.livePods().map(({ key, sessionIds }) => ({ key, sessionIds: [...sessionIds].sort() }));
    expect(pods).toContainEqual({ key: { repoId: "api", userId: bo.id }, sessionIds: [bo1, bo2].sort() });
    expect(pods).toContainEqual({ key: { repoId: "web", userId: ana.id }, sessionIds: ["ana-web-active", "own-active"] });
    expect(pods).toHaveLength(2);
  });

  test("hasLiveSession asks of a repo, of one person's pod of it, and can leave one session out", () => {
    expect(reads.hasLiveSession("api", bo.id)).toBe(true);
    expect(reads.hasLiveSession("api", ana.id)).toBe(false);
    expect(reads.hasLiveSession("api")).toBe(true);
    db.insert(repos).values({ id: "docs", name: "docs", url: "https://example.test/docs.git", defaultBranch: "main", createdAt: new Date() }).run();
    const only = session("ana-docs", "docs", ana.id, "provisioning");
    expect(reads.hasLiveSession("docs", ana.id)).toBe(true);
    expect(reads.hasLiveSession("docs", ana.id, only)).toBe(false);
  });
});
