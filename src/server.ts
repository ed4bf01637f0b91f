import type { Config } from "./infra/config.ts";
import { createApp } from "./http/app.tsx";
import { prepareAssets } from "./http/assets.ts";
import { openPier, type Pier } from "./pier.ts";

export interface RunningServer {
  pier: Pier;
  url: string;
  stop(): Promise<void>;
}

/** Opens the data dir, builds the app and listens. Used by main and by the tests alike. */
export async function startServer(config: Config): Promise<RunningServer> {
  await prepareAssets();
  const pier = await openPier(config);
  const app = createApp(pier).listen({ port: config.port, hostname: config.host });
  const server = app.server!;
  pier.listening(server.port!);
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  return {
    pier,
    url: `http://${shownHost}:${server.port}`,
    async stop() {
      await app.stop(true);
      await pier.close();
    },
  };
}
