import { EXACT_VERSION, type PackageVersion } from "../npm/registry.ts";

/** What Pier learns of a pod's machine to choose an agent's build for it. */
export interface PodPlatform {
  /** `uname -m`. */
  machine: string;
  /** The image's C library is musl (Alpine), whose programs need musl builds. */
  musl: boolean;
  /** The CPU has AVX2: some agents ship a "baseline" build for CPUs without it (opencode does). */
  avx2: boolean;
}

/** The CPU as npm names it (`cpu` of a package, `--cpu` of an installer), or null for one no agent is built for. */
export function npmCpu(machine: string): "x64" | "arm64" | null {
  return ({ x86_64: "x64", amd64: "x64", aarch64: "arm64", arm64: "arm64" } as const)[machine.trim()] ?? null;
}

/** The platform names a build for the pod may carry after its package's name, best first. */
export function platformSuffixes(platform: PodPlatform): string[] {
  const cpu = npmCpu(platform.machine);
  if (cpu === "arm64") return platform.musl ? ["linux-arm64-musl"] : ["linux-arm64", "linux-arm64-gnu"];
  if (cpu !== "x64") return [];
  // Without AVX2 a package's baseline build, where it has one; with it, the baseline only as a fallback.
  if (platform.musl) return platform.avx2 ? ["linux-x64-musl", "linux-x64-baseline-musl"] : ["linux-x64-baseline-musl", "linux-x64-musl"];
  return platform.avx2 ? ["linux-x64", "linux-x64-gnu", "linux-x64-baseline"] : ["linux-x64-baseline", "linux-x64", "linux-x64-gnu"];
}

const ALL_SUFFIXES = ["linux-x64", "linux-x64-gnu", "linux-x64-baseline", "linux-x64-musl", "linux-x64-baseline-musl", "linux-arm64", "linux-arm64-gnu", "linux-arm64-musl"];

/** A program's name, as Pier passes it to the pod's shell to look for the image's own copy. */
export const PROGRAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;

/**
 * The package's program (its `bin`): the only one, else the one named as the package; null when
 * it installs none or several of which none is named so.
 */
export function packageProgram(doc: PackageVersion): string | null {
  const names = Object.keys(doc.bin).filter((name) => PROGRAM_NAME.test(name));
  if (names.length === 1) return names[0]!;
  const own = doc.name.slice(doc.name.lastIndexOf("/") + 1);
  return names.includes(own) ? own : null;
}

/** A platform build of a package: which package, at which exact version. */
export interface NativeBuild {
  name: string;
  version: string;
}

/**
 * The package's own Linux builds, by platform: its optional dependencies named as the package or
 * as its program with a platform after it (`opencode-linux-x64` of `opencode-ai`, whose program is
 * `opencode`; `@zed-industries/codex-acp-linux-x64`), each at an exact version. Such a package is a
 * shim over a native program, and Pier supplies that program alone; a package with none is a Node
 * program (other optional dependencies, such as a native module's builds, are only its dependencies).
 */
export function nativeBuilds(doc: PackageVersion, program: string): Map<string, NativeBuild> {
  const scope = doc.name.startsWith("@") ? doc.name.slice(0, doc.name.indexOf("/") + 1) : "";
  const stems = new Set([doc.name, program, `${scope}${program}`]);
  const builds = new Map<string, NativeBuild>();
  for (const [name, version] of Object.entries(doc.optionalDependencies)) {
    if (!EXACT_VERSION.test(version)) continue;
    for (const suffix of ALL_SUFFIXES) {
      const stem = name.endsWith(`-${suffix}`) ? name.slice(0, -suffix.length - 1) : null;
      if (stem !== null && stems.has(stem)) builds.set(suffix, { name, version });
    }
  }
  return builds;
}

/** The build for the pod among the package's, or null when it has none for it. */
export function buildFor(builds: Map<string, NativeBuild>, platform: PodPlatform): NativeBuild | null {
  for (const suffix of platformSuffixes(platform)) {
    const build = builds.get(suffix);
    if (build) return build;
  }
  return null;
}

/**
 * Where a platform build keeps the program, inside its package: its own `bin` when it names just
 * one, else `bin/<program>` (opencode's builds name none). Null for a path that would leave the package.
 */
export function programInBuild(build: PackageVersion, program: string): string | null {
  const bins = Object.values(build.bin);
  return packagePath(bins.length === 1 ? bins[0]! : `bin/${program}`);
}

/** A path inside a package as Pier uses it (no leading `./`), or null for one that is absolute or climbs out. */
export function packagePath(path: string): string | null {
  const clean = path.replace(/^(\.\/)+/, "");
  if (clean === "" || clean.startsWith("/") || clean.split("/").some((part) => part === ".." || part === "." || part === "") || /[\x00-\x1f\x7f\\]/.test(clean)) return null;
  return clean;
}

/** How a pod's platform is said in a sentence: `x86_64`, `aarch64 with musl`. */
export function platformWords(platform: PodPlatform): string {
  return `${platform.machine}${platform.musl ? " with musl" : ""}`;
}
