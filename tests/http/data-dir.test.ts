import { expect, test } from "bun:test";
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS_DIR, openDatabase } from "../../src/infra/db.ts";
import { ADMIN, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";

test("a data dir made by an older Pier is migrated at start and keeps its users", async () => {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, "meta", "_journal.json"), "utf8"));
  expect(journal.entries.length).toBeGreaterThan(1);

  // An "older Pier": the same migrations folder, minus the latest migration.
  const older = mkdtempSync(join(tmpdir(), "pier-old-migrations-"));
  cpSync(MIGRATIONS_DIR, older, { recursive: true });
  const olderJournal = { ...journal, entries: journal.entries.slice(0, -1) };
  writeFileSync(join(older, "meta", "_journal.json"), JSON.stringify(olderJournal));

  const dataDir = mkdtempSync(join(tmpdir(), "pier-old-data-"));
  const oldDb = openDatabase(join(dataDir, "pier.db"), older);
  const hash = await Bun.password.hash(ADMIN.password, "argon2id");
  oldDb.$client
    .query("INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?, ?, ?, 'admin', ?)")
    .run("olduser0000000000", ADMIN.username, hash, Date.now());
  const appliedBefore = (oldDb.$client.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
  oldDb.$client.close();

  const pier = await startTestPier({}, dataDir);
  try {
    const appliedAfter = (pier.pier.db.$client.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
    expect(appliedBefore).toBe(journal.entries.length - 1);
    expect(appliedAfter).toBe(journal.entries.length);
    const cookie = await signIn(pier, ADMIN.username, ADMIN.password);
    const repo = await pier.fetch("/api/repos", json({ url: "https://github.com/acme/after-upgrade.git" }, { cookie }));
    expect(repo.status).toBe(201);
    const journalMode = pier.pier.db.$client.query("PRAGMA journal_mode").get() as { journal_mode: string };
    expect(journalMode.journal_mode).toBe("wal");
    const fk = pier.pier.db.$client.query("PRAGMA foreign_keys").get() as { foreign_keys: number };
    expect(fk.foreign_keys).toBe(1);
  } finally {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(older, { recursive: true, force: true });
  }
});

test("everything survives a restart on the same data dir, secrets included", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-restart-"));
  try {
    const first = await startTestPier({}, dataDir);
    const cookie = await setUpAdmin(first);
    await first.fetch("/api/settings", { ...json({ githubToken: "ghp_restart_secret_123456" }, { cookie }), method: "PUT" });
    await first.fetch("/api/repos", json({ url: "https://github.com/acme/kept.git" }, { cookie }));
    await first.close();

    const second = await startTestPier({}, dataDir);
    try {
      const repos = (await (await second.fetch("/api/repos", { headers: { cookie } })).json()) as Array<{ name: string }>;
      expect(repos.map((r) => r.name)).toEqual(["kept"]);
      expect(await second.pier.settings.secret("githubToken")).toBe("ghp_restart_secret_123456");
    } finally {
      await closeForGood(second);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Mode bits of the database and the files SQLite keeps beside it. */
function dbFileModes(dataDir: string): Record<string, string> {
  const modes: Record<string, string> = {};
  for (const name of ["pier.db", "pier.db-wal", "pier.db-shm"]) modes[name] = (statSync(join(dataDir, name)).mode & 0o777).toString(8);
  return modes;
}
const OWNER_ONLY = { "pier.db": "600", "pier.db-wal": "600", "pier.db-shm": "600" };

test("pier.db and its -wal and -shm files are readable by Pier's user alone from the start", async () => {
  // The usual umask: without care, SQLite's files would come out world-readable.
  const umask = process.umask(0o022);
  const dataDir = mkdtempSync(join(tmpdir(), "pier-modes-"));
  try {
    const pier = await startTestPier({}, dataDir);
    try {
      await setUpAdmin(pier);
      expect(dbFileModes(dataDir)).toEqual(OWNER_ONLY);
    } finally {
      await closeForGood(pier);
    }
  } finally {
    process.umask(umask);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a data dir whose database files were world-readable is fixed at start", async () => {
  const umask = process.umask(0o022);
  const original = mkdtempSync(join(tmpdir(), "pier-open-modes-"));
  const crashed = mkdtempSync(join(tmpdir(), "pier-crashed-modes-"));
  try {
    // An older Pier's data dir as a crash leaves it: the user is still in the -wal file.
    const older = openDatabase(join(original, "pier.db"));
    const hash = await Bun.password.hash(ADMIN.password, "argon2id");
    older.$client
      .query("INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?, ?, ?, 'admin', ?)")
      .run("crashuser00000000", ADMIN.username, hash, Date.now());
    for (const name of ["pier.db", "pier.db-wal", "pier.db-shm"]) {
      copyFileSync(join(original, name), join(crashed, name));
      chmodSync(join(crashed, name), 0o644);
    }
    older.$client.close();

    const pier = await startTestPier({}, crashed);
    try {
      expect(dbFileModes(crashed)).toEqual(OWNER_ONLY);
      await signIn(pier, ADMIN.username, ADMIN.password);
    } finally {
      await closeForGood(pier);
    }
  } finally {
    process.umask(umask);
    rmSync(original, { recursive: true, force: true });
    rmSync(crashed, { recursive: true, force: true });
  }
});
