import { Database } from "bun:sqlite";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { chmodSync, closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";

/**
 * The database, for domain modules' queries on their own tables. Drizzle is given no schema:
 * queries name their tables, and the relational `db.query` API that a schema enables is not used.
 */
export type Db = BunSQLiteDatabase & { $client: Database };

/** What a synchronous transaction callback receives; it offers the same query builders as Db. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export const MIGRATIONS_DIR = join(import.meta.dir, "..", "..", "drizzle");

/**
 * Opens (or creates) the SQLite file and brings its schema up to date.
 * WAL lets readers run beside the writer; transactions stay synchronous because
 * async callbacks are not atomic on bun:sqlite.
 */
export function openDatabase(file: string, migrationsFolder = MIGRATIONS_DIR): Db {
  restrictToOwner(file);
  const sqlite = new Database(file, { create: true, strict: true });
  // First: switching a file that is not yet WAL (a new one, or a restored backup) needs it to
  // itself, and without a busy timeout another process's read would stop Pier from starting.
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  const db = drizzle({ client: sqlite });
  migrate(db, { migrationsFolder });
  return db;
}

/**
 * The database holds password hashes and sealed secrets, so only Pier's user may read it. SQLite
 * gives the -wal and -shm files it creates the database file's mode, so the file is 0600 before
 * SQLite opens it; files left world-readable by an older Pier (or a crash) are fixed here too.
 */
function restrictToOwner(file: string): void {
  closeSync(openSync(file, "a", 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path)) chmodSync(path, 0o600);
  }
}

export function pingDatabase(db: Db): boolean {
  try {
    return db.$client.query("SELECT 1 AS ok").get() !== null;
  } catch {
    return false;
  }
}
