/**
 * Server time of the pages a person lives in between sessions — the dashboard, the history (its
 * first page, filtered, and 5,000 sessions deep), the Costs page and every kind of cost report
 * (GET /api/costs per grouping as JSON and CSV, and each table's CSV export with names) — with a
 * big history: seeds a data dir with SESSIONS sessions and ROWS ledger rows (spread over the last
 * 90 days, the bench's admin, a member who signs in and 7 others, 20 repos, 500 tasks, 3 models; a
 * few of the admin's sessions live, some needing them) through the real tables beside Pier running
 * as its own process (local runtime: no pod is involved), and times repeated requests from
 * 127.0.0.1, reporting p50 and p99.
 * Run: bun bench/costs.ts [sessions=10000] [rows=100000] [requests=200]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { users } from "../src/auth/tables.ts";
import { catchUpRollups } from "../src/costs/cost-rollups.ts";
import { costLedger } from "../src/costs/tables.ts";
import { openDatabase } from "../src/infra/db.ts";
import { newId } from "../src/infra/ids.ts";
import { repos } from "../src/repos/tables.ts";
import { sessions } from "../src/sessions/tables.ts";
import { tasks } from "../src/tasks/tables.ts";

const SESSIONS = Number(process.argv[2] ?? 10_000);
const ROWS = Number(process.argv[3] ?? 100_000);
const REQUESTS = Number(process.argv[4] ?? 200);
const DAY = 86_400_000;
const MODELS = ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5"];

const dataDir = mkdtempSync(join(tmpdir(), "pier-bench-costs-"));
const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
const port = probe.port!;
probe.stop(true);
const base = `http://127.0.0.1:${port}`;
const server = Bun.spawn(["bun", "src/main.ts"], {
  cwd: join(import.meta.dir, ".."),
  env: { ...process.env, PIER_PORT: String(port), PIER_PREVIEW_PORT: "0", PIER_HOST: "127.0.0.1", PIER_DATA_DIR: dataDir, PIER_RUNTIME: "local" },
  stdout: "ignore",
  stderr: "inherit",
});

try {
  for (let i = 0; i < 400 && !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); i++) await Bun.sleep(25);
  const post = (path: string, body: unknown, cookie = "") =>
    fetch(base + path, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body) });
  await post("/api/setup", { username: "bench", password: "bench password" });
  const login = await post("/api/auth/login", { username: "bench", password: "bench password" });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const benchUserId = ((await (await fetch(`${base}/api/auth/me`, { headers: { cookie } })).json()) as { user: { id: string } }).user.id;
  // person0 is a member who signs in, to time a member's own view (the same reports, filtered to them).
  const member = await post("/api/users", { username: "person0", password: "member password", role: "member" }, cookie);
  const memberId = ((await member.json()) as { user: { id: string } }).user.id;
  const memberLogin = await post("/api/auth/login", { username: "person0", password: "member password" });
  const memberCookie = memberLogin.headers.getSetCookie()[0]!.split(";")[0]!;

  // Seeded beside the running server, through the same tables and migrations (WAL lets both at it).
  const seedStarted = performance.now();
  const db = openDatabase(join(dataDir, "pier.db"));
  const now = Date.now();
  const people = Array.from({ length: 8 }, (_, i) => ({ id: i === 0 ? memberId : newId(), username: `person${i}`, passwordHash: "not a hash", role: "member" as const, createdAt: new Date(now) }));
  const repoRows = Array.from({ length: 20 }, (_, i) => ({ id: newId(), name: `repo-${i}`, url: `https://example.invalid/repo-${i}.git`, defaultBranch: "main", createdAt: new Date(now) }));
  const taskRows = Array.from({ length: 500 }, (_, i) => ({ id: newId(), title: `Task ${i}`, description: "", status: "in_progress" as const, priority: "medium" as const, sortOrder: i, createdAt: new Date(now), updatedAt: new Date(now) }));
  const sessionRows = Array.from({ length: SESSIONS }, (_, i) => {
    const id = newId();
    return {
      id,
      repoId: repoRows[i % repoRows.length]!.id,
      // Every ninth session is the bench admin's own, and its newest few are live (some need them).
      userId: i % 9 === 0 ? benchUserId : people[i % people.length]!.id,
      taskId: i % 3 === 0 ? taskRows[i % taskRows.length]!.id : null,
      title: `Session ${i}`,
      branch: `pier/bench/${id}`,
      createdBranch: true,
      baseRef: "origin/main",
      worktreePath: `/nonexistent/${id}`,
      state: (i % 9 === 0 && i >= SESSIONS - 45 ? "active" : "ended") as "active" | "ended",
      attention: i % 9 === 0 && i >= SESSIONS - 18 ? ("turn_end" as const) : null,
      costUsd: 0,
      createdAt: new Date(now - 90 * DAY + (i * 90 * DAY) / SESSIONS),
    };
  });
  const chunks = <T,>(rows: T[], size = 500) => Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => rows.slice(i * size, (i + 1) * size));
  db.transaction((tx) => {
    tx.insert(users).values(people.slice(1)).run();
    tx.insert(repos).values(repoRows).run();
    for (const chunk of chunks(taskRows)) tx.insert(tasks).values(chunk).run();
    for (const chunk of chunks(sessionRows)) tx.insert(sessions).values(chunk).run();
    const ledger = Array.from({ length: ROWS }, (_, i) => {
      const session = sessionRows[i % sessionRows.length]!;
      const report = i % 50 === 0; // every 50th row is a verification report: a task, no session
      const inputTokens = 500 + (i % 4000);
      const outputTokens = 100 + (i % 900);
      const cacheReadTokens = 20_000 + (i % 7000);
      const cacheWriteTokens = i % 5 === 0 ? 2000 : 0;
      return {
        sessionId: report ? null : session.id,
        taskId: report ? taskRows[i % taskRows.length]!.id : session.taskId,
        userId: session.userId,
        repoId: session.repoId,
        model: MODELS[i % MODELS.length]!,
        inputTokens,
        outputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        costUsd: (inputTokens * 3 + outputTokens * 15 + cacheReadTokens * 0.3 + cacheWriteTokens * 3.75) / 1e6,
        createdAt: new Date(now - 90 * DAY + (i * 90 * DAY) / ROWS),
      };
    });
    for (const chunk of chunks(ledger)) tx.insert(costLedger).values(chunk).run();
  });
  const seedMs = performance.now() - seedStarted;
  // The ledger was written around recordUsage, so its roll-ups are made as Pier makes them at
  // start on a database from before them.
  const rollUpStarted = performance.now();
  catchUpRollups(db);
  const rollUpMs = performance.now() - rollUpStarted;
  db.$client.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.$client.close();

  // Half the history deep (5,000 sessions of 10,000), by following its pages as a person would.
  let deep = "/api/sessions?limit=200";
  let depth = 0;
  for (let i = 0; i < Math.floor(SESSIONS / 400); i++) {
    const link = (await fetch(base + deep, { headers: { cookie } })).headers.get("link");
    if (!link) break;
    deep = link.match(/^<([^>]+)>/)![1]!;
    depth += 200;
  }
  const deepCursor = new URL(base + deep).searchParams.get("cursor") ?? "";
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const ninetyDays = day(now - 91 * DAY);
  const cases: Array<[string, string, string?]> = [
    ["Dashboard", "/"],
    ["Dashboard, live part (what it fetches on each change)", "/?part=live"],
    ["History page, first page", "/sessions"],
    ["History page, words in title or branch", "/sessions?q=Session%20123"],
    ["History page, a repo and a month", `/sessions?repoId=${repoRows[3]!.id}&from=${day(now - 40 * DAY)}&to=${day(now - 10 * DAY)}`],
    [`History page, ${depth.toLocaleString("en")} sessions deep`, `/sessions${deepCursor ? `?cursor=${deepCursor}` : ""}`],
    ["GET /api/sessions?limit=200", "/api/sessions?limit=200"],
    ["Costs page, this month (default)", "/costs"],
    ["Costs page, last 30 days", "/costs?period=30d"],
    ["Costs page, all 90 days", `/costs?period=custom&from=${ninetyDays}`],
    ["Costs page, all 90 days, a member's own", `/costs?period=custom&from=${ninetyDays}`, memberCookie],
    // A long period that does not hold the whole ledger, as a 90-day page of a year of spending.
    ["Costs page, the last 89 days", `/costs?period=custom&from=${day(now - 88 * DAY)}`],
    ["GET /api/costs?groupBy=day", "/api/costs?groupBy=day"],
    ["GET /api/costs?groupBy=model, this month", `/api/costs?groupBy=model&from=${day(now).slice(0, 8)}01`],
    ["GET /api/costs?groupBy=model", "/api/costs?groupBy=model"],
    ["GET /api/costs?groupBy=repo", "/api/costs?groupBy=repo"],
    ["GET /api/costs?groupBy=user", "/api/costs?groupBy=user"],
    ["GET /api/costs?groupBy=session", "/api/costs?groupBy=session"],
    ["GET /api/costs?groupBy=session, a member's own", "/api/costs?groupBy=session", memberCookie],
    ["GET /api/costs?groupBy=session, the last 89 days", `/api/costs?groupBy=session&from=${day(now - 88 * DAY)}`],
    ["GET /api/costs?groupBy=session, 30 days from a date-time", `/api/costs?groupBy=session&from=${day(now - 30 * DAY)}T12:00:00Z&to=${new Date(now + DAY).toISOString()}`],
    ["GET /api/costs?groupBy=task", "/api/costs?groupBy=task"],
    ...(["day", "model", "repo", "user", "session", "task"] as const).map((by): [string, string] => [`GET /api/costs?groupBy=${by}&format=csv`, `/api/costs?groupBy=${by}&format=csv`]),
    ...Object.entries({ day: "", model: "", repo: " (with names)", user: " (with names)", session: " (with titles)", task: " (with titles)" }).map(
      ([by, names]): [string, string] => [`CSV export by ${by}${names}`, `/costs/export.csv?groupBy=${by}`],
    ),
  ];
  const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
  const results: Array<[string, number, number, number]> = [];
  for (const [name, path, who = cookie] of cases) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS + 5; i++) {
      const started = performance.now();
      const res = await fetch(base + path, { headers: { cookie: who } });
      const body = await res.arrayBuffer();
      const ms = performance.now() - started;
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${new TextDecoder().decode(body).slice(0, 300)}`);
      bytes = body.byteLength;
      if (i >= 5) times.push(ms); // the first few warm SQLite's page cache and the JIT
    }
    results.push([name, percentile(times, 50), percentile(times, 99), bytes]);
  }

  console.log(`Dashboard, history and costs with ${SESSIONS} sessions and ${ROWS} ledger rows (seeded in ${(seedMs / 1000).toFixed(1)} s, rolled up in ${(rollUpMs / 1000).toFixed(1)} s), ${REQUESTS} requests each, time from request to last byte on 127.0.0.1 — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| request | p50 | p99 | size |");
  console.log("|---|---|---|---|");
  for (const [name, p50, p99, bytes] of results) console.log(`| ${name} | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms | ${(bytes / 1024).toFixed(0)} KiB |`);
} finally {
  server.kill("SIGTERM");
  await server.exited;
  if (process.env.PIER_BENCH_KEEP === "1") console.log(`\nData kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}
