import { ConfigError, loadConfig } from "./infra/config.ts";
import { startServer } from "./server.ts";

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
  const shutdown = async () => {
    await running.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  // One failed promise nobody awaited must not take every session's connections down with the
  // server: it is logged loudly instead (the tests, which run Pier in-process, still fail on it).
  process.on("unhandledRejection", (reason) => {
    console.error(`pier: an unexpected error was not handled: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
} catch (error) {
  console.error(`Pier cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
