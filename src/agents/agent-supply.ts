import { join } from "node:path";
import { errorMessage } from "../infra/errors.ts";
import type { PackageVersion } from "../npm/registry.ts";
import { type PodKey, onPiersDisk } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { type AgentBuild, type AgentBuilds, type BuildAnswer, buildWords } from "./agent-builds.ts";
import { type AgentFacts, podAgentFacts } from "./agent-facts.ts";
import { buildFor, nativeBuilds, npmCpu, packagePath, platformWords, programInBuild } from "./agent-plan.ts";
import type { PackageDocs } from "./package-docs.ts";
import { placeTree } from "./place.ts";
import { type AgentDefinition, programEnv } from "./shipped.ts";

/**
 * The Node Pier supplies to run an agent that is a Node program, in a pod whose image has no node
 * (or one older than the agent asks): the registry's `node-linux-<cpu>` packages hold the official
 * Linux builds (glibc), one program each. Pinned to an LTS release.
 */
export const NODE_VERSION = "24.22.3";

/** How to start an agent in a pod over stdio: the argv there (its working directory is the engine's to set) and the environment it needs. */
export interface AgentCommand {
  command: string[];
  env: Record<string, string>;
}

/**
 * Why the agent cannot start in the pod now, in a sentence for the session page. `ready` settles
 * once a fetch under way ends (kept or failed): ask again then. Null when waiting will not help.
 */
export interface AgentUnavailable {
  unavailable: string;
  ready: Promise<void> | null;
}

export type AgentLaunch = AgentCommand | AgentUnavailable;

export interface AgentSupplyDeps {
  runtime: "docker" | "local";
  docs: PackageDocs;
  builds: AgentBuilds;
  /**
   * Docker: the pod's directory for Pier's agents, in its services directory (the server writes
   * it, the pod sees it read-only at the same path).
   */
  podDir(key: PodKey): string;
  /** Local runtime: this machine's facts (the server's own machine is the "pod"). */
  hostFacts(names: string[]): Promise<AgentFacts>;
}

/**
 * Agents in any image, as Claude Code is (src/claude-code/supply.ts): the image's own copy of an
 * agent's program (as a login shell finds it) wins; else Pier gives the pod its own, from the npm
 * registry at the agent's pinned version, fetched once into the tools directory and hard-linked
 * into the pod's services directory, which the pod mounts read-only; a pod on another Docker
 * engine, which sees nothing of Pier's disk, runs it from that engine's read-only tools volume,
 * copied there once per build. A package that is a shim over native platform builds (opencode,
 * Codex) is supplied as the build for the pod's machine, C library and CPU; a Node program is installed with its dependencies for the pod's CPU and run by the image's
 * own node when it is new enough for it, else by Pier's (glibc images only).
 *
 * Nothing waits for a fetch: until the build is kept, the answer is a sentence saying how far it
 * is, with a promise to wait on; the fetch goes on whoever listens.
 */
export class AgentSupply {
  constructor(private deps: AgentSupplyDeps) {}

  async launch(agent: AgentDefinition, key: PodKey, shell: PodShell): Promise<AgentLaunch> {
    const env = programEnv(agent.package);
    const wanted = agent.command !== null ? [agent.command] : [agent.program!, "node"];
    let facts: AgentFacts;
    try {
      facts = this.deps.runtime === "local" ? await this.deps.hostFacts(wanted) : await podAgentFacts(shell, this.deps.podDir(key), wanted);
    } catch (error) {
      return { unavailable: errorMessage(error), ready: null };
    }
    if (agent.command !== null) {
      const own = facts.own.get(agent.command);
      return own ? { command: [own, ...agent.args], env } : { unavailable: `This pod's image has no ${agent.command}, which ${agent.name} runs.`, ready: null };
    }
    const own = facts.own.get(agent.program!);
    if (own) return { command: [own, ...agent.args], env };
    try {
      const program = await this.piersProgram(agent, key, shell, facts);
      return "unavailable" in program ? program : { command: [...program.command, ...agent.args], env };
    } catch (error) {
      return { unavailable: `${agent.name} cannot be supplied to this pod: ${errorMessage(error)}`, ready: null };
    }
  }

