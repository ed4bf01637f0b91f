/**
 * The history's query, GET /api/sessions: filters (state, repo, person, task, date range, free
 * text) and keyset pages joined by the Link header. The sessions are written straight into the
 * database (ended ones, as history holds by the thousand); the query under test is the real one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";
import { sessions } from "../../src/sessions/tables.ts";

let pier: TestPier;
let admin: string;
let member: string;
let adminId: string;
let memberId: string;
let repoA: string;
let repoB: string;
/** Every seeded session's id, newest first, as the admin should see them. */
const all: Array<{ id: string; userId: string; repoId: string; createdAt: number; title: string; branch: string; state: string; taskId: string | null }> = [];

const DAY = 86_400_000;
const START = Date.parse("2026-10-01T00:00:00Z");

async function get(path: string, cookie: string) {
  const res = await pier.fetch(path, { headers: { cookie } });
  const body = (await res.json()) as any;
  return { status: res.status, body, link: res.headers.get("link") };
}

/** Follows the Link header from `path` to the end; returns the ids in order and how many pages it took. */
async function walk(path: string, cookie: string) {
  const ids: string[] = [];
  let pages = 0;
  let next: string | null = path;
  while (next) {
    const page = await get(next, cookie);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    ids.push(...page.body.map((s: { id: string }) => s.id));
    pages += 1;
    next = page.link ? page.link.match(/^<([^>]+)>; rel="next"$/)![1]! : null;
    expect(pages).toBeLessThan(1000);
  }
  return { ids, pages };
}

beforeAll(async () => {
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1" });
  admin = await setUpAdmin(pier);
  const created = await pier.fetch("/api/users", json({ username: "mia", password: "mia password", role: "member" }, { cookie: admin }));
  memberId = ((await created.json()) as { user: { id: string } }).user.id;
  member = await signIn(pier, "mia", "mia password");
  adminId = ((await (await pier.fetch("/api/auth/me", { headers: { cookie: admin } })).json()) as { user: { id: string } }).user.id;
  repoA = await addRepo(pier, admin, `file://${makeRemoteRepo("alpha").path}`, "alpha");
  repoB = await addRepo(pier, admin, `file://${makeRemoteRepo("beta").path}`, "beta");
  const task = await pier.fetch("/api/tasks", json({ title: "Fix the flaky login" }, { cookie: admin }));
  const taskId = ((await task.json()) as { id: string }).id;

  // 230 sessions over 46 days, five a day; every fifth pair shares a moment, so the id breaks ties.
  const rows = [];
  for (let i = 0; i < 230; i++) {
    const createdAt = START + Math.floor(i / 5) * DAY + (i % 5 === 4 ? 3 : i % 5) * 3_600_000;
    const row = {
      id: `s${String(i).padStart(4, "0")}x${(i * 7919) % 1000}`,
      repoId: i % 3 === 0 ? repoB : repoA,
      userId: i % 4 === 0 ? memberId : adminId,
      taskId: i % 10 === 0 ? taskId : null,
      title: i === 17 ? "Refactor 100% of the parser" : `Session ${i}`,
      branch: i === 42 ? "pier/admin/Login-Fix" : `pier/u/${i}`,
      createdBranch: true,
      baseRef: "origin/main",
      worktreePath: `/nowhere/${i}`,
      state: (i % 7 === 0 ? "failed" : "ended") as "failed" | "ended",
      createdAt: new Date(createdAt),
      endedAt: new Date(createdAt + 600_000),
    };
    rows.push(row);
    all.push({ id: row.id, userId: row.userId, repoId: row.repoId, createdAt, title: row.title, branch: row.branch, state: row.state, taskId: row.taskId });
  }
  pier.pier.db.insert(sessions).values(rows).run();
  all.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
}, 60_000);

afterAll(async () => {
  if (pier) await closeForGood(pier);
}, 60_000);

