/**
 * An image that is not Pier's, for test pods: what a repository's own `node:*-slim` or
 * `python:*-slim` gives Pier. A Debian bookworm root filesystem from mmdebstrap (no registry) with
 * only what a session cannot do without, git and tmux, and deliberately none of what Pier's own
 * image adds: no curl, no user for uid 1000 and no home for it, no sudo. Imported under a tag that
 * carries a hash of the recipe, so every run shares one build and a changed recipe makes a new one.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageExists, importDebianImage } from "./commands.ts";

const RECIPE = {
  include: ["git", "tmux"],
  // apt would have brought curl in as nothing's dependency, but be sure: the point is its absence.
  hooks: ['chroot "$1" sh -c \'! command -v curl && ! getent passwd 1000\''],
  changes: ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["sleep", "infinity"]', "LABEL org.pier.test=bare"],
};

export const BARE_IMAGE = `pier-bare-test:${createHash("sha256").update(JSON.stringify(RECIPE)).digest("hex").slice(0, 12)}`;

/** The build in progress, shared by the test files of one run (see ensureTestWorkspaceImage). */
let pending: Promise<string> | null = null;

/** Ensures the bare image exists locally and returns its tag. */
export function ensureBareImage(): Promise<string> {
  pending ??= ensure().finally(() => {
    pending = null;
  });
  return pending;
}

async function ensure(): Promise<string> {
  if (await imageExists(BARE_IMAGE)) return BARE_IMAGE;
  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), "pier-bare-image-"));
  try {
    console.error(`[bare-image] ${BARE_IMAGE} is not in the local engine; building it without a registry (about a minute)`);
    await importDebianImage({ tag: BARE_IMAGE, ...RECIPE, work });
    console.error(`[bare-image] ${BARE_IMAGE} ready in ${Math.round((performance.now() - started) / 1000)} s`);
    return BARE_IMAGE;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
