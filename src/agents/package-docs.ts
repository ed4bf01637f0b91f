import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXACT_VERSION, MAX_PACKAGE_NAME, PACKAGE_NAME, type PackageVersion, hasPackage, readDocument, readVersion } from "../npm/registry.ts";

/** How long "the registry has no such version" is believed before it is asked again. */
const MISSING_FOR_MS = 5 * 60_000;

/**
 * The registry's documents of agents' packages, kept: a published version never changes (npm
 * refuses to publish one again), so each is asked for once and kept on disk in the tools
 * directory (which only the server writes); a version the registry does not have is believed for
 * a few minutes. Saving an agent, choosing a pod's build and fetching it all read from here.
 * Documents are kept per registry (another registry's tarball URLs are on its own origin).
 */
export class PackageDocs {
  private missing = new Map<string, number>();
  private dir: string;

  constructor(
    private registry: string,
    /** Where documents are kept (PIER_TOOLS_DIR/agents/registry). */
    dir: string,
  ) {
    this.dir = join(dir, createHash("sha256").update(registry).digest("hex").slice(0, 12));
  }

  get registryUrl(): string {
    return this.registry;
  }

  /** The version's document, or null when the registry has none; throws when the registry cannot be asked. */
  async version(name: string, version: string): Promise<PackageVersion | null> {
    // Names also come from the registry (a package's platform builds): only a real name and version become a path.
    if (!isPackageName(name) || !EXACT_VERSION.test(version)) throw new Error(`"${name}" ${version} is not an npm package name with an exact version.`);
    const file = join(this.dir, `${packageDirName(name)}@${version}.json`);
    if (existsSync(file)) return readDocument(JSON.parse(readFileSync(file, "utf8")), name, version);
    const key = `${name}@${version}`;
    if (Date.now() - (this.missing.get(key) ?? 0) < MISSING_FOR_MS) return null;
    const doc = await readVersion(this.registry, name, version, AbortSignal.timeout(30_000));
    if (!doc) {
      this.missing.set(key, Date.now());
      return null;
    }
    this.missing.delete(key);
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    // Whole or not at all, as every file in the tools directory.
    const temp = `${file}.${process.pid}-${Date.now()}`;
    writeFileSync(temp, JSON.stringify(keptDocument(doc)), { mode: 0o644 });
    renameSync(temp, file);
    return doc;
  }

  /** Whether the registry has the package at all. */
  hasPackage(name: string): Promise<boolean> {
    return hasPackage(this.registry, name, AbortSignal.timeout(30_000));
  }
}

export function isPackageName(name: string): boolean {
  return name.length <= MAX_PACKAGE_NAME && PACKAGE_NAME.test(name);
}

/** A package's name as one path segment (a scope's slash becomes `+`, which npm names never hold). */
export function packageDirName(name: string): string {
  return name.replace("/", "+");
}

/** What is kept of a document: the registry's own fields, so readDocument reads it back as it read the original. */
function keptDocument(doc: PackageVersion): Record<string, unknown> {
  return {
    name: doc.name,
    version: doc.version,
    bin: doc.bin,
    dependencies: doc.dependencies,
    optionalDependencies: doc.optionalDependencies,
    peerDependencies: doc.peerDependencies,
    engines: doc.node === null ? {} : { node: doc.node },
    dist: { tarball: doc.tarball, integrity: `sha512-${doc.integrity}` },
  };
}
