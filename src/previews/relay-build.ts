import { join } from "node:path";
import { StaticProgram } from "../infra/static-program.ts";

/**
 * The relay Pier places into each pod (pier-relay.c), which carries previews' connections to the
 * ports listening there. Compiled once per source and machine into the tools directory, or taken
 * ready-made from `PIER_RELAY_BINARY` (the Docker image builds it). Where it cannot be had, pods'
 * ports cannot be previewed (said once, here, and to whoever asks for a preview).
 */
export class RelayBuild extends StaticProgram {
  constructor(deps: { toolsDir: string; prebuilt?: string; log?: (line: string) => void }) {
    super({
      source: join(import.meta.dir, "pier-relay.c"),
      toolsDir: deps.toolsDir,
      prebuilt: deps.prebuilt ? { path: deps.prebuilt, variable: "PIER_RELAY_BINARY" } : undefined,
      unavailable: (reason) => deps.log?.(`pier: web app previews cannot reach pods' ports without Pier's relay: ${reason}`),
    });
  }
}