describe("pages", () => {
  test("the default page is 50, newest first, with a Link to the next", async () => {
    expect(adminId).not.toBe("");
    const page = await get("/api/sessions", admin);
    expect(page.status).toBe(200);
    expect(page.body.map((s: { id: string }) => s.id)).toEqual(all.slice(0, 50).map((s) => s.id));
    expect(page.link).toMatch(/^<\/api\/sessions\?cursor=[A-Za-z0-9_-]+>; rel="next"$/);
  });

  test("following the Links gives every session exactly once, in order, whatever the page size", async () => {
    for (const limit of [1, 7, 50, 200]) {
      const { ids, pages } = await walk(`/api/sessions?limit=${limit}`, admin);
      expect(ids).toEqual(all.map((s) => s.id));
      expect(pages).toBe(Math.ceil(all.length / limit));
    }
  });

  test("a session started while someone pages neither repeats nor shifts the later pages", async () => {
    const first = await get("/api/sessions?limit=20", admin);
    const seen = first.body.map((s: { id: string }) => s.id);
    const newest = { ...all[0]!, id: "newcomer", createdAt: START + 400 * DAY };
    pier.pier.db
      .insert(sessions)
      .values({ id: newest.id, repoId: repoA, userId: adminId, title: "Late", branch: "pier/u/late", createdBranch: true, baseRef: "origin/main", worktreePath: "/nowhere/late", state: "ended", createdAt: new Date(newest.createdAt), endedAt: null })
      .run();
    try {
      const rest = await walk(first.link!.match(/^<([^>]+)>/)![1]!, admin);
      expect([...seen, ...rest.ids]).toEqual(all.map((s) => s.id));
    } finally {
      pier.pier.db.$client.exec("DELETE FROM sessions WHERE id = 'newcomer'");
    }
  });

  test("filters carry over into the Link, and the last page has none", async () => {
    const mine = all.filter((s) => s.repoId === repoB && s.state === "ended");
    const { ids } = await walk(`/api/sessions?repoId=${repoB}&state=ended&limit=9`, admin);
    expect(ids).toEqual(mine.map((s) => s.id));
    const last = await get(`/api/sessions?repoId=${repoB}&state=ended&limit=${mine.length}`, admin);
    expect(last.link).toBeNull();
  });
});

describe("filters", () => {
  const ids = async (query: string, cookie = admin) => (await walk(`/api/sessions?limit=200&${query}`, cookie)).ids;

  test("a member sees only their own, whichever person they ask for; an admin may narrow to one person", async () => {
    const hers = all.filter((s) => s.userId === memberId).map((s) => s.id);
    expect(await ids("", member)).toEqual(hers);
    expect(await ids(`userId=${adminId}`, member)).toEqual([]);
    expect(await ids(`userId=${memberId}`, admin)).toEqual(hers);
    expect(await ids(`userId=${adminId}`, admin)).toEqual(all.filter((s) => s.userId === adminId).map((s) => s.id));
  });

  test("task and state", async () => {
    const linked = all.filter((s) => s.taskId !== null);
    expect(await ids(`taskId=${linked[0]!.taskId}`)).toEqual(linked.map((s) => s.id));
    expect(await ids("state=failed")).toEqual(all.filter((s) => s.state === "failed").map((s) => s.id));
    expect(await ids("state=active")).toEqual([]);
  });

  test("a date range: from is inclusive, a date alone as `to` takes in that whole day", async () => {
    const from = START + 10 * DAY;
    const to = START + 12 * DAY; // the end of 2026-10-12
    const expected = all.filter((s) => s.createdAt >= from && s.createdAt < to + DAY).map((s) => s.id);
    expect(expected).toHaveLength(15);
    expect(await ids("from=2026-10-11&to=2026-10-13")).toEqual(expected);
    const instant = all.find((s) => s.createdAt === START + 11 * DAY + 2 * 3_600_000)!;
    expect(await ids("from=2026-10-12T02:00:00Z&to=2026-10-12T02:00:00.001Z")).toEqual([instant.id]);
    expect(await ids("from=2026-10-12T04:00:00%2B02:00&to=2026-10-12T02:00:00.001Z")).toEqual([instant.id]);
  });

  test("free text matches the title or branch, ignoring case, and % or _ mean themselves", async () => {
    expect(await ids("q=login-fix")).toEqual([all.find((s) => s.branch === "pier/admin/Login-Fix")!.id]);
    expect(await ids("q=100%25")).toEqual([all.find((s) => s.title.startsWith("Refactor"))!.id]);
    expect(await ids("q=%25")).toEqual([all.find((s) => s.title.startsWith("Refactor"))!.id]);
    expect(await ids("q=_")).toEqual([]);
    expect(await ids("q=session 12")).toEqual(all.filter((s) => /^Session 12\d*$/.test(s.title)).map((s) => s.id));
    expect(await ids("q=%20%20")).toEqual(all.map((s) => s.id));
  });
});

