/**
 * Claude Code's own Linux builds, as its npm packages ship them: one package per platform
 * (`@anthropic-ai/claude-code-linux-x64`, `-linux-x64-musl`, the arm64 pair), each holding a single
 * self-contained `claude` program. Pier fetches the one a pod needs from the npm registry at a
 * pinned version, checks it against the registry's own integrity hash, and keeps it in a directory
 * only the server writes, so a pod can be given it read-only.
 *
 * What the registry says is not taken on trust beyond that hash: the tarball must be on the
 * registry's own origin (no file:, no other host), and of the tarball Pier takes one plain file,
 * `package/claude`, written by Pier itself; a package holding any link (symbolic or hard) is refused,
 * since a link named `package/claude` would have Pier make executable whatever server file it names.
 */
import { createHash } from "node:crypto";
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { type ReadEntry, list } from "tar";

/** The version Pier supplies unless an admin pins another. */
export const DEFAULT_CLAUDE_CODE_VERSION = "2.1.330";

/** The builds Pier knows how to pick for a pod: the machine, and which C library its image has. */
export const CLAUDE_CODE_VARIANTS = ["linux-x64", "linux-x64-musl", "linux-arm64", "linux-arm64-musl"] as const;
export type ClaudeCodeVariant = (typeof CLAUDE_CODE_VARIANTS)[number];

/** A version as npm writes it: 2.1.330, or with a pre-release tag. Nothing that could leave a path. */
export const CLAUDE_CODE_VERSION_PATTERN = /^\d{1,4}\.\d{1,4}\.\d{1,6}(-[0-9A-Za-z.]{1,40})?$/;

export interface FetchOptions {
  /** The npm registry, e.g. https://registry.npmjs.org. */
  registry: string;
  version: string;
  variant: ClaudeCodeVariant;
  /** Where builds are kept: `<dir>/<version>/<variant>/claude`. */
  dir: string;
  /** Told how far the download is, in bytes. */
  onProgress?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
}

/** Where a build is kept, whether or not it is there yet. */
export function claudeCodePath(dir: string, version: string, variant: ClaudeCodeVariant): string {
  return join(dir, version, variant, "claude");
}

/** Fetches one build unless it is kept already; returns the path of its `claude`. */
export async function fetchClaudeCode(options: FetchOptions): Promise<string> {
  const { registry, version, variant, dir } = options;
  if (!CLAUDE_CODE_VERSION_PATTERN.test(version)) throw new Error(`"${version}" is not a Claude Code version such as ${DEFAULT_CLAUDE_CODE_VERSION}.`);
  const target = claudeCodePath(dir, version, variant);
  if (existsSync(target)) return target;

  const name = `@anthropic-ai/claude-code-${variant}`;
  const base = registry.replace(/\/+$/, "");
  const meta = await fetch(`${base}/${name.replace("/", "%2f")}/${version}`, { signal: options.signal });
  if (meta.status === 404) throw new Error(`The npm registry has no ${name} ${version}.`);
  if (!meta.ok) throw new Error(`The npm registry answered ${meta.status} for ${name} ${version}.`);
  const dist = ((await meta.json()) as { dist?: { tarball?: string; integrity?: string } }).dist;
  const integrity = dist?.integrity?.match(/^sha512-([A-Za-z0-9+/=]+)$/)?.[1];
  if (!dist?.tarball || !integrity) throw new Error(`The npm registry gave no tarball with a sha512 integrity for ${name} ${version}.`);
  const url = tarballOnRegistry(dist.tarball, registry, `${name} ${version}`);

  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const work = mkdtempSync(join(dirname(target), ".fetch-"));
  try {
    const tarball = join(work, "package.tgz");
    await download(url, tarball, integrity, options);
    const program = join(work, "claude");
    await unpackProgram(tarball, program, `${name} ${version}`);
    // Whole or not at all: a half-written program is never where a pod looks.
    renameSync(program, target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The tarball's URL, if it is on the registry's own origin (scheme, host and port): a registry
 * that names a file: URL, or another host, for its tarball is not followed there.
 */
function tarballOnRegistry(tarball: string, registry: string, what: string): string {
  const own = new URL(registry).origin;
  let url: URL;
  try {
    url = new URL(tarball);
  } catch {
    throw new Error(`The npm registry gave no URL for the tarball of ${what}.`);
  }
  const web = url.protocol === "https:" || url.protocol === "http:";
  if (!web || url.origin !== own) {
    throw new Error(`The npm registry gave ${web ? url.origin : `a ${url.protocol} URL`} as where ${what} is; Pier takes Claude Code only from the registry's own origin, ${own}.`);
  }
  return url.href;
}

/** Entry types that name another file: a package holding one is refused whole. */
const LINK_ENTRIES = new Set<ReadEntry["type"]>(["Link", "SymbolicLink"]);
/** Entry types that are a plain file's bytes. */
const FILE_ENTRIES = new Set<ReadEntry["type"]>(["File", "OldFile", "ContiguousFile"]);

/**
 * Writes the tarball's `package/claude` to `program` (a new file Pier makes, never one that is
 * there), executable; refuses a tarball with a link in it, or no plain `package/claude`, or two.
 */
async function unpackProgram(tarball: string, program: string, what: string): Promise<void> {
  let refusal: string | null = null;
  let written: Promise<void> | null = null;
  try {
    await list({
      file: tarball,
      strict: true,
      // Entries are read here, not skipped by tar: package/claude goes to the file, the rest nowhere.
      noResume: true,
      onReadEntry(entry) {
        if (LINK_ENTRIES.has(entry.type)) refusal ??= `it holds a link (${entry.path} → ${entry.linkpath ?? "?"}), and Pier takes only plain files from a Claude Code package`;
        else if (entry.path === "package/claude" && !FILE_ENTRIES.has(entry.type)) refusal ??= `its package/claude is not a plain file (${entry.type})`;
        else if (entry.path === "package/claude" && written) refusal ??= "it holds package/claude twice";
        else if (entry.path === "package/claude" && !refusal) {
          written = writeEntry(entry, program);
          return;
        }
        entry.resume();
      },
    });
    await written;
  } catch (error) {
    throw new Error(`The ${what} package could not be unpacked: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (refusal) throw new Error(`The ${what} package is refused: ${refusal}.`);
  if (!written) throw new Error(`The ${what} package has no package/claude.`);
  // The file is Pier's own, just made in a directory only Pier writes: no link can be in the way.
  chmodSync(program, 0o755);
}

/** One entry's bytes into a new file (`wx`: never onto a file, or a link, that is already there). */
function writeEntry(entry: ReadEntry, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { flags: "wx", mode: 0o700 });
    out.on("error", (error) => {
      // The rest of the entry is let through, so the tarball is still read to its end.
      entry.resume();
      reject(error);
    });
    out.on("close", () => resolve());
    entry.on("error", reject);
    entry.pipe(out);
  });
}

async function download(url: string, file: string, integrity: string, options: FetchOptions): Promise<void> {
  // A redirect could lead off the registry's origin: the registry must serve its tarballs itself.
  const res = await fetch(url, { signal: options.signal, redirect: "manual" });
  if (res.status >= 300 && res.status < 400) throw new Error(`The npm registry redirected the download of ${url} (${res.status}); Pier takes Claude Code only from the registry itself.`);
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
  if (hash.digest("base64") !== integrity) throw new Error(`${url} does not match the integrity hash the npm registry gives for it.`);
}
