import { ConfigError, loadConfig } from "./infra/config.ts";
import { startServer } from "./server.ts";

/** docker stop waits 10 s after SIGTERM before it kills: Pier is gone before then. */
const STOP_DEADLINE_MS = 9_000;

const started = performance.now();
let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Pier cannot start: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

try {
  const running = await startServer(config);
  const ms = Math.round(performance.now() - started);
  console.log(`Pier is ready at ${running.url} (runtime: ${running.pier.runtime.kind}, data: ${config.dataDir}, ${ms} ms)`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    // A second signal (Ctrl+C twice, or docker stop after a first) changes nothing: the stop under way finishes.
    if (stopping) return;
    stopping = true;
    console.log(`Pier is stopping (${signal}): open pages are told it is restarting; pods and shells keep running.`);
    // Every step of stopping is bounded; should one hang all the same, Pier still goes before
    // docker stop's 10 s are up, saying so (the database is safe: SQLite's journal survives it).
    setTimeout(() => {
      console.error(`Pier did not stop cleanly within ${STOP_DEADLINE_MS / 1000} s; exiting now.`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    await running.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // One failed promise nobody awaited must not take every session's connections down with the
  // server: it is logged loudly instead (the tests, which run Pier in-process, still fail on it).
  process.on("unhandledRejection", (reason) => {
    console.error(`pier: an unexpected error was not handled: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
} catch (error) {
  console.error(`Pier cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
