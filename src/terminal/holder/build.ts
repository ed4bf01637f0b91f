import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The holder's source, next to this file. */
const SOURCE = join(import.meta.dir, "pier-pty.c");

/** Compilers tried in turn: musl's wrapper gives the smallest static program, a plain cc a static glibc one. */
const COMPILERS = ["musl-gcc", "cc", "gcc"];

/**
 * Pier's terminal holder (pier-pty.c), compiled once per source and machine into a directory only
 * the server writes, or taken ready-made from `PIER_PTY_BINARY` (the Docker image builds it). The
 * program is static, so Pier can place it into any Linux pod of the server's architecture; where
 * no compiler is found, terminals carry their output through tmux's control mode instead (slower,
 * and said once at start).
 */
export class PtyHolderBuild {
  private built: Promise<string | null> | null = null;

  constructor(private deps: { toolsDir: string; prebuilt?: string; log?: (line: string) => void }) {}

  /** The program's path on the server, or null when this machine cannot build it. */
  binary(): Promise<string | null> {
    this.built ??= this.build().catch((error: Error) => {
      this.deps.log?.(`pier: terminals carry their output through tmux, which is slower: ${error.message}`);
      return null;
    });
    return this.built;
  }

  private async build(): Promise<string> {
    if (this.deps.prebuilt) {
      if (!(await works(this.deps.prebuilt))) throw new Error(`PIER_PTY_BINARY (${this.deps.prebuilt}) does not run here.`);
      return this.deps.prebuilt;
    }
    const source = readFileSync(SOURCE);
    const dir = join(this.deps.toolsDir, "pier-pty", `${process.arch}-${Bun.hash(source).toString(16)}`);
    const target = join(dir, "pier-pty");
    if (existsSync(target) && (await works(target))) return target;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const failures: string[] = [];
    for (const compiler of COMPILERS) {
      if (!Bun.which(compiler)) continue;
      // Each build writes its own file and renames it into place, so two Piers sharing the directory never see half a program.
      const temporary = `${target}.${process.pid}.${compiler}`;
      const run = Bun.spawn([compiler, "-static", "-Os", "-s", "-o", temporary, SOURCE], { stdout: "ignore", stderr: "pipe" });
      const [exitCode, stderr] = await Promise.all([run.exited, new Response(run.stderr).text()]);
      if (exitCode === 0 && (await works(temporary))) {
        renameSync(temporary, target);
        return target;
      }
      rmSync(temporary, { force: true });
      failures.push(`${compiler}: ${stderr.trim().split("\n").slice(-1)[0] || `exit ${exitCode}`}`);
    }
    throw new Error(
      failures.length
        ? `pier-pty did not build (${failures.join("; ")}).`
        : "no C compiler to build pier-pty (install musl-tools, or gcc).",
    );
  }
}

const placed = new Set<string>();

/**
 * Copies the holder to `dir` (a pod's read-only services directory) as `pier-pty`, once per server
 * run, replacing any older copy in one step (a running holder keeps the program it started with).
 */
export function placeHolder(binary: string, dir: string): string {
  const target = join(dir, "pier-pty");
  if (placed.has(`${binary}\0${target}`)) return target;
  const temporary = `${target}.${process.pid}.${crypto.randomUUID()}`;
  copyFileSync(binary, temporary);
  chmodSync(temporary, 0o755);
  renameSync(temporary, target);
  placed.add(`${binary}\0${target}`);
  return target;
}

async function works(path: string): Promise<boolean> {
  const run = Bun.spawn([path, "version"], { stdout: "pipe", stderr: "ignore" });
  const [exitCode, stdout] = await Promise.all([run.exited, new Response(run.stdout).text()]);
  return exitCode === 0 && stdout.startsWith("pier-pty ");
}
