import { Database } from "bun:sqlite";
import { closeSync, copyFileSync, existsSync, fstatSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "tar";
import { BACKUP_MANIFEST, DATABASE_FILE, RECORDINGS_DIR, SECRET_KEY_FILE, type BackupManifest } from "./contents.ts";

/**
 * Writes one archive (a gzipped tar) of what Pier needs to come back on another machine: a
 * snapshot of the database, the secret key that opens its sealed secrets, and every session's
 * recording. It is consistent while Pier runs: the database is copied by `VACUUM INTO`, one read
 * transaction that writers in WAL mode never wait for, and recordings (only ever appended to) are
 * copied after it, so each session the snapshot knows has at least the output it had then.
 *
 * Worktrees, people's clones and the repos' mirrors are left out: a pod can write the first two
 * (the server never reads them), and a mirror is fetched again from its remote.
 */
export async function writeBackup(dataDir: string, file: string, version: string): Promise<BackupManifest> {
  const database = join(dataDir, DATABASE_FILE);
  if (!existsSync(database)) throw new BackupError(`There is no Pier database in ${dataDir} to back up (set PIER_DATA_DIR to Pier's data dir).`);
  const staging = mkdtempSync(join(tmpdir(), "pier-backup-"));
  try {
    snapshotDatabase(database, join(staging, DATABASE_FILE));
    const entries = [DATABASE_FILE];
    const secretKey = existsSync(join(dataDir, SECRET_KEY_FILE));
    if (secretKey) {
      copyFileSync(join(dataDir, SECRET_KEY_FILE), join(staging, SECRET_KEY_FILE));
      entries.push(SECRET_KEY_FILE);
    }
    const recordings = copyRecordings(join(dataDir, RECORDINGS_DIR), join(staging, RECORDINGS_DIR));
    if (recordings > 0) entries.push(RECORDINGS_DIR);
    const manifest: BackupManifest = { format: 1, pierVersion: version, createdAt: new Date().toISOString(), dataDir, secretKey, recordings };
    writeFileSync(join(staging, BACKUP_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
    // The manifest first, so a restore knows what it holds before it reads the rest.
    await create({ gzip: true, file, cwd: staging, portable: true, mode: 0o600 }, [BACKUP_MANIFEST, ...entries]);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export class BackupError extends Error {
  override name = "BackupError";
}

function snapshotDatabase(from: string, to: string): void {
  const db = new Database(from, { readonly: true });
  try {
    // Pier may be writing (or checkpointing) at this moment: wait for it rather than fail.
    db.exec("PRAGMA busy_timeout = 10000");
    db.query("VACUUM INTO ?").run(to);
  } finally {
    db.close();
  }
}

/** Copies each recording up to its last whole line (one may be mid-append); returns how many. */
function copyRecordings(from: string, to: string): number {
  if (!existsSync(from)) return 0;
  const names = readdirSync(from).filter((name) => name.endsWith(".cast"));
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of names) {
    copyFileSync(join(from, name), join(to, name));
    cutToLastLine(join(to, name));
  }
  return names.length;
}

function cutToLastLine(path: string): void {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - chunk.length);
      readSync(fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, end - start).lastIndexOf(0x0a);
      if (newline >= 0) {
        if (start + newline + 1 < size) ftruncateSync(fd, start + newline + 1);
        return;
      }
      end = start;
    }
    ftruncateSync(fd, 0);
  } finally {
    closeSync(fd);
  }
}
