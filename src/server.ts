import type { Config } from "./infra/config.ts";
import { createApp } from "./http/app.tsx";
import { prepareAssets } from "./http/assets.ts";
import { listenForPreviews } from "./http/preview-listener.ts";
import { openPier, type OpenedPier } from "./pier.ts";

/** How long requests under way get to finish when Pier stops, before their connections are closed. */
const DRAIN_MS = 2000;

export interface RunningServer {
  pier: OpenedPier;
  url: string;
  /** The port web app previews are served on (see preview-listener.ts). */
  previewPort: number;
  stop(): Promise<void>;
}

/** Opens the data dir, builds the app and listens. Used by main and by the tests alike. */
export async function startServer(config: Config): Promise<RunningServer> {
  await prepareAssets();
  const pier = await openPier(config);
  const app = createApp(pier).listen({ port: config.port, hostname: config.host });
  const server = app.server!;
  pier.listening(server.port!);
  const previews = await listenForPreviews(
    { access: pier.previews.access, proxy: pier.previewProxy, trustedProxies: config.trustedProxies, secure: config.cookieSecure },
    { port: config.previewPort, host: config.host },
  );
  pier.previewListening(previews.port);
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  return {
    pier,
    url: `http://${shownHost}:${server.port}`,
    previewPort: previews.port,
    async stop() {
      // Nothing new is taken from here on; requests under way finish (see DRAIN_MS).
      const drained = server.stop(false);
      await pier.stopSessions();
      await Promise.race([drained, Bun.sleep(DRAIN_MS)]);
      await app.stop(true);
      await previews.close();
      await pier.close();
    },
  };
}
