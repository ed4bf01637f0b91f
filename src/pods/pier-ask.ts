import { join } from "node:path";
import { StaticProgram } from "../infra/static-program.ts";

/**
 * Pier's client for a pod's socket (pier-ask.c), which the helpers in the pod's services directory
 * ask Pier with, so they need nothing from the image but a shell. Compiled once per source and
 * machine into the tools directory, or taken ready-made from `PIER_ASK_BINARY` (the Docker image
 * builds it). Where it cannot be had, the helpers use the image's curl, and say so where it has none.
 */
export class PierAskBuild extends StaticProgram {
  constructor(deps: { toolsDir: string; prebuilt?: string; log?: (line: string) => void }) {
    super({
      source: join(import.meta.dir, "pier-ask.c"),
      toolsDir: deps.toolsDir,
      prebuilt: deps.prebuilt ? { path: deps.prebuilt, variable: "PIER_ASK_BINARY" } : undefined,
      unavailable: (reason) => deps.log?.(`pier: the helpers in pods ask Pier with the image's curl, which many images lack: ${reason}`),
    });
  }
}
