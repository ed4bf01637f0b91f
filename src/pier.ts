import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LoginLimiter } from "./auth/login-limiter.ts";
import { deleteExpiredSessions } from "./auth/sessions.ts";
import { hasAnyUser, listUsers } from "./auth/users.ts";
import type { Config } from "./infra/config.ts";
import { type Db, openDatabase } from "./infra/db.ts";
import { createSecretBox, loadOrCreateSecretKey } from "./infra/secret-box.ts";
import { Metrics } from "./observability/metrics.ts";
import { listRepos } from "./repos/repos.ts";
import { chooseRuntime, type RuntimeKind } from "./runtime/detect.ts";
import { SettingsStore } from "./settings/settings.ts";

/** The long-lived parts of a running Pier, built once at start and handed to the web layer. */
export interface Pier {
  config: Config;
  db: Db;
  settings: SettingsStore;
  loginLimiter: LoginLimiter;
  runtime: RuntimeKind;
  metrics: Metrics;
  version: string;
  /** True once any user exists; cached because every page asks. */
  isSetUp(): boolean;
  close(): void;
}

export const VERSION: string = (await Bun.file(join(import.meta.dir, "..", "package.json")).json()).version;

export async function openPier(config: Config): Promise<Pier> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(join(config.dataDir, "pier.db"));
  deleteExpiredSessions(db);
  const box = await createSecretBox(loadOrCreateSecretKey(config.dataDir, config.secretKey));
  const runtime = await chooseRuntime(config.runtime);
  let setUp = hasAnyUser(db);
  const metrics = new Metrics({
    pier_users: { help: "Registered users.", read: () => listUsers(db).length },
    pier_repos: { help: "Registered repositories.", read: () => listRepos(db).length },
  });
  return {
    config,
    db,
    settings: new SettingsStore(db, box, config),
    loginLimiter: new LoginLimiter(),
    runtime,
    metrics,
    version: VERSION,
    isSetUp: () => (setUp ||= hasAnyUser(db)),
    close: () => db.$client.close(),
  };
}
