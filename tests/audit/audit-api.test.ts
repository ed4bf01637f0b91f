/**
 * GET /api/audit and the Audit page on a real Pier: admins only (a member 403 on both, a stranger
 * 401), newest first, keyset pages joined by a Link header as the session history's (an entry
 * written while paging shifts nothing), filters by actor, action and dates, CSV of a page or of
 * every entry (in batches past 500, each once), bad input a 400 naming the field with a sentence,
 * the retention job dropping only what is older than auditRetentionDays, and the address kept
 * being the client's behind a trusted proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "../../src/infra/ids.ts";
import { auditEntries } from "../../src/audit/tables.ts";
import { DROP_OLD_AUDIT_ENTRIES } from "../../src/jobs/audit-jobs.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";

type Entry = {
  id: string;
  at: string;
  actor: { kind: string; id: string | null; name: string | null };
  action: string;
  target: { kind: string; id: string | null; name: string | null } | null;
  detail: string | null;
  address: string | null;
};

const DAY = 86_400_000;

describe("GET /api/audit and the Audit page", () => {
  let pier: TestPier;
  let admin: string;
  let member: string;
  let memberId: string;

  const get = (path: string, cookie = admin) => pier.fetch(path, { headers: { cookie } });
  const entries = async (path: string) => {
    const res = await get(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as Entry[];
  };
  /** Every page from `path` on, following the Link headers; the pages' entries in order. */
  const follow = async (path: string) => {
    const pages: Entry[][] = [];
    let next: string | null = path;
    while (next) {
      const res: Response = await get(next);
      expect(res.status).toBe(200);
      pages.push((await res.json()) as Entry[]);
      next = res.headers.get("link")?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null;
    }
    return pages;
  };
  const makeToken = async (name: string, cookie = admin) => expect((await pier.fetch("/api/tokens", json({ name }, { cookie }))).status).toBe(201);
  /** An entry written at a time of the test's choosing, as the log would have written it then. */
  const seed = (at: Date, detail: string) =>
    pier.pier.db.insert(auditEntries).values({ id: newId(), at, actorKind: "system", actorId: null, actorName: "Pier", action: "backup_taken", targetKind: null, targetId: null, targetName: null, detail, address: null }).run();
  const badRequest = async (path: string) => {
    const res = await get(path);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status, path).toBe(400);
    expect(body.error.message, path).toMatch(/^[A-Z].*\.$/);
    return body.error;
  };

  beforeAll(async () => {
    // Behind a proxy on this machine: what it says the client's address is goes in the entries.
    pier = await startTestPier({ PIER_TRUSTED_PROXIES: "127.0.0.1/32" });
    admin = await setUpAdmin(pier);
    expect((await pier.fetch("/api/users", json({ username: "mo", password: "mo's password 123", role: "member" }, { cookie: admin }))).status).toBe(201);
    member = await signIn(pier, "mo", "mo's password 123");
    memberId = ((await (await get("/api/auth/me", member)).json()) as { user: { id: string } }).user.id;
    for (let i = 1; i <= 5; i++) await makeToken(`admin token ${i}`);
    for (let i = 1; i <= 2; i++) await makeToken(`mo token ${i}`, member);
  }, 60_000);

  afterAll(() => closeForGood(pier));

  test("a member gets 403 on the API (JSON and CSV) and on the page, and has no Audit link; a stranger 401; an admin has the link", async () => {
    for (const path of ["/api/audit", "/api/audit?format=csv", "/api/audit?format=csv&limit=5"]) {
      const res = await get(path, member);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toEqual({ code: "forbidden", message: "Only an admin can read the audit log." });
    }
    expect((await pier.fetch("/api/audit")).status).toBe(401);
    const page = await get("/audit", member);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain("Only an admin can open this page.");
    expect(await (await get("/", member)).text()).not.toContain('href="/audit"');
    expect(await (await get("/", admin)).text()).toContain('href="/audit"');
  });

  test("entries come newest first in the contract's shape", async () => {
    const all = await entries("/api/audit");
    expect(all.map((entry) => entry.action)).toEqual(["token_created", "token_created", "token_created", "token_created", "token_created", "token_created", "token_created", "sign_in", "user_created", "sign_in", "user_created"]);
    expect(all[0]).toEqual({
      id: expect.any(String),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      actor: { kind: "person", id: memberId, name: "mo" },
      action: "token_created",
      target: { kind: "token", id: expect.any(String), name: "mo token 2" },
      detail: null,
      address: "127.0.0.1",
    });
    const times = all.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test("entries written within one millisecond read in the order they were written", async () => {
    // As fast as Pier can write them: dozens fall in each millisecond.
    for (let i = 0; i < 200; i++) pier.pier.audit.record({ kind: "system", id: null, name: "Pier" }, "trigger_refused", null, { detail: `burst ${i}` });
    const burst = (await follow("/api/audit?action=trigger_refused&limit=7")).flat();
    expect(new Set(burst.map((entry) => entry.at)).size).toBeLessThan(200);
    expect(burst.map((entry) => entry.detail)).toEqual(Array.from({ length: 200 }, (_, i) => `burst ${199 - i}`));
  });

  test("pages follow each other by Link to the end, each entry once, and an entry written while paging shifts none", async () => {
    const whole = await entries("/api/audit?limit=200&action=token_created");
    const first = await get("/api/audit?limit=3&action=token_created");
    const link = first.headers.get("link")!;
    expect(link).toMatch(/^<\/api\/audit\?limit=3&action=token_created&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
    const firstPage = (await first.json()) as Entry[];
    // Written after the first page was read: newer than everything, so on no later page.
    await makeToken("made while paging");
    const rest = await follow(link.match(/^<([^>]+)>/)![1]!);
    const paged = [firstPage, ...rest];
    expect(paged.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(paged.flat().map((entry) => entry.id)).toEqual(whole.map((entry) => entry.id));
    // The last page says nothing follows.
    expect((await get("/api/audit?limit=200&action=token_created")).headers.get("link")).toBeNull();
  });

  test("filters: one actor by id, a kind of actor, an action, a date range; each combines with paging", async () => {
    const mine = await entries(`/api/audit?actor=${memberId}`);
    expect(mine.map((entry) => [entry.action, entry.target && entry.target.name])).toEqual([
      ["token_created", "mo token 2"],
      ["token_created", "mo token 1"],
      ["sign_in", null],
    ]);
    expect(new Set((await entries("/api/audit?actor=person")).map((entry) => entry.actor.kind))).toEqual(new Set(["person"]));
    expect(await entries("/api/audit?actor=trigger")).toEqual([]);
    expect((await entries("/api/audit?action=user_created")).map((entry) => entry.target?.name)).toEqual(["mo", "admin"]);

    seed(new Date("2025-01-10T12:00:00Z"), "january 10");
    seed(new Date("2025-01-20T12:00:00Z"), "january 20");
    seed(new Date("2025-01-31T23:59:59Z"), "january 31");
    seed(new Date("2025-02-01T00:00:00Z"), "february 1");
    const january = (path: string) => entries(path).then((found) => found.map((entry) => entry.detail));
    expect(await january("/api/audit?from=2025-01-15&to=2025-01-31")).toEqual(["january 31", "january 20"]);
    expect(await january("/api/audit?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&actor=system&action=backup_taken")).toEqual(["january 31", "january 20", "january 10"]);
    expect((await follow("/api/audit?to=2025-02-01&limit=1")).map((page) => page.map((entry) => entry.detail))).toEqual([["february 1"], ["january 31"], ["january 20"], ["january 10"]]);
  });

  test("CSV: a page as the JSON's (with its Link), or without limit every entry, in order, each once, batch after batch past 500", async () => {
    for (let i = 0; i < 1200; i++) seed(new Date(Date.UTC(2024, 0, 1) + i * 60_000), `seeded ${i}`);
    const whole = (await follow("/api/audit?limit=200")).flat();
    const csv = await get("/api/audit?format=csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="pier-audit.csv"');
    const lines = (await csv.text()).split("\r\n");
    expect(lines[0]).toBe("id,at,actorKind,actorId,actorName,action,targetKind,targetId,targetName,detail,address");
    expect(lines.at(-1)).toBe("");
    const rows = lines.slice(1, -1);
    expect(rows.length).toBe(whole.length);
    expect(rows.map((row) => row.split(",")[0])).toEqual(whole.map((entry) => entry.id));
    expect(rows[0]).toBe(`${whole[0]!.id},${whole[0]!.at},person,${whole[0]!.actor.id},admin,token_created,token,${whole[0]!.target!.id},made while paging,,127.0.0.1`);

    const page = await get("/api/audit?format=csv&limit=2&action=backup_taken&from=2025-01-01");
    expect(page.headers.get("link")).toMatch(/^<\/api\/audit\?format=csv&limit=2&action=backup_taken&from=2025-01-01&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
    expect(page.headers.get("content-disposition")).toBe('attachment; filename="pier-audit-from-2025-01-01.csv"');
    expect((await page.text()).split("\r\n").slice(1, -1).map((row) => row.split(",").at(-2))).toEqual(["february 1", "january 31"]);

    // A name a spreadsheet would run as a formula stays text.
    await makeToken("=HYPERLINK(\"http://x\")");
    const formula = (await (await get("/api/audit?format=csv&limit=1")).text()).split("\r\n")[1]!;
    expect(formula).toContain(`"'=HYPERLINK(""http://x"")"`);
  });

  test("bad input is a 400 naming the field in a sentence, for JSON, CSV and the page alike", async () => {
    expect(await badRequest("/api/audit?from=2026-02-31")).toMatchObject({ code: "invalid_from" });
    expect(await badRequest("/api/audit?to=yesterday")).toMatchObject({ code: "invalid_to" });
    expect(await badRequest("/api/audit?from=2026-03-02&to=2026-03-01")).toMatchObject({ code: "invalid_to" });
    for (const limit of ["0", "201", "abc", "-1", "1.5"]) expect(await badRequest(`/api/audit?limit=${limit}`)).toMatchObject({ code: "invalid_limit" });
    expect(await badRequest("/api/audit?cursor=not-a-cursor")).toMatchObject({ code: "invalid_cursor", message: "The cursor is not one this server gave; start from the first page." });
    expect(await badRequest("/api/audit?action=sudo")).toMatchObject({ code: "invalid_action" });
    expect(await badRequest("/api/audit?actor=not%20an%20id!")).toMatchObject({ code: "invalid_actor" });
    expect(await badRequest("/api/audit?format=xml")).toMatchObject({ code: "invalid_format" });
    expect(await badRequest("/api/audit?limit=5&limit=6")).toMatchObject({ code: "invalid_limit", message: "Give limit once." });
    // The export is checked before its first byte, however long it would be.
    expect(await badRequest("/api/audit?format=csv&cursor=not-a-cursor")).toMatchObject({ code: "invalid_cursor" });
    expect(await badRequest("/api/audit?format=csv&from=2026-13-01")).toMatchObject({ code: "invalid_from" });

    const page = await get("/audit?from=2026-02-31");
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("From must be a date such as 2026-11-22");
  });

  test("the page lists the newest 50 entries, filters in the URL, links the next page and the CSV of what the filters take", async () => {
    const page = await get("/audit");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html.match(/data-audit-entry=/g)).toHaveLength(50);
    expect(html).toContain("=HYPERLINK(&quot;http://x&quot;)");
    expect(html).toMatch(/href="\/audit\?cursor=[A-Za-z0-9_-]+" rel="next"/);
    expect(html).toContain('href="/api/audit?format=csv"');
    const filtered = await (await get(`/audit?actor=${memberId}&action=token_created`)).text();
    expect(filtered.match(/data-audit-entry=/g)).toHaveLength(2);
    expect(filtered).toContain(`href="/api/audit?actor=${memberId}&action=token_created&format=csv"`);
    expect(filtered).not.toContain('rel="next"');
  });

  test("the retention job drops entries older than auditRetentionDays (365 by default, a setting) and nothing newer", async () => {
    expect(((await (await get("/api/settings")).json()) as { auditRetentionDays: number }).auditRetentionDays).toBe(365);
    const now = Date.now();
    seed(new Date(now - 400 * DAY), "400 days old");
    seed(new Date(now - 300 * DAY), "300 days old");
    seed(new Date(now - DAY), "a day old");
    const details = async () => (await follow("/api/audit?limit=200&actor=system&action=backup_taken")).flat().map((entry) => entry.detail);
    const before = await details();
    expect(before).toContain("400 days old");

    await pier.pier.jobs.runNow(DROP_OLD_AUDIT_ENTRIES);
    const kept = await details();
    // The seeded 2024 and 2025 entries are older than a year too.
    expect(kept).toEqual(["a day old", "300 days old"]);
    expect((await entries("/api/audit?actor=person")).length).toBeGreaterThan(0);

    expect((await pier.fetch("/api/settings", { ...json({ auditRetentionDays: 0 }, { cookie: admin }), method: "PUT" })).status).toBe(400);
    expect((await pier.fetch("/api/settings", { ...json({ auditRetentionDays: 200 }, { cookie: admin }), method: "PUT" })).status).toBe(200);
    await pier.pier.jobs.runNow(DROP_OLD_AUDIT_ENTRIES);
    expect(await details()).toEqual(["a day old"]);
    expect((await entries("/api/audit?action=setting_changed"))[0]).toMatchObject({ target: { kind: "setting", id: "auditRetentionDays" }, detail: "changed" });
  });

  test("the address kept is the client's as the sign-in limits count it: behind a trusted proxy, the one it forwarded for", async () => {
    const res = await pier.fetch("/api/tokens", json({ name: "from afar" }, { cookie: admin, "x-forwarded-for": "198.51.100.7, 203.0.113.9" }));
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const [entry] = await entries("/api/audit?action=token_created&limit=1");
    expect(entry).toMatchObject({ target: { id }, address: "203.0.113.9" });
  });
});
