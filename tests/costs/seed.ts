/**
 * A Pier with spending on its books: an admin and two members, two repos, two tasks, sessions of
 * each person, and ledger rows recorded through the real recordUsage (so each session's costUsd
 * moves with them) on several days and models, plus a verification report's rows against a task.
 * Sessions are written straight into the sessions table: provisioning pods is not what is tested.
 */
import { setSystemTime } from "bun:test";
import { recordUsage } from "../../src/costs/costs.ts";
import { addSessionCost } from "../../src/sessions/session-cost.ts";
import { sessions } from "../../src/sessions/tables.ts";
import { newId } from "../../src/infra/ids.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, json, setUpAdmin, signIn } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";

export interface Seeded {
  admin: { id: string; cookie: string };
  mia: { id: string; cookie: string };
  max: { id: string; cookie: string };
  repos: { web: string; api: string };
  tasks: { login: string; billing: string };
  sessions: { id: string; userId: string; repoId: string; taskId: string | null; title: string }[];
  /** Every ledger row as recorded: who, what, when and its cost. */
  rows: { sessionId: string | null; taskId: string | null; userId: string; repoId: string | null; model: string; at: Date; costUsd: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number }[];
}

export const MODELS = ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5"];

/** Titles a person chose, some of them hostile: markup for the page, formulas for a spreadsheet. */
export const TITLES = ["Fix the login form", "<img src=x onerror=alert(1)> markup", "=HYPERLINK(\"http://evil.test\",\"click\")", "+1 plus, \"quoted\"\nand a new line"];

export async function seedCosts(pier: TestPier): Promise<Seeded> {
  const adminCookie = await setUpAdmin(pier);
  const member = async (username: string) => {
    const res = await pier.fetch("/api/users", json({ username, password: "member password 1", role: "member" }, { cookie: adminCookie }));
    if (res.status !== 201) throw new Error(`user ${username}: ${res.status} ${await res.text()}`);
    const { id } = ((await res.json()) as { user: { id: string } }).user;
    return { id, cookie: await signIn(pier, username, "member password 1") };
  };
  const me = ((await (await pier.fetch("/api/auth/me", { headers: { cookie: adminCookie } })).json()) as { user: { id: string } }).user;
  const admin = { id: me.id, cookie: adminCookie };
  const mia = await member("mia");
  const max = await member("max");
  const repos = {
    web: await addRepo(pier, adminCookie, `file://${makeRemoteRepo("costs-web").path}`, "web-app"),
    api: await addRepo(pier, adminCookie, `file://${makeRemoteRepo("costs-api").path}`, "api-server"),
  };
  const task = async (title: string) => {
    const res = await pier.fetch("/api/tasks", json({ title }, { cookie: adminCookie }));
    if (res.status !== 201) throw new Error(`task: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const tasks = { login: await task("Login <b>rework</b>"), billing: await task("Billing export") };

  const db = pier.pier.db;
  const plan = [
    { userId: mia.id, repoId: repos.web, taskId: tasks.login, title: TITLES[0]! },
    { userId: mia.id, repoId: repos.api, taskId: null, title: TITLES[1]! },
    { userId: max.id, repoId: repos.web, taskId: tasks.billing, title: TITLES[2]! },
    { userId: admin.id, repoId: repos.api, taskId: tasks.billing, title: TITLES[3]! },
  ];
  const seededSessions = plan.map((s, i) => {
    const id = newId();
    db.insert(sessions)
      .values({ id, ...s, branch: `pier/test/${id}`, createdBranch: true, baseRef: "origin/main", worktreePath: `/nonexistent/${id}`, state: "ended", createdAt: new Date(Date.UTC(2026, 0, 20 + i)) })
      .run();
    return { id, ...s };
  });

  // Days around month ends (the last millisecond of January, the first of February) and today.
  const now = new Date();
  const days = [new Date("2026-01-30T10:00:00Z"), new Date("2026-01-31T23:59:59.999Z"), new Date("2026-02-01T00:00:00Z"), new Date("2026-02-14T12:30:00Z"), now];
  const rows: Seeded["rows"] = [];
  const record = (entry: Omit<Seeded["rows"][number], "costUsd" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens">, n: number) => {
    const usage = { inputTokens: 1000 + n * 7, outputTokens: 200 + n * 3, cacheReadTokens: 5000 + n * 11, cacheWriteTokens: n % 3 === 0 ? 0 : 300 + n };
    setSystemTime(entry.at);
    try {
      const costUsd = recordUsage(db, { ...entry, usage }, addSessionCost);
      rows.push({ ...entry, ...usage, costUsd });
    } finally {
      setSystemTime();
    }
  };
  let n = 0;
  for (const [i, session] of seededSessions.entries()) {
    for (const [d, at] of days.entries()) {
      for (const model of MODELS.slice(0, 1 + ((i + d) % MODELS.length))) {
        record({ sessionId: session.id, taskId: session.taskId, userId: session.userId, repoId: session.repoId, model, at }, n++);
      }
    }
  }
  // A verification report of the billing task, requested by the admin: no session.
  for (const at of [days[3]!, now]) record({ sessionId: null, taskId: tasks.billing, userId: admin.id, repoId: repos.web, model: MODELS[1]!, at }, n++);
  return { admin, mia, max, repos, tasks, sessions: seededSessions, rows };
}

/** The ledger's own sums per key, computed here from what was recorded. */
export function sumsBy(rows: Seeded["rows"], keyOf: (row: Seeded["rows"][number]) => string | null) {
  const sums = new Map<string | null, { costUsd: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number }>();
  for (const row of rows) {
    const key = keyOf(row);
    const sum = sums.get(key) ?? { costUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    sum.costUsd += row.costUsd;
    sum.inputTokens += row.inputTokens;
    sum.outputTokens += row.outputTokens;
    sum.cacheReadTokens += row.cacheReadTokens;
    sum.cacheWriteTokens += row.cacheWriteTokens;
    sums.set(key, sum);
  }
  return sums;
}

/** An RFC 4180 reader: quoted fields with doubled quotes, commas and line breaks inside, CRLF between records. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (field += c), i++;
    } else if (c === '"' && field === "") (quoted = true), i++;
    else if (c === ",") record.push(field), (field = ""), i++;
    else if (c === "\r" && text[i + 1] === "\n") record.push(field), records.push(record), (record = []), (field = ""), (i += 2);
    else if (c === '"' || c === "\n" || c === "\r") throw new Error(`bare ${JSON.stringify(c)} at ${i}: not RFC 4180`);
    else (field += c), i++;
  }
  if (field !== "" || record.length) throw new Error("the last record does not end with CRLF");
  return records;
}
