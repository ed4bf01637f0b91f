/**
 * Fault: a thousand model responses are recorded at once, from two places (Pier's own agent's chat
 * turns, and Claude Code's requests through the gateway with live session keys) while a second
 * process holds the database's write lock in bursts and backups are taken one after another.
 *
 * What must hold: every response is in the ledger exactly once, the daily and all-time roll-ups
 * (cost_days, cost_totals) and each session's running total equal the ledger's own sums, and no
 * person sees SQLITE_BUSY: every gateway answer is whole and every turn ends without an error.
 * Each backup is one moment of the database: its roll-ups hold exactly its own ledger.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extract } from "tar";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-concurrent-costs-key-000000";
const SESSIONS = 4;
const TURNS_PER_SESSION = 30;
const GATEWAY_REQUESTS = 1000 - SESSIONS * TURNS_PER_SESSION;

/** The i-th scripted response's usage: varied, so a lost or doubled one changes every sum. */
const usageOf = (i: number) => ({
  input_tokens: 100 + (i % 37),
  output_tokens: 20 + (i % 13),
  cache_creation_input_tokens: (i % 5) * 10,
  cache_read_input_tokens: (i % 7) * 100,
});

/**
 * A second writer: another process that takes SQLite's write lock (BEGIN IMMEDIATE) and holds it
 * for 400 ms at a time, as an admin's sqlite3 shell or a script might, until it is told to stop.
 */
const LOCK_HOLDER = `
import { Database } from "bun:sqlite";
const db = new Database(process.env.DB_FILE);
db.exec("PRAGMA busy_timeout = 10000");
const stopAt = Date.now() + Number(process.env.HOLD_FOR_MS);
let bursts = 0;
while (Date.now() < stopAt) {
  db.exec("BEGIN IMMEDIATE");
  if (bursts === 0) console.log("holding");
  Bun.sleepSync(400);
  db.exec("COMMIT");
  bursts++;
  Bun.sleepSync(100);
}
console.log(bursts);
`;

/**
 * Claude Code in the pods: another process (as pods are), sending every request at once with its
 * session's gateway key, and printing each answer's status and body. In the test's own process
 * they would share Bun's pool of outgoing connections with Pier's upstream requests and starve them.
 */
const GATEWAY_CLIENTS = `
const tokens = JSON.parse(process.env.GATEWAY_TOKENS);
const answers = await Promise.all(Array.from({ length: Number(process.env.REQUESTS) }, async (_, i) => {
  const res = await fetch(process.env.GATEWAY_URL, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": tokens[i % tokens.length] },
    body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "request " + i }] }),
  });
  return { status: res.status, body: await res.text() };
}));
console.log(JSON.stringify(answers));
`;

