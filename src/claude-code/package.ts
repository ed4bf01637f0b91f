/**
 * Claude Code's own Linux builds, as its npm packages ship them: one package per platform
 * (`@anthropic-ai/claude-code-linux-x64`, `-linux-x64-musl`, the arm64 pair), each holding a single
 * self-contained `claude` program. Pier fetches the one a pod needs from the npm registry at a
 * pinned version, checks it against the registry's own integrity hash, and keeps it in a directory
 * only the server writes, so a pod can be given it read-only.
 *
 * What the registry says is not taken on trust beyond that hash: the tarball must be on the
 * registry's own origin (no file:, no other host; see src/npm/registry.ts), and of the tarball Pier takes one plain file,
 * `package/claude`, written by Pier itself; a package holding any link (symbolic or hard) is refused,
 * since a link named `package/claude` would have Pier make executable whatever server file it names.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { EXACT_VERSION, downloadTarball, readVersion } from "../npm/registry.ts";
import { unpackProgram } from "../npm/unpack.ts";

/** The version Pier supplies unless an admin pins another. */
export const DEFAULT_CLAUDE_CODE_VERSION = "2.1.330";

/** The builds Pier knows how to pick for a pod: the machine, and which C library its image has. */
export const CLAUDE_CODE_VARIANTS = ["linux-x64", "linux-x64-musl", "linux-arm64", "linux-arm64-musl"] as const;
export type ClaudeCodeVariant = (typeof CLAUDE_CODE_VARIANTS)[number];

/** A version as npm writes it: 2.1.330, or with a pre-release tag. Nothing that could leave a path. */
export const CLAUDE_CODE_VERSION_PATTERN = EXACT_VERSION;

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
  const doc = await readVersion(registry, name, version, options.signal);
  if (!doc) throw new Error(`The npm registry has no ${name} ${version}.`);

  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const work = mkdtempSync(join(dirname(target), ".fetch-"));
  try {
    const tarball = join(work, "package.tgz");
    await downloadTarball(registry, doc, tarball, { onProgress: options.onProgress, signal: options.signal, label: "Claude Code" });
    const program = join(work, "claude");
    await unpackProgram(tarball, "package/claude", program, `${name} ${version}`, "Claude Code");
    // Whole or not at all: a half-written program is never where a pod looks.
    renameSync(program, target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
