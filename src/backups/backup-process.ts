import { join } from "node:path";
import { BackupError } from "./backup.ts";

const CLI = join(import.meta.dir, "cli.ts");

/**
 * writeBackup in a process of its own, for the server: the database snapshot and the copies of
 * the recordings are synchronous file work that takes seconds on a large data dir, and in Pier's
 * own process it would stall every terminal and chat for that long. The child is given the data
 * dir and nothing else of Pier's environment (no secrets: it needs none).
 */
export async function writeBackupAside(dataDir: string, file: string): Promise<void> {
  const child = Bun.spawn([process.execPath, CLI, "backup", file], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PIER_DATA_DIR: dataDir },
    stdout: "ignore",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new BackupError(stderr.trim().replace(/^pier backup: /, "") || `The backup stopped (exit code ${code}).`);
}