describe("bad queries are a 400 naming the field", () => {
  const cases: Array<[string, string]> = [
    ["limit=0", "limit"],
    ["limit=201", "limit"],
    ["limit=ten", "limit"],
    ["limit=-1", "limit"],
    ["from=yesterday", "from"],
    ["to=2026-13-40T99:00:00Z", "to"],
    ["from=2026-10-12&to=2026-10-11", "to"],
    ["cursor=not-a-cursor", "cursor"],
    [`cursor=${Buffer.from("12:../../etc").toString("base64url")}`, "cursor"],
    ["state=sleeping", "state"],
    ["limit=1&limit=2", "limit"],
    [`q=${"x".repeat(201)}`, "q"],
  ];
  for (const [query, field] of cases) {
    test(query.length > 60 ? `${query.slice(0, 40)}…` : query, async () => {
      const res = await get(`/api/sessions?${query}`, admin);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: `invalid_${field}`, field });
      expect(res.body.error.message.length).toBeGreaterThan(10);
    });
  }
});

describe("the history page", () => {
  const page = async (query: string, cookie = admin) => {
    const res = await pier.fetch(`/sessions${query}`, { headers: { cookie } });
    return { status: res.status, html: await res.text() };
  };
  const rowIds = (html: string) => [...html.matchAll(/data-session-row="([^"]+)"/g)].map((m) => m[1]!);

  test("pages of 50, newest first, each linking to the next with the filters kept", async () => {
    const seen: string[] = [];
    let next: string | null = "?state=ended";
    while (next) {
      const { status, html } = await page(next);
      expect(status).toBe(200);
      seen.push(...rowIds(html));
      const link = html.match(/<a href="\/sessions(\?[^"]+)" rel="next">/);
      next = link ? link[1]!.replaceAll("&amp;", "&") : null;
      if (next) expect(next).toContain("state=ended");
    }
    expect(seen).toEqual(all.filter((s) => s.state === "ended").map((s) => s.id));
  });

  test("the form's filters, empty fields meaning any; a member sees only their own and no person filter", async () => {
    expect(rowIds((await page("?q=LOGIN-fix&repoId=&userId=&taskId=&state=&from=&to=")).html)).toEqual([all.find((s) => s.branch === "pier/admin/Login-Fix")!.id]);
    const hers = await page("", member);
    expect(rowIds(hers.html)).toEqual(all.filter((s) => s.userId === memberId).slice(0, 50).map((s) => s.id));
    expect(hers.html).not.toContain('name="userId"');
    expect((await page("")).html).toContain('name="userId"');
  });

  test("a bad date is said beside its field with a 400, and shows no sessions", async () => {
    const { status, html } = await page("?from=yesterday");
    expect(status).toBe(400);
    expect(html).toContain("From must be a date");
    expect(rowIds(html)).toEqual([]);
  });
});
