/** What a backup archive holds, by name inside it (the same names as in the data dir). */
export const BACKUP_MANIFEST = "pier-backup.json";
export const DATABASE_FILE = "pier.db";
export const SECRET_KEY_FILE = "secret.key";
export const RECORDINGS_DIR = "recordings";

/** pier-backup.json: what wrote the archive and what it holds. */
export interface BackupManifest {
  format: 1;
  pierVersion: string;
  createdAt: string;
  /** The data dir it was taken from: sessions' worktrees are recorded under this path. */
  dataDir: string;
  /** False when Pier's key came from PIER_SECRET_KEY: the restored Pier needs that same variable. */
  secretKey: boolean;
  recordings: number;
}

/** Whether an archive entry is one a backup writes: nothing outside these names is restored. */
export function isBackupEntry(path: string, type: string): boolean {
  const name = path.replace(/^\.\//, "").replace(/\/$/, "");
  if (type === "Directory") return name === RECORDINGS_DIR;
  if (type !== "File" && type !== "OldFile") return false;
  return name === BACKUP_MANIFEST || name === DATABASE_FILE || name === SECRET_KEY_FILE || /^recordings\/[A-Za-z0-9_-]{1,64}\.cast$/.test(name);
}
