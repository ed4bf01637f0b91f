import { eq, inArray } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { users } from "../auth/tables.ts";
import { readDateRange } from "../infra/date-range.ts";
import type { Db } from "../infra/db.ts";
import { repos } from "../repos/tables.ts";
import { sessions } from "../sessions/tables.ts";
import { tasks } from "../tasks/tables.ts";
import { type CostGroup, type CostQuery, type CostRow, groupSums, readCostGroup } from "./cost-report.ts";

export interface NamedCostRow extends CostRow {
  /** Its repo's name, person's username, session's or task's title; null when that is gone or the key is null. */
  name: string | null;
}

/** SQLite takes this many bound values in one statement comfortably; longer lists go in slices. */
const SLICE = 500;

/** Where the keys that are ids have their names. */
const NAMES = {
  repo: { table: repos, id: repos.id, name: repos.name },
  user: { table: users, id: users.id, name: users.username },
  session: { table: sessions, id: sessions.id, name: sessions.title },
  task: { table: tasks, id: tasks.id, name: tasks.title },
};

/**
 * What people call the keys of a cost report: repo names, usernames, session titles, task
 * titles (days and models are their own names). The ledger keeps ids and outlives what they
 * named, so a key whose repo, user, session or task is gone has no name here.
 */
export function costNames(db: Db, groupBy: CostGroup, keys: ReadonlyArray<string | null>): Map<string, string> {
  const ids = [...new Set(keys.filter((key): key is string => key !== null))];
  const names = new Map<string, string>();
  if (groupBy === "day" || groupBy === "model") {
    for (const id of ids) names.set(id, id);
    return names;
  }
  const table = NAMES[groupBy];
  for (let i = 0; i < ids.length; i += SLICE) {
    const rows = db
      .select({ id: table.id, name: table.name })
      .from(table.table)
      .where(inArray(table.id, ids.slice(i, i + SLICE)))
      .all();
    for (const row of rows) names.set(row.id, row.name);
  }
  return names;
}

/**
 * costReport with each key's name beside it (null when its repo, user, session or task is gone),
 * for the CSV export. The names are joined by SQL: looking 10,000 sessions' titles up in lists of
 * ids took as long again as summing them (bench/costs.ts).
 */
export function costReportWithNames(db: Db, actor: Actor, query: CostQuery): NamedCostRow[] {
  const groupBy = readCostGroup(query.groupBy);
  const { sums, key, rowOf } = groupSums(db, actor, groupBy, readDateRange(query));
  if (groupBy === "day" || groupBy === "model") {
    return db.select().from(sums).orderBy(key).all().map(rowOf).map((row) => ({ ...row, name: row.key }));
  }
  const names = NAMES[groupBy];
  return db
    .select({ ...sums._.selectedFields, name: names.name })
    .from(sums)
    .leftJoin(names.table, eq(names.id, key))
    .orderBy(key)
    .all()
    .map((row) => ({ ...rowOf(row), name: row.name }));
}
