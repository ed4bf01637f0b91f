/**
 * GET /api/costs: sums per group equal the ledger as recorded, the CSV form parses (RFC 4180) and
 * says the same as the JSON, a member sees only their own spending, date ranges follow the session
 * history's rules, and bad query fields are a 400 naming them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type TestPier, closeForGood, startTestPier } from "../support/pier.ts";
import { MODELS, type Seeded, parseCsv, seedCosts, sumsBy } from "./seed.ts";

type Row = { key: string | null; costUsd: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
const FIELDS = ["key", "costUsd", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"] as const;
const dayOf = (at: Date) => at.toISOString().slice(0, 10);

describe("GET /api/costs", () => {
  let pier: TestPier;
  let seeded: Seeded;
  const get = (query: string, cookie = seeded.admin.cookie) => pier.fetch(`/api/costs${query}`, { headers: { cookie } });
  const report = async (query: string, cookie?: string) => {
    const res = await get(query, cookie);
    expect(res.status).toBe(200);
    return (await res.json()) as Row[];
  };
  /** The report equals the ledger's own sums: the same keys, costs to a millionth of a cent, tokens exactly. */
  const expectSums = (got: Row[], rows: Seeded["rows"], keyOf: (row: Seeded["rows"][number]) => string | null) => {
    const want = sumsBy(rows, keyOf);
    expect(got.map((row) => row.key).sort()).toEqual([...want.keys()].sort());
    for (const row of got) {
      const sum = want.get(row.key)!;
      expect(row.costUsd).toBeCloseTo(sum.costUsd, 8);
      expect({ ...row, costUsd: 0 }).toEqual({ key: row.key, ...sum, costUsd: 0 });
    }
  };

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    seeded = await seedCosts(pier);
  }, 60_000);
  afterAll(() => closeForGood(pier));

  test("an admin's sums per day, model, repo, user, session and task equal the ledger", async () => {
    const { rows } = seeded;
    expect(rows.length).toBeGreaterThan(30);
    expectSums(await report("?groupBy=day"), rows, (row) => dayOf(row.at));
    expectSums(await report(""), rows, (row) => dayOf(row.at));
    expectSums(await report("?groupBy=model"), rows, (row) => row.model);
    expect((await report("?groupBy=model")).map((row) => row.key)).toEqual([...MODELS].sort());
    expectSums(await report("?groupBy=repo"), rows, (row) => row.repoId);
    expectSums(await report("?groupBy=user"), rows, (row) => row.userId);
    expectSums(await report("?groupBy=session"), rows, (row) => row.sessionId);
    expectSums(await report("?groupBy=task"), rows, (row) => row.taskId);
  });

  test("a verification report's spending counts toward its task, with no session", async () => {
    const bySession = await report("?groupBy=session");
    const reportRows = seeded.rows.filter((row) => row.sessionId === null);
    expect(reportRows.length).toBe(2);
    expect(bySession.find((row) => row.key === null)!.costUsd).toBeCloseTo(reportRows.reduce((sum, row) => sum + row.costUsd, 0), 8);
    const billing = (await report("?groupBy=task")).find((row) => row.key === seeded.tasks.billing)!;
    const billingRows = seeded.rows.filter((row) => row.taskId === seeded.tasks.billing);
    expect(billingRows.some((row) => row.sessionId === null)).toBe(true);
    expect(billing.costUsd).toBeCloseTo(billingRows.reduce((sum, row) => sum + row.costUsd, 0), 8);
  });

  test("each session's costUsd equals its ledger rows", async () => {
    for (const session of seeded.sessions) {
      const res = await get(`?groupBy=session`);
      const row = ((await res.json()) as Row[]).find((r) => r.key === session.id)!;
      const own = await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie: seeded.admin.cookie } });
      expect(((await own.json()) as { costUsd: number }).costUsd).toBeCloseTo(row.costUsd, 8);
    }
  });

  test("a member sees only their own spending, whatever the grouping", async () => {
    const mine = seeded.rows.filter((row) => row.userId === seeded.mia.id);
    expect(mine.length).toBeGreaterThan(0);
    expectSums(await report("?groupBy=user", seeded.mia.cookie), mine, (row) => row.userId);
    expectSums(await report("?groupBy=session", seeded.mia.cookie), mine, (row) => row.sessionId);
    expectSums(await report("?groupBy=task", seeded.mia.cookie), mine, (row) => row.taskId);
    expectSums(await report("?groupBy=day", seeded.mia.cookie), mine, (row) => dayOf(row.at));
    const csv = parseCsv(await (await get("?groupBy=user&format=csv", seeded.mia.cookie)).text());
    expect(csv.slice(1).map((record) => record[0])).toEqual([seeded.mia.id]);
    expect((await pier.fetch("/api/costs")).status).toBe(401);
  });

  test("from and to follow the session history's rules: a date alone as to takes in the whole day", async () => {
    const inJanuary = seeded.rows.filter((row) => row.at < new Date("2026-02-01T00:00:00Z") && row.at >= new Date("2026-01-01T00:00:00Z"));
    // The last millisecond of 31 January is in; midnight of 1 February is not.
    expect(inJanuary.some((row) => row.at.getTime() === Date.parse("2026-01-31T23:59:59.999Z"))).toBe(true);
    expectSums(await report("?groupBy=model&from=2026-01-01&to=2026-01-31"), inJanuary, (row) => row.model);
    const february = seeded.rows.filter((row) => row.at >= new Date("2026-02-01T00:00:00Z") && row.at < new Date("2026-03-01T00:00:00Z"));
    expectSums(await report("?groupBy=day&from=2026-02-01&to=2026-02-28"), february, (row) => dayOf(row.at));
    // Date-times are exact instants, with their offset.
    const fromNoon = seeded.rows.filter((row) => row.at >= new Date("2026-01-30T11:00:00Z") && row.at < new Date("2026-02-01T00:00:00Z"));
    expectSums(await report("?groupBy=session&from=2026-01-30T12:00:00%2B01:00&to=2026-02-01T00:00:00Z"), fromNoon, (row) => row.sessionId);
    expect(await report("?from=2030-01-01")).toEqual([]);
  });

  test("the CSV form parses as RFC 4180 and says what the JSON says", async () => {
    for (const groupBy of ["day", "model", "repo", "user", "session", "task"]) {
      for (const cookie of [seeded.admin.cookie, seeded.max.cookie]) {
        const query = `?groupBy=${groupBy}&from=2026-01-01&to=2026-12-31`;
        const res = await get(`${query}&format=csv`, cookie);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
        expect(res.headers.get("content-disposition")).toBe(`attachment; filename="pier-costs-by-${groupBy}-from-2026-01-01-to-2026-12-31.csv"`);
        expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
        const [header, ...records] = parseCsv(await res.text());
        expect(header).toEqual([...FIELDS]);
        const json = await report(query, cookie);
        expect(records.length).toBe(json.length);
        expect(json.length).toBeGreaterThan(0);
        records.forEach((record, i) => {
          const row = json[i]!;
          expect(record[0]).toBe(row.key ?? "");
          expect(record.slice(1).map(Number)).toEqual(FIELDS.slice(1).map((field) => row[field] as number));
        });
      }
    }
    const plain = await get("?format=csv");
    expect(plain.headers.get("content-disposition")).toBe('attachment; filename="pier-costs-by-day.csv"');
    expect((await get("?format=json")).headers.get("content-type")).toContain("application/json");
  });

  test("bad query fields are a 400 naming the field, with the same date rules as the history", async () => {
    const cases: Array<[string, string]> = [
      ["?format=xml", "format"],
      ["?format=CSV", "format"],
      ["?format=", "format"],
      ["?groupBy=week", "groupBy"],
      ["?groupBy=constructor", "groupBy"],
      ["?from=yesterday", "from"],
      ["?from=2026-02-31", "from"],
      ["?to=2026-13-01", "to"],
      ["?to=1700000000000", "to"],
      ["?from=2026-02-01&to=2026-01-31", "to"],
      ["?from=2026-02-01T00:00:00", "from"],
      ["?groupBy=day&groupBy=model", "groupBy"],
      ["?format=csv&format=json", "format"],
    ];
    for (const [query, field] of cases) {
      for (const path of ["/api/costs", "/api/sessions"]) {
        if (path === "/api/sessions" && (field === "format" || field === "groupBy")) continue;
        const res = await pier.fetch(`${path}${query}`, { headers: { cookie: seeded.admin.cookie } });
        const body = (await res.json()) as { error: { code: string; message: string; field?: string } };
        expect(`${path}${query} → ${res.status} ${body.error?.field}`).toBe(`${path}${query} → 400 ${field}`);
        if (field === "groupBy" || field === "format") expect(body.error.message).toContain(field);
      }
    }
  });
});
