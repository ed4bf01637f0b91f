/**
 * Pier's one door to the npm registry (PIER_NPM_REGISTRY): a version's document, and its tarball
 * downloaded and checked against the registry's own sha512 integrity hash. Claude Code's builds and
 * the agents Pier supplies to pods both come through here.
 *
 * What the registry says is not taken on trust beyond that hash: a tarball must be on the
 * registry's own origin (no file:, no other host, no redirect away), so a registry document can
 * never point Pier's download at a file of the server or at another machine.
 */
import { createHash } from "node:crypto";

/** A version as npm writes it, exactly (no range, no tag): 1.18.32, or with a pre-release tag. Nothing that could leave a path. */
export const EXACT_VERSION = /^\d{1,4}\.\d{1,4}\.\d{1,6}(-[0-9A-Za-z.]{1,40})?$/;

/** A package name as npm allows new ones: lowercase, an optional @scope, no leading dot or underscore. */
export const PACKAGE_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/;
export const MAX_PACKAGE_NAME = 214;

/** What Pier reads of one version's document. */
export interface PackageVersion {
  name: string;
  version: string;
  /** Program name → its path in the package (a bare string `bin` is named after the package, as npm does). */
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  /** The Node versions it says it runs on (`engines.node`), if it says. */
  node: string | null;
  tarball: string;
  /** The sha512 hash of the tarball, base64 (from `dist.integrity`). */
  integrity: string;
}

/** The version's document, or null when the registry has no such version (or no such package). */
export async function readVersion(registry: string, name: string, version: string, signal?: AbortSignal): Promise<PackageVersion | null> {
  const res = await fetch(`${base(registry)}/${encodeName(name)}/${encodeURIComponent(version)}`, { signal, headers: { accept: "application/json" } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`The npm registry answered ${res.status} for ${name} ${version}.`);
  return readDocument(await res.json(), name, version);
}

/** Whether the registry has the package at all (asked for its `latest` version, a small document). */
export async function hasPackage(registry: string, name: string, signal?: AbortSignal): Promise<boolean> {
  const res = await fetch(`${base(registry)}/${encodeName(name)}/latest`, { signal, headers: { accept: "application/json" } });
  if (res.status === 404) return false;
  if (!res.ok) throw new Error(`The npm registry answered ${res.status} for ${name}.`);
  return true;
}

/** The document's fields Pier uses, or a sentence when it has no tarball with a sha512 integrity. */
export function readDocument(json: unknown, name: string, version: string): PackageVersion {
  const doc = (json && typeof json === "object" ? json : {}) as Record<string, unknown>;
  const dist = (doc.dist && typeof doc.dist === "object" ? doc.dist : {}) as { tarball?: unknown; integrity?: unknown };
  const integrity = typeof dist.integrity === "string" ? dist.integrity.match(/^sha512-([A-Za-z0-9+/=]+)$/)?.[1] : undefined;
  if (typeof dist.tarball !== "string" || !integrity) throw new Error(`The npm registry gave no tarball with a sha512 integrity for ${name} ${version}.`);
  const engines = (doc.engines && typeof doc.engines === "object" ? doc.engines : {}) as { node?: unknown };
  return {
    name,
    version,
    bin: readBin(doc.bin, name),
    dependencies: readStrings(doc.dependencies),
    optionalDependencies: readStrings(doc.optionalDependencies),
    peerDependencies: readStrings(doc.peerDependencies),
    node: typeof engines.node === "string" ? engines.node : null,
    tarball: dist.tarball,
    integrity,
  };
}

export interface DownloadOptions {
  /** Told how far the download is, in bytes. */
  onProgress?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
  /** What Pier takes from the registry, for the sentences (e.g. "Claude Code"). */
  label: string;
}

/** Downloads the version's tarball into `file`, from the registry's own origin only, and checks it against its integrity hash. */
export async function downloadTarball(registry: string, doc: PackageVersion, file: string, options: DownloadOptions): Promise<void> {
  const url = tarballOnRegistry(doc.tarball, registry, `${doc.name} ${doc.version}`, options.label);
  // A redirect could lead off the registry's origin: the registry must serve its tarballs itself.
  const res = await fetch(url, { signal: options.signal, redirect: "manual" });
  if (res.status >= 300 && res.status < 400) throw new Error(`The npm registry redirected the download of ${url} (${res.status}); Pier takes ${options.label} only from the registry itself.`);
  if (!res.ok || !res.body) throw new Error(`Downloading ${url} failed: ${res.status}.`);
  const total = Number(res.headers.get("content-length")) || null;
  const hash = createHash("sha512");
  const sink = Bun.file(file).writer();
  let received = 0;
  let told = 0;
  const reader = res.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    const chunk = read.value;
    hash.update(chunk);
    sink.write(chunk);
    received += chunk.byteLength;
    if (received - told >= 4 << 20 || received === total) {
      told = received;
      options.onProgress?.(received, total);
    }
  }
  await sink.end();
  if (hash.digest("base64") !== doc.integrity) throw new Error(`${url} does not match the integrity hash the npm registry gives for it.`);
}

/**
 * The tarball's URL, if it is on the registry's own origin (scheme, host and port): a registry
 * that names a file: URL, or another host, for its tarball is not followed there.
 */
function tarballOnRegistry(tarball: string, registry: string, what: string, label: string): string {
  const own = new URL(registry).origin;
  let url: URL;
  try {
    url = new URL(tarball);
  } catch {
    throw new Error(`The npm registry gave no URL for the tarball of ${what}.`);
  }
  const web = url.protocol === "https:" || url.protocol === "http:";
  if (!web || url.origin !== own) {
    throw new Error(`The npm registry gave ${web ? url.origin : `a ${url.protocol} URL`} as where ${what} is; Pier takes ${label} only from the registry's own origin, ${own}.`);
  }
  return url.href;
}

function base(registry: string): string {
  return registry.replace(/\/+$/, "");
}

/** A scoped name's slash is part of one path segment on the registry. */
function encodeName(name: string): string {
  return name.replace("/", "%2f");
}

function readStrings(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

function readBin(value: unknown, name: string): Record<string, string> {
  if (typeof value === "string") return { [name.slice(name.lastIndexOf("/") + 1)]: value };
  return readStrings(value);
}
