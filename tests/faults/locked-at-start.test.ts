/**
 * Fault: Pier starts while another process is reading its database, and the database is not in
 * WAL mode yet: a restored backup (VACUUM INTO and sqlite3's .backup write rollback-journal files),
 * read at that moment by a backup, a sqlite3 shell or a monitoring script.
 *
 * What must hold: Pier waits for the reader (its busy timeout) and starts, in WAL mode, instead of
 * stopping with "database is locked". It used to switch to WAL before setting the busy timeout,
 * so the switch, which needs the file to itself, failed at once.
 */
import { afterEach, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { openDatabase } from "../../src/infra/db.ts";
import { ADMIN, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";

/** Another process that holds a read transaction on the file for a moment, then lets go. */
const READER = `
import { Database } from "bun:sqlite";
const db = new Database(process.env.DB_FILE, { readonly: true });
db.exec("BEGIN");
db.query("SELECT count(*) FROM sqlite_master").get();
console.log("reading");
Bun.sleepSync(1500);
db.exec("COMMIT");
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test("Pier starts on a rollback-journal database another process is reading, once the reader is done", async () => {
  const firstDir = mkdtempSync(join(tmpdir(), "pier-locked-first-"));
  const dataDir = mkdtempSync(join(tmpdir(), "pier-locked-start-"));
  dirs.push(firstDir, dataDir);
  // A data dir as a restore leaves it: the database copied by VACUUM INTO (a rollback-journal
  // file) with a user in it, and the key.
  const first = await startTestPier({}, firstDir);
  await setUpAdmin(first);
  const file = join(dataDir, "pier.db");
  first.pier.db.$client.query("VACUUM INTO ?").run(file);
  copyFileSync(join(firstDir, "secret.key"), join(dataDir, "secret.key"));
  await first.close();
  expect((new Database(file, { readonly: true }).query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("delete");

  const reader = Bun.spawn(["bun", "-e", READER], { env: { ...process.env, DB_FILE: file }, stdout: "pipe", stderr: "pipe" });
  const out = reader.stdout.getReader();
  expect(new TextDecoder().decode((await out.read()).value)).toBe("reading\n");

  const pier = await startTestPier({}, dataDir);
  try {
    expect(await reader.exited).toBe(0);
    expect((pier.pier.db.$client.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    await signIn(pier, ADMIN.username, ADMIN.password);
    expect((await pier.fetch("/api/setup", json(ADMIN))).status).toBe(409);
  } finally {
    await closeForGood(pier);
  }
}, 60_000);

test("openDatabase waits for a reader before switching a database to WAL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pier-locked-open-"));
  dirs.push(dir);
  const file = join(dir, "pier.db");
  const plain = new Database(file);
  plain.exec("CREATE TABLE left_by_someone (id TEXT)");
  plain.close();
  const reader = Bun.spawn(["bun", "-e", READER], { env: { ...process.env, DB_FILE: file }, stdout: "pipe", stderr: "pipe" });
  expect(new TextDecoder().decode((await reader.stdout.getReader().read()).value)).toBe("reading\n");
  const db = openDatabase(file);
  expect((db.$client.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
  db.$client.close();
  expect(await reader.exited).toBe(0);
}, 30_000);
