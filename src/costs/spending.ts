import { and, eq, gte, lt, or, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { SubqueryWithSelection } from "drizzle-orm/sqlite-core";
import type { Actor } from "../auth/actor.ts";
import type { DateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { spendingOwnerFor } from "./cost-scope.ts";
import { DAY_MS, LEDGER_DAY, LEDGER_KEYS, dayNumber } from "./cost-rollups.ts";
import { type CostDimension, costDays, costLedger, costTotals } from "./tables.ts";

/** What spending can be summed per: the dimension's key (a model, or a repo, task or session id, "" for none), the day, the person. */
export type SpendingColumn = "key" | "day" | "userId";

type Sums = {
  costUsd: SQL.Aliased<number>;
  inputTokens: SQL.Aliased<number>;
  outputTokens: SQL.Aliased<number>;
  cacheReadTokens: SQL.Aliased<number>;
  cacheWriteTokens: SQL.Aliased<number>;
};
type Columns = { key: SQL.Aliased<string>; day: SQL.Aliased<number>; userId: SQL.Aliased<string> };
type Grouped<C extends SpendingColumn> = Pick<Columns, C> & Sums;
type Spending<C extends SpendingColumn> = SubqueryWithSelection<Grouped<C>, "spending">;

/**
 * The spending in a period that the actor may see, in one dimension of the roll-ups, summed per
 * `by` (no columns: one total), as a subquery to select from. A period holding the whole ledger
 * reads cost_totals, unless it is summed per day. Otherwise whole days come from cost_days, and
 * the part of a day at either end of a period given as date-times from the ledger itself, each
 * summed on its own first (so cost_days is read in an index's order) and then together.
 */
export function spending<C extends SpendingColumn>(db: Db, actor: Actor, range: DateRange, dimension: CostDimension, by: readonly C[]): Spending<C> {
  const owner = spendingOwnerFor(actor);
  const ledger = ledgerSpan(db);
  if (!by.includes("day" as C) && holds(range, ledger)) {
    const columns = { key: costTotals.key, userId: costTotals.userId };
    const where = and(eq(costTotals.dimension, dimension), owner === null ? undefined : eq(costTotals.userId, owner));
    return db.select(grouped(by, columns, costTotals)).from(costTotals).where(where).groupBy(...groupColumns(by, columns)).as("spending") as Spending<C>;
  }
  const { days, edges } = splitRange(range);
  const parts = [];
  if (days) {
    const columns = { key: costDays.key, day: costDays.day, userId: costDays.userId };
    const day = coversMuchOf(days, ledger) ? sql`+${costDays.day}` : sql`${costDays.day}`;
    const where = and(
      eq(costDays.dimension, dimension),
      owner === null ? undefined : eq(costDays.userId, owner),
      days.from === null ? undefined : gte(day, days.from),
      days.to === null ? undefined : lt(day, days.to),
    );
    parts.push(db.select(grouped(by, columns, costDays)).from(costDays).where(where).groupBy(...groupColumns(by, columns)).$dynamic());
  }
  if (edges.length) {
    const columns = { key: LEDGER_KEYS[dimension], day: LEDGER_DAY, userId: costLedger.userId };
    const at = ([from, to]: [number, number]) => and(gte(costLedger.createdAt, new Date(from)), lt(costLedger.createdAt, new Date(to)));
    const where = and(owner === null ? undefined : eq(costLedger.userId, owner), or(...edges.map(at)));
    parts.push(db.select(grouped(by, columns, costLedger)).from(costLedger).where(where).groupBy(...groupColumns(by, columns)).$dynamic());
  }
  const [first, second] = parts;
  // Drizzle types a subquery by its select list, the same here whichever table it reads.
  if (!second) return first!.as("spending") as unknown as Spending<C>;
  const both = first!.unionAll(second).as("parts");
  const columns = { key: both.key, day: both.day, userId: both.userId };
  return db.select(grouped(by, columns, both)).from(both).groupBy(...groupColumns(by, columns)).as("spending") as unknown as Spending<C>;
}

/** The first and the last moment with spending, in milliseconds; null for an empty ledger. */
function ledgerSpan(db: Db): { first: number; last: number } | null {
  // Each is one step down the created_at index; min and max in one select would read it all.
  const first = db.select({ at: sql<number | null>`min(${costLedger.createdAt})` }).from(costLedger).get()?.at ?? null;
  const last = db.select({ at: sql<number | null>`max(${costLedger.createdAt})` }).from(costLedger).get()?.at ?? null;
  return first === null || last === null ? null : { first, last };
}

/** Whether a period holds every response in the ledger. */
function holds(range: DateRange, ledger: { first: number; last: number } | null): boolean {
  return ledger === null || ((range.from === null || range.from <= ledger.first) && (range.to === null || range.to > ledger.last));
}

/**
 * Whether whole days cover a quarter or more of the days with spending. cost_days is read in one
 * of two orders: by day, its key, which reads no more than the period but must sort what it read
 * to group it; or by key (cost_days_by_key_idx), which reads the whole dimension but groups it as
 * it goes. At 100,000 responses over 90 days (bench/costs.ts), grouping sessions took 3 ms by day
 * and 7 by key for the last 6 days, 11 and 9 for 30 days, 38 and 13 for all 90. SQLite's planner
 * cannot tell how the days are spread and takes the day order for any period, so for a long one
 * the unary plus on day hides that order from it.
 */
function coversMuchOf(days: { from: number | null; to: number | null }, ledger: { first: number; last: number } | null): boolean {
  if (ledger === null) return false;
  const first = dayNumber(ledger.first);
  const last = dayNumber(ledger.last);
  const covered = Math.min(days.to ?? Number.POSITIVE_INFINITY, last + 1) - Math.max(days.from ?? Number.NEGATIVE_INFINITY, first);
  return covered * 4 >= last + 1 - first;
}

/** The `by` columns of one part, to group it by. */
function groupColumns(by: readonly SpendingColumn[], columns: Partial<Record<SpendingColumn, SQLWrapper>>): SQL[] {
  return by.map((column) => sql`${columns[column]!}`);
}

/**
 * The select list of one part: the `by` columns, aliased the same in every part, and the five
 * sums. Drizzle names a subquery's columns unqualified, so the aliases are ones no table joined
 * to it has (sessions has a cost_usd, for one).
 */
function grouped(by: readonly SpendingColumn[], columns: Partial<Record<SpendingColumn, SQLWrapper>>, sums: Record<keyof Sums, SQLWrapper>): Columns & Sums {
  const alias = { key: "spent_key", day: "spent_day", userId: "spent_user_id" } as const;
  const fields: Record<string, SQL.Aliased> = {};
  for (const column of by) fields[column] = sql`${columns[column]!}`.as(alias[column]);
  fields.costUsd = sql<number>`sum(${sums.costUsd})`.as("spent_usd");
  fields.inputTokens = sql<number>`sum(${sums.inputTokens})`.as("spent_input_tokens");
  fields.outputTokens = sql<number>`sum(${sums.outputTokens})`.as("spent_output_tokens");
  fields.cacheReadTokens = sql<number>`sum(${sums.cacheReadTokens})`.as("spent_cache_read_tokens");
  fields.cacheWriteTokens = sql<number>`sum(${sums.cacheWriteTokens})`.as("spent_cache_write_tokens");
  // Only the `by` columns are there; the type names all three so every part has one shape.
  return fields as Columns & Sums;
}

/**
 * A period as cost_days can answer it: the whole UTC days inside it (null when there are none;
 * either end null when open), and the spans of part-days at its ends that only the ledger can.
 */
export function splitRange(range: DateRange): { days: { from: number | null; to: number | null } | null; edges: Array<[number, number]> } {
  const first = range.from === null ? null : Math.ceil(range.from / DAY_MS);
  const end = range.to === null ? null : Math.floor(range.to / DAY_MS);
  if (first !== null && end !== null && first >= end) return { days: null, edges: [[range.from!, range.to!]] };
  const edges: Array<[number, number]> = [];
  if (first !== null && range.from! < first * DAY_MS) edges.push([range.from!, first * DAY_MS]);
  if (end !== null && end * DAY_MS < range.to!) edges.push([end * DAY_MS, range.to!]);
  return { days: { from: first, to: end }, edges };
}
