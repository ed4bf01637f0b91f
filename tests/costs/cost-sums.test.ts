/**
 * Every cost report equals a plain sum of the ledger, computed here row by row: GET /api/costs
 * per grouping (JSON and CSV), each table's CSV export with names, and the Costs page's overview
 * (the total, each day per model, each table's largest rows with names and how many there are),
 * for an admin (everyone's), each member and an agent (their own person's only), over periods
 * that start or end on a UTC day's first or last millisecond, at date-times inside a day, within
 * one day, open at either end, or empty. Part of the ledger is written straight into its table
 * before a restart, as an older Pier left it; more is recorded through recordUsage after the
 * restart, onto days and keys that already had spending.
 */
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Actor } from "../../src/auth/actor.ts";
import { users } from "../../src/auth/tables.ts";
import { costOverview } from "../../src/costs/cost-overview.ts";
import { readCostPeriod } from "../../src/costs/cost-period.ts";
import { recordUsage } from "../../src/costs/costs.ts";
import { costLedger } from "../../src/costs/tables.ts";
import { readDateRange } from "../../src/infra/date-range.ts";
import { newId } from "../../src/infra/ids.ts";
import { repos } from "../../src/repos/tables.ts";
import { addSessionCost } from "../../src/sessions/session-cost.ts";
import { sessions } from "../../src/sessions/tables.ts";
import { tasks } from "../../src/tasks/tables.ts";
import { type TestPier, closeForGood, startTestPier } from "../support/pier.ts";
import { MODELS, type Seeded, parseCsv, seedCosts } from "./seed.ts";

type LedgerRow = typeof costLedger.$inferSelect;
type Sums = { costUsd: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
type Row = { key: string | null } & Sums;
const GROUPINGS = ["day", "model", "repo", "user", "session", "task"] as const;
type Grouping = (typeof GROUPINGS)[number];
const DAY = 86_400_000;

/** Each grouping's key of a ledger row; days are UTC. */
const KEY: Record<Grouping, (row: LedgerRow) => string | null> = {
  day: (row) => row.createdAt.toISOString().slice(0, 10),
  model: (row) => row.model,
  repo: (row) => row.repoId,
  user: (row) => row.userId,
  session: (row) => row.sessionId,
  task: (row) => row.taskId,
};

/** The periods asked for, as URLs give them. */
const PERIODS: Array<{ from?: string; to?: string }> = [
  {},
  { from: "2026-01-01", to: "2026-12-31" },
  { to: "2026-01-31" },
  { from: "2026-02-01" },
  { from: "2026-01-15", to: "2026-01-15" },
  { from: "2026-01-31T00:00:00Z", to: "2026-02-01" },
  { from: "2026-01-31T23:59:59.999Z", to: "2026-02-01T00:00:00.001Z" },
  { from: "2026-02-01T00:00:00Z", to: "2026-02-01T00:00:00.001Z" },
  { from: "2026-01-20T12:00:00+01:00", to: "2026-02-10T06:30:00Z" },
  { from: "2026-01-07T08:00:00Z", to: "2026-01-07T20:00:00Z" },
  { to: "2026-02-14T12:30:00Z" },
  { from: "2026-01-01", to: "2026-10-31" },
  { from: "2026-01-10T06:00:00Z" },
  { from: "2030-01-01" },
];

/** A period's bounds as API.md defines them: a date alone as `to` takes in that whole day (UTC). */
function bounds(period: { from?: string; to?: string }): { from: number; to: number } {
  const at = (text: string, wholeDay: boolean) => (/^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) + (wholeDay ? DAY : 0) : Date.parse(text));
  return { from: period.from ? at(period.from, false) : -Infinity, to: period.to ? at(period.to, true) : Infinity };
}

