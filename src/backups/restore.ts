import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { extract } from "tar";
import { BackupError } from "./backup.ts";
import { BACKUP_MANIFEST, DATABASE_FILE, RECORDINGS_DIR, SECRET_KEY_FILE, type BackupManifest, isBackupEntry } from "./contents.ts";

/**
 * Fills an empty data dir from a backup archive (writeBackup's). A data dir with anything in it is
 * refused, so a restore can never mix two Pier's data or overwrite the one in use. Only the names
 * a backup writes are taken from the archive, as plain files: no links, no paths outside the dir.
 */
export async function restoreBackup(file: string, dataDir: string): Promise<BackupManifest> {
  if (!existsSync(file)) throw new BackupError(`There is no backup file at ${file}.`);
  // A freshly made filesystem has lost+found, and is still empty.
  if (existsSync(dataDir) && readdirSync(dataDir).some((name) => name !== "lost+found")) {
    throw new BackupError(`The data dir ${dataDir} is not empty; restore into an empty (or new) directory so nothing in it is overwritten.`);
  }
  const created = !existsSync(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    await extract({ file, cwd: dataDir, strict: true, filter: (path, entry) => isBackupEntry(path, "type" in entry ? entry.type : "File") });
    const manifest = readManifest(dataDir);
    checkDatabase(join(dataDir, DATABASE_FILE));
    // Pier's own modes: only its user reads the database, the key and the recordings.
    chmodSync(dataDir, 0o700);
    for (const name of [DATABASE_FILE, SECRET_KEY_FILE, BACKUP_MANIFEST]) if (existsSync(join(dataDir, name))) chmodSync(join(dataDir, name), 0o600);
    if (existsSync(join(dataDir, RECORDINGS_DIR))) chmodSync(join(dataDir, RECORDINGS_DIR), 0o700);
    rmSync(join(dataDir, BACKUP_MANIFEST));
    return manifest;
  } catch (error) {
    // A failed restore leaves the directory as it found it: empty (or absent).
    for (const name of readdirSync(dataDir)) if (name !== "lost+found") rmSync(join(dataDir, name), { recursive: true, force: true });
    if (created) rmSync(dataDir, { recursive: true, force: true });
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${file} is not a Pier backup that can be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readManifest(dataDir: string): BackupManifest {
  const path = join(dataDir, BACKUP_MANIFEST);
  if (!existsSync(path) || !existsSync(join(dataDir, DATABASE_FILE))) throw new BackupError("That archive is not a Pier backup: it has no pier-backup.json or no pier.db.");
  const manifest = JSON.parse(readFileSync(path, "utf8")) as BackupManifest;
  if (manifest.format !== 1) throw new BackupError(`That backup's format (${String(manifest.format)}) is newer than this Pier reads; restore it with Pier ${manifest.pierVersion} or later.`);
  return manifest;
}

function checkDatabase(path: string): void {
  const db = new Database(path, { readonly: true });
  try {
    const result = db.query("PRAGMA integrity_check").get() as { integrity_check: string };
    if (result.integrity_check !== "ok") throw new BackupError(`The backup's database is damaged (${result.integrity_check}).`);
  } finally {
    db.close();
  }
}
