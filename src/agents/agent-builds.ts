import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { EventBus } from "../infra/events.ts";
import { type FetchState, Fetches, byteFraction } from "../npm/fetches.ts";
import { type PackageVersion, downloadTarball } from "../npm/registry.ts";
import { unpackPackage } from "../npm/unpack.ts";
import { installPackage } from "./install.ts";
import { packageDirName } from "./package-docs.ts";

declare module "../infra/events.ts" {
  interface PierEvents {
    /** One of the agents' packages Pier keeps got further, became ready or failed (topic: its key, see AgentBuilds). */
    "agents.build": AgentBuildStatus;
  }
}

/** Where one kept package stands, as the session page says it. */
export type AgentBuildStatus = { key: string; label: string } & (FetchState | { state: "ready" });

export interface AgentBuildsDeps {
  /** Where packages are kept (PIER_TOOLS_DIR/agents); only the server writes it. */
  dir: string;
  registry: string;
  bus: EventBus;
  retryAfterMs?: number;
}

/** One thing Pier keeps for agents: a package's files, or a Node program installed with its dependencies for a CPU. */
export type AgentBuild = { kind: "package"; doc: PackageVersion; label: string; programs: string[] } | { kind: "install"; doc: PackageVersion; cpu: "x64" | "arm64"; label: string };

/** A build is either kept (its directory) or not yet (how it stands, and the fetch to wait for). */
export type BuildAnswer = { ready: string } | { status: AgentBuildStatus; done: Promise<string> };

/**
 * The packages Pier keeps for agents, in the tools directory, each fetched once and kept (a pod's
 * copy is hard links to it, so a pod never depends on it staying): a native program's platform
 * package (opencode's, Codex's, Node's own) unpacked from its tarball after the integrity check;
 * a Node program installed with its dependencies by Bun's own installer (which checks each
 * package's integrity the same way), with no install script run, for the pod's CPU. Everyone
 * asking meanwhile shares one fetch, whose progress is published ("agents.build").
 */
export class AgentBuilds {
  private fetches: Fetches;
  private labels = new Map<string, string>();

  constructor(private deps: AgentBuildsDeps) {
    this.fetches = new Fetches({
      retryAfterMs: deps.retryAfterMs,
      onChange: (key, state) => this.deps.bus.publish("agents.build", key, { key, label: this.labels.get(key) ?? key, ...(state ?? { state: "ready" as const }) }),
    });
  }

  /** The build's name, which is also where it is kept under the directory: `packages/<name>@<version>`, `installs/<name>@<version>-linux-<cpu>`. */
  key(build: AgentBuild): string {
    const name = `${packageDirName(build.doc.name)}@${build.doc.version}`;
    return build.kind === "package" ? `packages/${name}` : `installs/${name}-linux-${build.cpu}`;
  }

  /** Where the build is (or will be) kept. */
  path(build: AgentBuild): string {
    return join(this.deps.dir, this.key(build));
  }

  /** The kept build's directory, or how it stands now that its fetch is under way (started here if need be). */
  need(build: AgentBuild): BuildAnswer {
    const key = this.key(build);
    const path = this.path(build);
    if (existsSync(path)) return { ready: path };
    this.labels.set(key, build.label);
    const done = this.fetches.run(key, (progress) => this.fetch(build, path, progress), (reason) => `${build.label} could not be fetched: ${reason}`);
    // Whoever asks may never wait for it; its failure is said by its status.
    done.catch(() => {});
    const state = this.fetches.state(key);
    return { status: { key, label: build.label, ...(state ?? { state: "fetching", fraction: null }) }, done };
  }

  private async fetch(build: AgentBuild, path: string, progress: (fraction: number | null) => void): Promise<string> {
    const parent = join(path, "..");
    mkdirSync(parent, { recursive: true, mode: 0o755 });
    const work = mkdtempSync(join(parent, ".fetch-"));
    try {
      const files = join(work, "files");
      if (build.kind === "package") {
        const tarball = join(work, "package.tgz");
        await downloadTarball(this.deps.registry, build.doc, tarball, { label: "agents' packages", onProgress: (received, total) => progress(byteFraction(received, total)) });
        mkdirSync(files, { mode: 0o755 });
        await unpackPackage(tarball, files, `${build.doc.name} ${build.doc.version}`, "coding agent", build.programs);
      } else {
        // The installer's cache goes with the work directory: the kept install is all that is needed after.
        await installPackage({ registry: this.deps.registry, doc: build.doc, cpu: build.cpu, dir: files, cacheDir: join(work, "cache") });
      }
      // Whole or not at all; another Pier sharing the tools directory may have kept it meanwhile.
      try {
        renameSync(files, path);
      } catch (error) {
        if (!existsSync(path)) throw error;
      }
      return path;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

/** A build's state as the session page says it; null once it is ready. */
export function buildWords(status: AgentBuildStatus): string | null {
  if (status.state === "ready") return null;
  if (status.state === "failed") return `${status.error} Pier tries again when it is next needed.`;
  const percent = status.fraction === null ? "" : ` ${Math.floor(status.fraction * 100)} %`;
  return `Fetching ${status.label}…${percent}`;
}