let fake: FakeAnthropic;
let pier: TestPier;
let cookie: string;
let sessions: SessionJson[];
const scratch = mkdtempSync(join(tmpdir(), "pier-concurrent-costs-"));
const dataDir = join(scratch, "data");

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, dataDir);
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("costly").path}`, "costly");
  sessions = [];
  for (let i = 0; i < SESSIONS; i++) sessions.push(await activeSession(pier, cookie, { repoId, engine: "pier" }));
}, 180_000);

afterAll(async () => {
  await closeForGood(pier);
  await fake.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

test("1,000 responses recorded at once from chat turns and the gateway, beside a second writer and a backup, sum exactly", async () => {
  const total = SESSIONS * TURNS_PER_SESSION + GATEWAY_REQUESTS;
  fake.script(...Array.from({ length: total }, (_, i) => ({ text: `answer ${i}`, usage: usageOf(i) })));
  const expected = { input: 0, output: 0, write: 0, read: 0 };
  for (let i = 0; i < total; i++) {
    const u = usageOf(i);
    expected.input += u.input_tokens;
    expected.output += u.output_tokens;
    expected.write += u.cache_creation_input_tokens;
    expected.read += u.cache_read_input_tokens;
  }

  const dbFile = join(dataDir, "pier.db");
  const lockHolder = Bun.spawn(["bun", "-e", LOCK_HOLDER], { env: { ...process.env, DB_FILE: dbFile, HOLD_FOR_MS: "8000" }, stdout: "pipe", stderr: "pipe" });
  // Everything starts once the other process holds the lock for the first time.
  const holderOut = lockHolder.stdout.getReader();
  const firstLine = new TextDecoder().decode((await holderOut.read()).value);
  expect(firstLine).toBe("holding\n");
  // Backups one after another while everything below writes, until it is done: each must be a
  // consistent snapshot.
  let writing = true;
  const backups = (async () => {
    const taken: string[] = [];
    for (let n = 0; writing; n++) {
      const file = join(scratch, `backup-${n}.tar.gz`);
      const backup = Bun.spawn(["bun", "run", "backup", file], { cwd: join(import.meta.dir, "..", ".."), env: { ...process.env, PIER_DATA_DIR: dataDir }, stdout: "pipe", stderr: "pipe" });
      const [err, code] = await Promise.all([new Response(backup.stderr).text(), backup.exited]);
      expect(code, err).toBe(0);
      taken.push(file);
    }
    return taken;
  })();

  const headers = { cookie, origin: pier.url };
  const chats = await Promise.all(sessions.map((s) => ChatClient.connect(pier.url, s.id, headers)));
  // A message sent during a turn joins the next one, so each person sends theirs as the last ends.
  const turns = chats.map(async (chat, n) => {
    for (let t = 0; t < TURNS_PER_SESSION; t++) await chat.turn(`turn ${t} of session ${n}`);
  });
  const tokens = sessions.map((s) => pier.pier.gateway.podToken(s.id));
  const clients = Bun.spawn(["bun", "-e", GATEWAY_CLIENTS], {
    env: { ...process.env, GATEWAY_URL: `${pier.url}/api/gateway/anthropic/v1/messages?beta=true`, GATEWAY_TOKENS: JSON.stringify(tokens), REQUESTS: String(GATEWAY_REQUESTS) },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [clientsOut, clientsErr] = await Promise.all([new Response(clients.stdout).text(), new Response(clients.stderr).text()]);
  expect(await clients.exited, clientsErr).toBe(0);
  const answered = JSON.parse(clientsOut) as Array<{ status: number; body: string }>;
  expect(answered.length).toBe(GATEWAY_REQUESTS);
  await Promise.all(turns);
  writing = false;
  for (const chat of chats) chat.close();
  const turnsEnded = (chat: ChatClient) => chat.events.filter((e) => e.type === "turn_end").length;

  // Nobody was told of a busy database: each gateway answer is a whole stream, each turn ended cleanly.
  const failed = answered.filter((a) => a.status !== 200 || !a.body.includes("message_stop"));
  expect(failed.map((a) => `${a.status} ${a.body.slice(0, 200)}`)).toEqual([]);
  for (const chat of chats) {
    expect(turnsEnded(chat)).toBe(TURNS_PER_SESSION);
    const errors = chat.events.filter((e) => JSON.stringify(e).match(/SQLITE|database is locked|busy/i));
    expect(errors).toEqual([]);
  }
  let bursts = "";
  for (let read = await holderOut.read(); !read.done; read = await holderOut.read()) bursts += new TextDecoder().decode(read.value);
  const lockErr = await new Response(lockHolder.stderr).text();
  expect(await lockHolder.exited, lockErr).toBe(0);
  expect(Number(bursts)).toBeGreaterThan(3);
  // Each backup restores to a database whose roll-ups hold exactly its own ledger: no response
  // half-recorded, however many it caught.
  const caught: number[] = [];
  for (const [n, file] of (await backups).entries()) {
    const restored = join(scratch, `restored-${n}`);
    mkdirSync(restored);
    await extract({ file, cwd: restored });
    const copy = new Database(join(restored, "pier.db"), { readonly: true });
    const rows = copy.query("SELECT count(*) AS n, coalesce(sum(input_tokens), 0) AS input FROM cost_ledger").get() as { n: number; input: number };
    for (const table of ["cost_days", "cost_totals"]) {
      const rolled = copy.query(`SELECT coalesce(sum(responses), 0) AS n, coalesce(sum(input_tokens), 0) AS input FROM ${table} WHERE dimension = 'model'`).get();
      expect({ backup: n, table, ...(rolled as object) }).toEqual({ backup: n, table, ...rows });
    }
    copy.close();
    caught.push(rows.n);
  }
  // At least one was taken in the middle of it all.
  expect(caught.some((n) => n > 0 && n < total), `responses in each backup: ${caught.join(", ")}`).toBe(true);

  // The gateway meters after the last byte went out: wait for its records to land.
  const sqlite = pier.pier.db.$client;
  const ledgerRows = () => (sqlite.query("SELECT count(*) AS n FROM cost_ledger").get() as { n: number }).n;
  const deadline = Date.now() + 60_000;
  while (ledgerRows() < total && Date.now() < deadline) await Bun.sleep(50);
  expect(ledgerRows()).toBe(total);

  const ledger = sqlite
    .query("SELECT count(*) AS responses, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_write_tokens) AS write, sum(cache_read_tokens) AS read, sum(cost_usd) AS cost FROM cost_ledger")
    .get() as { responses: number; input: number; output: number; write: number; read: number; cost: number };
  expect({ input: ledger.input, output: ledger.output, write: ledger.write, read: ledger.read }).toEqual(expected);
  // The price table's claude-sonnet-4-6: 3 / 15 / 3.75 / 0.3 USD per million tokens.
  const expectedCost = (expected.input * 3 + expected.output * 15 + expected.write * 3.75 + expected.read * 0.3) / 1_000_000;
  expect(ledger.cost).toBeCloseTo(expectedCost, 9);

  // Every dimension of both roll-ups holds the ledger's sums, tokens exactly and money to the micro-cent.
  for (const table of ["cost_days", "cost_totals"]) {
    const sums = sqlite
      .query(`SELECT dimension, sum(responses) AS responses, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_write_tokens) AS write, sum(cache_read_tokens) AS read, sum(cost_usd) AS cost FROM ${table} GROUP BY dimension ORDER BY dimension`)
      .all() as Array<typeof ledger & { dimension: string }>;
    expect(sums.map((s) => s.dimension)).toEqual(["model", "repo", "session", "task"]);
    for (const { dimension, cost, ...counts } of sums) {
      const { cost: ledgerCost, ...ledgerCounts } = ledger;
      expect({ table, dimension, ...counts }).toEqual({ table, dimension, ...ledgerCounts });
      expect(cost).toBeCloseTo(ledgerCost, 9);
    }
  }
  // Each session's running total (what its page and the API show) is its own rows of the ledger.
  for (const session of sessions) {
    const own = sqlite.query("SELECT count(*) AS n, sum(cost_usd) AS cost FROM cost_ledger WHERE session_id = ?").get(session.id) as { n: number; cost: number };
    expect(own.n).toBe(TURNS_PER_SESSION + GATEWAY_REQUESTS / SESSIONS);
    const shown = (await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { costUsd: number };
    expect(shown.costUsd).toBeCloseTo(own.cost, 9);
  }
}, 300_000);
