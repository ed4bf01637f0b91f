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
} catch (error) {
  console.error(`Pier cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
