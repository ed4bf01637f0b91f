import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PackageVersion } from "../npm/registry.ts";
import { normalizeModes } from "../npm/unpack.ts";

/** An install that takes longer is stopped: the biggest agents (Claude Code's adapter, some 400 MB) take a minute or two on a slow line. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** What is kept of the installer's output, for the sentence when it fails. */
const OUTPUT_KEPT = 4000;

export interface InstallOptions {
  registry: string;
  doc: PackageVersion;
  /** The pod's CPU: which of the dependencies' platform builds are installed. */
  cpu: "x64" | "arm64";
  /** A new directory to install into: it ends up holding `node_modules`. */
  dir: string;
  /** The installer's own cache of downloads (a directory only the server writes). */
  cacheDir: string;
}

/**
 * Installs a Node program with its dependencies into `dir`, with Bun's own installer (the runtime
 * Pier runs on; hand-resolving npm's dependency ranges and platform builds is what an installer is
 * for): the exact version asked, from Pier's registry only, each package checked against the
 * registry's integrity hash, no install script run (of any package), no development dependencies,
 * a flat `node_modules` of plain directories, and of the dependencies' platform builds only those
 * for Linux on the pod's CPU. Every file is then 0644 or 0755 (no set-user-id bit reaches a pod).
 */
export async function installPackage(options: InstallOptions): Promise<void> {
  const { doc, dir } = options;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "pier-agent", private: true, dependencies: { [doc.name]: doc.version } }));
  const proc = Bun.spawn(
    [
      process.execPath,
      "install",
      "--production",
      "--ignore-scripts",
      "--no-save",
      "--no-progress",
      "--linker=hoisted",
      "--backend=copyfile",
      "--os=linux",
      `--cpu=${options.cpu}`,
      `--registry=${options.registry}`,
      `--cache-dir=${options.cacheDir}`,
    ],
    { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
  );
  const timer = setTimeout(() => proc.kill(), INSTALL_TIMEOUT_MS);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).finally(() => clearTimeout(timer));
  if (code !== 0) {
    const said = `${err}\n${out}`.split("\n").map((line) => line.trim()).filter(Boolean).filter((line) => /error/i.test(line)).join(" ").slice(0, OUTPUT_KEPT);
    throw new Error(`Installing ${doc.name} ${doc.version} with its dependencies failed (${proc.signalCode ? "stopped after 10 minutes" : `exit code ${code}`})${said ? `: ${said}` : "."}`);
  }
  if (!existsSync(join(dir, "node_modules", doc.name, "package.json"))) throw new Error(`Installing ${doc.name} ${doc.version} left no ${doc.name} in node_modules.`);
  normalizeModes(join(dir, "node_modules"));
}
