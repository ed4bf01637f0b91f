/**
 * The real Claude Code CLI for tests, from the npm registry (the one outside service this machine
 * reaches), fetched by Pier's own code once and kept in a cache shared by every test run, so a run
 * downloads it at most once per version.
 *
 * `claudeCodeTestImage()` is the test workspace image with that `claude` in /usr/bin, as Pier's
 * own workspace image has it; the plain test workspace image has none, like a person's own image.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CLAUDE_CODE_VERSION, fetchClaudeCode, type ClaudeCodeVariant } from "../../src/claude-code/package.ts";
import { imageExists, run } from "./commands.ts";
import { ensureTestWorkspaceImage } from "./workspace-image.ts";

/** Kept across runs; PIER_TEST_CACHE moves it. */
export const TEST_CACHE = process.env.PIER_TEST_CACHE ?? "/var/cache/pier-tests";
export const CLAUDE_CODE_DIR = join(TEST_CACHE, "claude-code");
export const NPM_REGISTRY = process.env.PIER_NPM_REGISTRY ?? "https://registry.npmjs.org";

let pending: Promise<string> | null = null;

/** The path on this machine of the `claude` program at Pier's default version, fetched if missing. */
export function claudeCodeOnHost(variant: ClaudeCodeVariant = "linux-x64"): Promise<string> {
  mkdirSync(CLAUDE_CODE_DIR, { recursive: true });
  pending ??= fetchClaudeCode({
    registry: NPM_REGISTRY,
    version: DEFAULT_CLAUDE_CODE_VERSION,
    variant,
    dir: CLAUDE_CODE_DIR,
    onProgress: (received, total) => console.error(`[claude-code] ${Math.round(received / 1e6)} of ${total ? Math.round(total / 1e6) : "?"} MB`),
  }).finally(() => {
    pending = null;
  });
  return pending;
}

let building: Promise<string> | null = null;

/** The test workspace image with Claude Code in /usr/bin/claude; made from it without a registry. */
export function claudeCodeTestImage(): Promise<string> {
  building ??= (async () => {
    const base = await ensureTestWorkspaceImage();
    const tag = `${base.replace("pier-workspace-test", "pier-workspace-test-claude")}-${DEFAULT_CLAUDE_CODE_VERSION}`;
    if (await imageExists(tag)) return tag;
    const program = await claudeCodeOnHost();
    // Made without running anything: a stopped container gets the file, and is committed.
    const id = (await run(["docker", "create", base], "/")).trim();
    try {
      await run(["docker", "cp", program, `${id}:/usr/bin/claude`], "/");
      await run(["docker", "commit", id, tag], "/");
    } finally {
      await run(["docker", "rm", "-f", id], "/");
    }
    return tag;
  })().finally(() => {
    building = null;
  });
  return building;
}
