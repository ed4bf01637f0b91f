import { inArray } from "drizzle-orm";
import { users } from "../auth/tables.ts";
import type { Db } from "../infra/db.ts";
import { repos } from "../repos/tables.ts";
import { sessions } from "../sessions/tables.ts";
import { tasks } from "../tasks/tables.ts";
import type { CostGroup } from "./cost-report.ts";

/** SQLite takes this many bound values in one statement comfortably; longer lists go in slices. */
const SLICE = 500;

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
  const table = { repo: { t: repos, name: repos.name }, user: { t: users, name: users.username }, session: { t: sessions, name: sessions.title }, task: { t: tasks, name: tasks.title } }[groupBy];
  for (let i = 0; i < ids.length; i += SLICE) {
    const rows = db
      .select({ id: table.t.id, name: table.name })
      .from(table.t)
      .where(inArray(table.t.id, ids.slice(i, i + SLICE)))
      .all();
    for (const row of rows) names.set(row.id, row.name);
  }
  return names;
}