function sumRows(rows: LedgerRow[], keyOf: (row: LedgerRow) => string | null): Row[] {
  const groups = new Map<string | null, Row>();
  for (const row of rows) {
    const key = keyOf(row);
    const sum = groups.get(key) ?? { key, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    sum.costUsd += row.costUsd;
    sum.inputTokens += row.inputTokens;
    sum.outputTokens += row.outputTokens;
    sum.cacheReadTokens += row.cacheReadTokens;
    sum.cacheWriteTokens += row.cacheWriteTokens;
    groups.set(key, sum);
  }
  return [...groups.values()];
}

/** Keys as the report orders them: no key first, then by their characters (ids and days are ASCII). */
const byKey = (a: Row, b: Row) => (a.key === b.key ? 0 : a.key === null ? -1 : b.key === null ? 1 : a.key < b.key ? -1 : 1);

/** The same keys in the same order, tokens exactly, costs to a millionth of a millionth of a dollar. */
function expectSameRows(got: Row[], want: Row[], label: string) {
  expect(`${label}: ${JSON.stringify(got.map((row) => row.key))}`).toBe(`${label}: ${JSON.stringify(want.map((row) => row.key))}`);
  const tokens = (row: Row) => [label, row.key, row.inputTokens, row.outputTokens, row.cacheReadTokens, row.cacheWriteTokens];
  got.forEach((row, i) => {
    expect(tokens(row)).toEqual(tokens(want[i]!));
    expect(Math.abs(row.costUsd - want[i]!.costUsd)).toBeLessThan(1e-12);
  });
}

/** How a CSV cell shows a name: text a spreadsheet would run as a formula gets an apostrophe. */
const csvText = (text: string | null) => (text === null ? "" : /^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

describe("cost reports equal the ledger's own sums", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-cost-sums-"));
  let pier: TestPier;
  let seeded: Seeded;
  let ledger: LedgerRow[];
  let names: Record<Grouping, Map<string, string>>;
  let actors: Array<{ label: string; actor: Actor; cookie: string | null; sees: (row: LedgerRow) => boolean }>;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" }, dataDir);
    seeded = await seedCosts(pier);
    const removed = { session: newId(), task: newId(), repo: newId() };
    const people = [seeded.admin.id, seeded.mia.id, seeded.max.id];
    const sessionsOf = [...seeded.sessions, { id: removed.session, userId: seeded.mia.id, repoId: removed.repo, taskId: removed.task, title: "" }];
    // Written straight into the ledger, as a Pier from before any summing left it: many days in
    // January and February 2026, each side of midnight, with tokens that make every sum differ.
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n;
    const instants = [
      ...Array.from({ length: 90 }, (_, i) => Date.UTC(2026, 0, 1) + i * 13 * 3_600_000 + next(3_600_000)),
      Date.UTC(2026, 0, 31, 23, 59, 59, 999),
      Date.UTC(2026, 1, 1),
      Date.UTC(2026, 0, 7, 8),
      Date.UTC(2026, 0, 7, 20) - 1,
      Date.UTC(2026, 0, 15),
      Date.UTC(2026, 0, 16) - 1,
    ];
    const direct = instants.map((at, i) => {
      const session = sessionsOf[next(sessionsOf.length)]!;
      const report = i % 11 === 0; // a verification report: a task, no session, perhaps no repo
      const usage = { inputTokens: 100 + next(9000), outputTokens: 10 + next(3000), cacheReadTokens: next(40_000), cacheWriteTokens: next(4) === 0 ? 0 : next(5000) };
      return {
        sessionId: report ? null : session.id,
        taskId: report ? [seeded.tasks.billing, removed.task][i % 2]! : [session.taskId, seeded.tasks.login, null][next(3)]!,
        userId: report ? people[next(3)]! : session.userId,
        repoId: report && i % 2 === 0 ? null : session.repoId,
        model: MODELS[next(MODELS.length)]!,
        ...usage,
        costUsd: (usage.inputTokens * 3 + usage.outputTokens * 15 + usage.cacheReadTokens * 0.3 + usage.cacheWriteTokens * 3.75) / 1_000_000,
        createdAt: new Date(at),
      };
    });
    pier.pier.db.insert(costLedger).values(direct).run();
    await pier.close();

    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" }, dataDir);
    // Recorded after the restart through recordUsage, onto days that already have spending.
    for (const [i, at] of [Date.UTC(2026, 0, 31, 23, 59, 59, 999), Date.UTC(2026, 1, 1), Date.UTC(2026, 0, 15, 9), Date.UTC(2026, 0, 7, 12), Date.now()].entries()) {
      const session = seeded.sessions[i % seeded.sessions.length]!;
      setSystemTime(new Date(at));
      try {
        const usage = { inputTokens: 321 + i * 97, outputTokens: 45 + i * 31, cacheReadTokens: 7000 + i * 1013, cacheWriteTokens: i * 211 };
        recordUsage(pier.pier.db, { sessionId: session.id, taskId: session.taskId, userId: session.userId, repoId: session.repoId, model: MODELS[i % MODELS.length]!, usage }, addSessionCost);
      } finally {
        setSystemTime();
      }
    }

    const db = pier.pier.db;
    ledger = db.select().from(costLedger).all();
    expect(ledger.length).toBe(seeded.rows.length + direct.length + 5);
    const table = <T extends { id: string }>(rows: T[], name: (row: T) => string) => new Map(rows.map((row) => [row.id, name(row)]));
    names = {
      day: new Map(),
      model: new Map(MODELS.map((model) => [model, model])),
      repo: table(db.select().from(repos).all(), (row) => row.name),
      user: table(db.select().from(users).all(), (row) => row.username),
      session: table(db.select().from(sessions).all(), (row) => row.title),
      task: table(db.select().from(tasks).all(), (row) => row.title),
    };
    const user = (id: string) => db.select().from(users).where(eq(users.id, id)).get()!;
    actors = [
      { label: "admin", actor: { kind: "person", user: user(seeded.admin.id) }, cookie: seeded.admin.cookie, sees: () => true },
      { label: "mia", actor: { kind: "person", user: user(seeded.mia.id) }, cookie: seeded.mia.cookie, sees: (row) => row.userId === seeded.mia.id },
      { label: "max", actor: { kind: "person", user: user(seeded.max.id) }, cookie: seeded.max.cookie, sees: (row) => row.userId === seeded.max.id },
      // An agent acting for the admin sees only the admin's own spending.
      { label: "admin's agent", actor: { kind: "agent", user: user(seeded.admin.id), sessionId: seeded.sessions[3]!.id }, cookie: null, sees: (row) => row.userId === seeded.admin.id },
    ];
  }, 60_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const inPeriod = (period: { from?: string; to?: string }) => {
    const { from, to } = bounds(period);
    return (row: LedgerRow) => row.createdAt.getTime() >= from && row.createdAt.getTime() < to;
  };

  test("the seeded ledger has what the periods are about", () => {
    const at = (iso: string) => ledger.filter((row) => row.createdAt.getTime() === Date.parse(iso)).length;
    expect(at("2026-01-31T23:59:59.999Z")).toBeGreaterThanOrEqual(2);
    expect(at("2026-02-01T00:00:00Z")).toBeGreaterThanOrEqual(2);
    expect(ledger.some((row) => row.sessionId === null)).toBe(true);
    expect(ledger.some((row) => row.repoId === null)).toBe(true);
    expect(ledger.some((row) => row.sessionId !== null && !names.session.has(row.sessionId))).toBe(true);
    expect(new Set(ledger.map((row) => KEY.day(row))).size).toBeGreaterThan(40);
    for (const period of PERIODS.slice(0, -1)) expect(`${JSON.stringify(period)}: ${ledger.some(inPeriod(period))}`).toBe(`${JSON.stringify(period)}: true`);
  });

  test("GET /api/costs, as JSON and as CSV, per grouping, person and period", async () => {
    for (const { label, cookie, sees } of actors) {
      if (cookie === null) continue;
      for (const period of PERIODS) {
        const rows = ledger.filter((row) => sees(row) && inPeriod(period)(row));
        for (const groupBy of GROUPINGS) {
          const query = new URLSearchParams({ groupBy, ...period });
          const want = sumRows(rows, KEY[groupBy]).sort(byKey);
          const res = await pier.fetch(`/api/costs?${query}`, { headers: { cookie } });
          expect(res.status).toBe(200);
          expectSameRows((await res.json()) as Row[], want, `${label} ${query}`);
          const csv = await pier.fetch(`/api/costs?${query}&format=csv`, { headers: { cookie } });
          const [, ...records] = parseCsv(await csv.text());
          expectSameRows(
            records.map(([key, ...sums]) => {
              const [costUsd, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens] = sums.map(Number) as [number, number, number, number, number];
              return { key: key === "" ? null : key!, costUsd, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens };
            }),
            want,
            `${label} ${query} csv`,
          );
        }
      }
    }
  });

  test("each table's CSV export, with names, per grouping, person and period", async () => {
    for (const { label, cookie, sees } of actors) {
      if (cookie === null) continue;
      for (const period of [PERIODS[0]!, PERIODS[1]!, PERIODS[8]!]) {
        const rows = ledger.filter((row) => sees(row) && inPeriod(period)(row));
        for (const groupBy of GROUPINGS) {
          const query = new URLSearchParams({ groupBy, ...period });
          const want = sumRows(rows, KEY[groupBy]).sort(byKey);
          const res = await pier.fetch(`/costs/export.csv?${query}`, { headers: { cookie } });
          expect(res.status).toBe(200);
          const [, ...records] = parseCsv(await res.text());
          const name = (key: string | null) => (key === null ? null : groupBy === "day" ? key : (names[groupBy].get(key) ?? null));
          expect(records.map((record) => [record[0], record[1]])).toEqual(want.map((row) => [row.key ?? "", csvText(name(row.key))]));
          expectSameRows(
            records.map(([key, , ...sums]) => {
              const [costUsd, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens] = sums.map(Number) as [number, number, number, number, number];
              return { key: key === "" ? null : key!, costUsd, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens };
            }),
            want,
            `${label} ${query} export`,
          );
        }
      }
    }
  });

  test("the Costs page's overview: total, each day per model, and each table's largest rows with names and their count", () => {
    const periods = [
      ...PERIODS.map((period) => ({ label: JSON.stringify(period), range: readDateRange(period), sees: inPeriod(period) })),
      ...(["month", "7d", "30d"] as const).map((name) => {
        const { range } = readCostPeriod({ period: name });
        return { label: name, range, sees: (row: LedgerRow) => row.createdAt.getTime() >= range.from! && row.createdAt.getTime() < range.to! };
      }),
    ];
    for (const { label, actor, sees } of actors) {
      for (const period of periods) {
        const rows = ledger.filter((row) => sees(row) && period.sees(row));
        for (const limit of [50, 3]) {
          const what = `${label} ${period.label} limit ${limit}`;
          const got = costOverview(pier.pier.db, actor, period.range, limit);
          const [total] = sumRows(rows, () => null);
          expectSameRows([got.total], [total ?? { key: null, costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }], `${what} total`);
          const daily = sumRows(rows, (row) => `${KEY.day(row)} ${row.model}`).map((row) => ({ day: row.key!.split(" ")[0]!, model: row.key!.split(" ")[1]!, costUsd: row.costUsd }));
          daily.sort((a, b) => (a.day === b.day ? a.model.localeCompare(b.model) : a.day.localeCompare(b.day)));
          expect(got.daily.map((row) => `${row.day} ${row.model}`)).toEqual(daily.map((row) => `${row.day} ${row.model}`));
          got.daily.forEach((row, i) => expect(Math.abs(row.costUsd - daily[i]!.costUsd)).toBeLessThan(1e-12));
          const tables = { model: got.byModel, repo: got.byRepo, user: got.byUser, session: got.bySession, task: got.byTask };
          expect(tables.user === null).toBe(label !== "admin");
          for (const [groupBy, table] of Object.entries(tables) as Array<[Exclude<Grouping, "day">, (typeof tables)["model"] | null]>) {
            if (table === null) continue;
            const all = sumRows(rows, KEY[groupBy]).sort((a, b) => b.costUsd - a.costUsd);
            // Ties in cost would make the order a matter of taste; the seeded sums never tie.
            expect(new Set(all.map((row) => row.costUsd)).size).toBe(all.length);
            const shown = all.slice(0, limit);
            expect(table.count).toBe(all.length);
            expectSameRows(table.rows, shown, `${what} ${groupBy}`);
            expect(table.rows.map((row) => row.name)).toEqual(shown.map((row) => (row.key === null ? null : (names[groupBy].get(row.key) ?? null))));
          }
        }
      }
    }
  });
});
