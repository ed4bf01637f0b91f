import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";

/** Compilers tried in turn: musl's wrapper gives the smallest static program, a plain cc a static glibc one. */
const COMPILERS = ["musl-gcc", "cc", "gcc"];

export interface StaticProgramDeps {
  /** The program's C source (one file, libc only); its name without `.c` is the program's name. */
  source: string;
  /** Where built programs are kept, one per source and machine; only the server writes it. */
  toolsDir: string;
  /** A ready-made build to use instead, and the variable that named it (the Docker image builds its programs in a stage of its own). */
  prebuilt?: { path: string; variable: string };
  /** Told once, with the reason, when the program cannot be had: what goes without it. */
  unavailable?: (reason: string) => void;
}

/**
 * A small C program of Pier's that it places into pods (the terminal holder, the socket client),
 * compiled once per source and machine into the tools directory, or taken ready-made. The program
 * is static, so it runs in any Linux pod of the server's machine type, whatever the image's C
 * library. Every such program answers `<name> version` with a line starting `<name> `, which is how
 * a build (and a pod) is known to run it.
 */
export class StaticProgram {
  readonly name: string;
  private built: Promise<string | null> | null = null;

  constructor(private deps: StaticProgramDeps) {
    this.name = basename(deps.source, ".c");
  }

  /** The program's path on the server, or null when this machine cannot build it. */
  binary(): Promise<string | null> {
    this.built ??= this.build().catch((error: Error) => {
      this.deps.unavailable?.(error.message);
      return null;
    });
    return this.built;
  }

  private async build(): Promise<string> {
    const { prebuilt, source, toolsDir } = this.deps;
    if (prebuilt) {
      if (!(await runs(prebuilt.path, this.name))) throw new Error(`${prebuilt.variable} (${prebuilt.path}) does not run here.`);
      return prebuilt.path;
    }
    const dir = join(toolsDir, this.name, `${process.arch}-${Bun.hash(readFileSync(source)).toString(16)}`);
    const target = join(dir, this.name);
    if (existsSync(target) && (await runs(target, this.name))) return target;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const failures: string[] = [];
    for (const compiler of COMPILERS) {
      if (!Bun.which(compiler)) continue;
      // Each build writes its own file and renames it into place, so two Piers sharing the directory never see half a program.
      const temporary = `${target}.${process.pid}.${compiler}`;
      const run = Bun.spawn([compiler, "-static", "-Os", "-s", "-o", temporary, source], { stdout: "ignore", stderr: "pipe" });
      const [exitCode, stderr] = await Promise.all([run.exited, new Response(run.stderr).text()]);
      if (exitCode === 0 && (await runs(temporary, this.name))) {
        renameSync(temporary, target);
        return target;
      }
      rmSync(temporary, { force: true });
      failures.push(`${compiler}: ${stderr.trim().split("\n").slice(-1)[0] || `exit ${exitCode}`}`);
    }
    throw new Error(
      failures.length ? `${this.name} did not build (${failures.join("; ")}).` : `no C compiler to build ${this.name} (install musl-tools, or gcc).`,
    );
  }
}

const placed = new Set<string>();

/**
 * Copies a program into `dir` (a pod's read-only services directory) under `name`, once per server
 * run, replacing any older copy in one step (a running one keeps the program it started with).
 */
export function placeProgram(binary: string, dir: string, name: string): string {
  const target = join(dir, name);
  if (placed.has(`${binary}\0${target}`)) return target;
  const temporary = `${target}.${process.pid}.${crypto.randomUUID()}`;
  copyFileSync(binary, temporary);
  chmodSync(temporary, 0o755);
  renameSync(temporary, target);
  placed.add(`${binary}\0${target}`);
  return target;
}

async function runs(path: string, name: string): Promise<boolean> {
  const run = Bun.spawn([path, "version"], { stdout: "pipe", stderr: "ignore" });
  const [exitCode, stdout] = await Promise.all([run.exited, new Response(run.stdout).text()]);
  return exitCode === 0 && stdout.startsWith(`${name} `);
}
