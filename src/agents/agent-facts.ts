import { existsSync, readFileSync } from "node:fs";
import { type PodShell, podScript, readFields, runPodScript } from "../workspaces/pod-script.ts";
import type { PodPlatform } from "./agent-plan.ts";

const PROBE = `set -u\n${podScript("agent-probe.sh")}\nagent_facts "$@"\n`;

/** What Pier learns of a pod to start an agent there. */
export interface AgentFacts extends PodPlatform {
  /** Program name → the image's own copy (an absolute path, as a login shell finds it), for the names asked. */
  own: Map<string, string>;
  /** The image's own node's version (`v22.1.0`), if it has one and was asked. */
  nodeVersion: string | null;
}

/** Asks the pod (agent-probe.sh, one exec): its machine, and the image's own copies of `names`. */
export async function podAgentFacts(shell: PodShell, pierDir: string, names: string[]): Promise<AgentFacts> {
  const result = await runPodScript(shell, PROBE, [pierDir, ...names], { timeoutMs: 45_000, maxOutputBytes: 64 * 1024 });
  if (result.exitCode !== 0) throw new Error(`Pier could not ask the pod about its machine: ${result.stderr.trim().slice(0, 300) || `exit code ${result.exitCode}`}`);
  return readFacts(result.stdout, names);
}

function readFacts(output: string, names: string[]): AgentFacts {
  const fields = readFields(output);
  const machine = fields.get("machine");
  if (!machine) throw new Error("The pod did not say what machine it is.");
  const own = new Map<string, string>();
  for (const name of names) {
    const path = fields.get(`own.${name}`);
    if (path?.startsWith("/")) own.set(name, path);
  }
  return { machine, musl: fields.get("musl") === "1", avx2: fields.get("avx2") === "1", own, nodeVersion: fields.get("node.version") || null };
}

/** The local runtime's "pod" is this machine: its facts, and its own programs on the server's PATH. */
export async function hostAgentFacts(names: string[]): Promise<AgentFacts> {
  const machine = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch;
  // musl's loader alone makes a musl system: a glibc one may have musl installed beside it.
  const glibc = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"].some((path) => existsSync(path));
  const musl = !glibc && ["/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1"].some((path) => existsSync(path));
  const avx2 = /(^|\s)avx2(\s|$)/m.test(existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "");
  const own = new Map<string, string>();
  for (const name of names) {
    const path = Bun.which(name, { PATH: process.env.PATH ?? "" });
    if (path) own.set(name, path);
  }
  const node = own.get("node");
  const nodeVersion = node ? (await new Response(Bun.spawn([node, "--version"], { stdout: "pipe", stderr: "ignore" }).stdout).text()).trim() || null : null;
  return { machine, musl, avx2, own, nodeVersion };
}
