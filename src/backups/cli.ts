/**
 * `bun run backup FILE` and `bun run restore FILE`: the data dir is PIER_DATA_DIR (default ./data),
 * as for `bun start`. A backup may be taken while Pier runs; a restore wants an empty data dir and
 * is started on afterwards like any other.
 */
import { join } from "node:path";
import { ConfigError, loadConfig } from "../infra/config.ts";
import { BackupError, writeBackup } from "./backup.ts";
import { restoreBackup } from "./restore.ts";

const [command, file] = process.argv.slice(2);
const version: string = (await Bun.file(join(import.meta.dir, "..", "..", "package.json")).json()).version;

try {
  if (!file || (command !== "backup" && command !== "restore")) throw new BackupError("Say where the archive goes (or comes from): bun run backup FILE, or bun run restore FILE.");
  const { dataDir } = loadConfig();
  if (command === "backup") {
    const manifest = await writeBackup(dataDir, file, version);
    console.log(`Backed up ${dataDir} to ${file}: the database, ${manifest.recordings} recording(s)${manifest.secretKey ? " and the secret key" : ""}.`);
    if (!manifest.secretKey) console.log("There is no secret.key in the data dir (Pier takes its key from PIER_SECRET_KEY), so none is in the archive: keep that value with the backup.");
  } else {
    const manifest = await restoreBackup(file, dataDir);
    console.log(`Restored the backup of ${manifest.createdAt} (Pier ${manifest.pierVersion}) into ${dataDir}; start Pier on it.`);
    if (!manifest.secretKey) console.log("That backup has no secret key: start Pier with the PIER_SECRET_KEY it ran with, or its saved secrets cannot be opened.");
    if (manifest.dataDir && manifest.dataDir !== dataDir) {
      console.log(`That backup was taken from ${manifest.dataDir}: its sessions' worktrees are recorded under that path, so use the same PIER_DATA_DIR if you bring the workspaces along by hand.`);
    }
  }
} catch (error) {
  if (!(error instanceof BackupError || error instanceof ConfigError)) throw error;
  console.error(`pier ${command ?? "backup"}: ${error.message}`);
  process.exit(1);
}
