/**
 * Claude Code's own Linux builds, as its npm packages ship them: one package per platform
 * (`@anthropic-ai/claude-code-linux-x64`, `-linux-x64-musl`, the arm64 pair), each holding a single
 * self-contained `claude` program. Pier fetches the one a pod needs from the npm registry at a
 * pinned version, checks it against the registry's own integrity hash, and keeps it in a directory
 * only the server writes, so a pod can be given it read-only.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

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

  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const work = mkdtempSync(join(dirname(target), ".fetch-"));
  try {
    const tarball = join(work, "package.tgz");
    await download(dist.tarball, tarball, integrity, options);
    const untar = Bun.spawn(["tar", "-xzf", tarball, "-C", work, "package/claude"], { stdout: "ignore", stderr: "pipe" });
    const [error, code] = await Promise.all([new Response(untar.stderr).text(), untar.exited]);
    if (code !== 0) throw new Error(`The ${name} ${version} package could not be unpacked: ${error.trim()}`);
    chmodSync(join(work, "package", "claude"), 0o755);
    // Whole or not at all: a half-written program is never where a pod looks.
    renameSync(join(work, "package", "claude"), target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function download(url: string, file: string, integrity: string, options: FetchOptions): Promise<void> {
  const res = await fetch(url, { signal: options.signal });
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
