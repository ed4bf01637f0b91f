import { join } from "node:path";
import { StaticProgram, placeProgram } from "../../infra/static-program.ts";

/**
 * Pier's terminal holder (pier-pty.c), compiled once per source and machine into a directory only
 * the server writes, or taken ready-made from `PIER_PTY_BINARY` (the Docker image builds it). Where
 * no compiler is found, terminals carry their output through tmux's control mode instead (slower,
 * and said once at start).
 */
export class PtyHolderBuild extends StaticProgram {
  constructor(deps: { toolsDir: string; prebuilt?: string; log?: (line: string) => void }) {
    super({
      source: join(import.meta.dir, "pier-pty.c"),
      toolsDir: deps.toolsDir,
      prebuilt: deps.prebuilt ? { path: deps.prebuilt, variable: "PIER_PTY_BINARY" } : undefined,
      unavailable: (reason) => deps.log?.(`pier: terminals carry their output through tmux, which is slower: ${reason}`),
    });
  }
}

/** Copies the holder into `dir` (a pod's read-only services directory) as `pier-pty`, once per server run. */
export function placeHolder(binary: string, dir: string): string {
  return placeProgram(binary, dir, "pier-pty");
}