  /** The argv of Pier's own copy of the agent's program in the pod (fetched and placed first), or why not yet. */
  private async piersProgram(agent: AgentDefinition, key: PodKey, shell: PodShell, facts: AgentFacts): Promise<AgentCommand | AgentUnavailable> {
    const name = agent.package!;
    const version = agent.version!;
    const program = agent.program!;
    const doc = await this.deps.docs.version(name, version);
    if (!doc) return { unavailable: `The npm registry has no ${name} ${version}, which ${agent.name} is.`, ready: null };
    const cpu = npmCpu(facts.machine);
    const builds = nativeBuilds(doc, program);
    if (builds.size > 0) {
      const native = buildFor(builds, facts);
      if (!native) return { unavailable: `${agent.name} has no build for this pod's machine (${platformWords(facts)}).`, ready: null };
      const buildDoc = await this.deps.docs.version(native.name, native.version);
      if (!buildDoc) return { unavailable: `The npm registry has no ${native.name} ${native.version}, the build of ${agent.name} for this pod's machine.`, ready: null };
      const inside = programInBuild(buildDoc, program);
      if (!inside) return { unavailable: `${native.name} ${native.version} names its program with a path outside its package.`, ready: null };
      const placed = await this.need(key, shell, { kind: "package", doc: buildDoc, label: `${agent.name} ${version}`, programs: [inside] });
      return "unavailable" in placed ? placed : { command: [join(placed.dir, inside)], env: {} };
    }
    // A Node program: installed for the pod's CPU, run by a node.
    const script = packagePath(doc.bin[program] ?? "");
    if (!script) return { unavailable: `${name} ${version} names its program with a path outside its package.`, ready: null };
    if (!cpu || facts.musl) return { unavailable: `${agent.name} is a Node program, and Pier supplies those to glibc images on x86_64 or aarch64 only; this pod is ${platformWords(facts)}. Install ${name} in the image: its own ${program} is used then.`, ready: null };
    // Both fetched at once, when both are needed (each fetch starts before need's first wait).
    const treeNeeded = this.need(key, shell, { kind: "install", doc, cpu, label: `${agent.name} ${version} with its dependencies` });
    const node = await this.nodeFor(doc, facts, key, shell, cpu);
    const tree = await treeNeeded;
    if ("unavailable" in tree || "unavailable" in node) return notYet([tree, node]);
    return { command: [node.path, join(tree.dir, "node_modules", name, script)], env: {} };
  }

  /** The image's own node when it runs the package (its `engines.node`), else Pier's (placed first), or why not yet. */
  private async nodeFor(doc: PackageVersion, facts: AgentFacts, key: PodKey, shell: PodShell, cpu: "x64" | "arm64"): Promise<{ path: string } | AgentUnavailable> {
    const own = facts.own.get("node");
    const version = facts.nodeVersion?.replace(/^v/, "") ?? null;
    if (own && version && (doc.node === null || safeSatisfies(version, doc.node))) return { path: own };
    const name = `node-linux-${cpu}`;
    const nodeDoc = await this.deps.docs.version(name, NODE_VERSION);
    if (!nodeDoc) return { unavailable: `The npm registry has no ${name} ${NODE_VERSION}, the Node.js Pier supplies.`, ready: null };
    const placed = await this.need(key, shell, { kind: "package", doc: nodeDoc, label: `Node.js ${NODE_VERSION}`, programs: ["bin/node"] });
    return "unavailable" in placed ? placed : { path: join(placed.dir, "bin", "node") };
  }

  /** The build placed in the pod (or, on the local runtime, where it is kept), or how it stands. */
  private async need(key: PodKey, shell: PodShell, build: AgentBuild): Promise<{ dir: string } | AgentUnavailable> {
    const answer: BuildAnswer = this.deps.builds.need(build);
    if ("status" in answer) {
      return {
        unavailable: buildWords(answer.status) ?? `Fetching ${build.label}…`,
        ready: answer.status.state === "failed" ? null : answer.done.then(() => {}, () => {}),
      };
    }
    if (this.deps.runtime === "local") return { dir: answer.ready };
    if (onPiersDisk(shell.pod)) return { dir: placeTree(answer.ready, join(this.deps.podDir(key), this.deps.builds.key(build).replace("/", "-"))) };
    const { runtime, pod } = shell;
    if (!runtime.placeTool) throw new Error("This pod's runtime cannot give it Pier's tools.");
    return { dir: await runtime.placeTool(pod, toolName(this.deps.builds.key(build)), answer.ready) };
  }
}

/**
 * A build's name in an engine's tools volume, whose names take no `/` or `@`: its key with `-` for
 * its `/` and `+` for each `@`. Unambiguous, as npm's names hold no `+`: `agent-packages-+scope+name+1.0.0` is `@scope/name` 1.0.0.
 */
function toolName(buildKey: string): string {
  return `agent-${buildKey.replace("/", "-").replaceAll("@", "+")}`;
}

/** What is not there yet of several things, said together; waiting helps only if it helps for each. */
function notYet(parts: Array<{ dir: string } | { path: string } | AgentUnavailable>): AgentUnavailable {
  const missing = parts.filter((part): part is AgentUnavailable => "unavailable" in part);
  const ready = missing.every((part) => part.ready !== null) ? Promise.all(missing.map((part) => part.ready)).then(() => {}) : null;
  return { unavailable: missing.map((part) => part.unavailable).join(" "), ready };
}

/** Whether a version is in a range, a range npm would not read counting as no. */
function safeSatisfies(version: string, range: string): boolean {
  try {
    return Bun.semver.satisfies(version, range);
  } catch {
    return false;
  }
}
