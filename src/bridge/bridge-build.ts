import { join } from "node:path";
import { StaticProgram } from "../infra/static-program.ts";

/**
 * The bridge Pier starts in each pod on another Docker engine (pier-bridge.c), which carries the
 * pod's connections to Pier's sockets over the engine's exec stream. Compiled once per source and
 * machine into the tools directory, or taken ready-made from `PIER_BRIDGE_BINARY` (the Docker
 * image builds it). Where it cannot be had, pods on other engines cannot reach Pier (said once,
 * here, and in the log for each pod whose bridge does not start).
 */
export class BridgeBuild extends StaticProgram {
  constructor(deps: { toolsDir: string; prebuilt?: string; log?: (line: string) => void }) {
    super({
      source: join(import.meta.dir, "pier-bridge.c"),
      toolsDir: deps.toolsDir,
      prebuilt: deps.prebuilt ? { path: deps.prebuilt, variable: "PIER_BRIDGE_BINARY" } : undefined,
      unavailable: (reason) => deps.log?.(`pier: pods on other Docker engines cannot reach Pier without its bridge: ${reason}`),
    });
  }
}
