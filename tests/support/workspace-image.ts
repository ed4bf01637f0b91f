/**
 * Makes sure a workspace image for test pods exists in the local Docker engine.
 *
 * The real workspace image (images/workspace/Dockerfile) starts FROM debian:bookworm-slim, which
 * needs a registry that test machines may not have. So tests use a smaller stand-in built without
 * one: a Debian bookworm root filesystem from mmdebstrap with what Pier itself relies on in a pod
 * (bash, git, tmux, sudo, curl for the credential helper, gh) and the same user, `pier` (uid/gid
 * 1000) with passwordless sudo, `docker import`ed under its own tag so it never shadows the real
 * image. It also has this machine's Bun, so a test can run a small program of its own in a pod
 * (an MCP server written with the MCP SDK, bundled into one file). The tag carries a hash of the
 * recipe, so a machine that built an older recipe (or has another Bun) builds this one instead of
 * using a stale image.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageExists, importDebianImage } from "./commands.ts";

const RECIPE = {
  include: ["git", "bash", "tmux", "sudo", "ca-certificates", "procps", "ripgrep", "curl", "gh"],
  // The pod user as in the real image; visudo fails the build on a malformed sudoers file.
  hooks: [
    "chroot \"$1\" sh -c '" +
      "groupadd --gid 1000 pier && " +
      "useradd --uid 1000 --gid 1000 --home-dir /home/pier --create-home --shell /bin/bash pier && " +
      'echo "pier ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/pier && ' +
      "chmod 0440 /etc/sudoers.d/pier && visudo -cf /etc/sudoers.d/pier'",
    // In /usr/bin: /usr/local/bin is where a test installs tools of its own, and looks for them.
    `upload ${realpathSync(process.execPath)} /usr/bin/bun`,
    'chroot "$1" chmod 0755 /usr/bin/bun',
  ],
  changes: [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV TERM=xterm-256color",
    "USER pier",
    "WORKDIR /home/pier",
    'CMD ["sleep", "infinity"]',
    "LABEL org.pier.workspace=test",
  ],
};

export const TEST_WORKSPACE_IMAGE = `pier-workspace-test:${createHash("sha256").update(JSON.stringify({ ...RECIPE, bun: Bun.version })).digest("hex").slice(0, 12)}`;

/**
 * The build in progress, if any. Test files run in one process and may each ask for the image
 * at start; they all wait for one build instead of racing mmdebstrap and `docker import`.
 */
let pending: Promise<string> | null = null;

/** Ensures the test workspace image exists locally and returns its tag. */
export function ensureTestWorkspaceImage(): Promise<string> {
  // Forgotten once settled: a later call checks the engine again (the image may have been
  // removed), and a failed build can be retried.
  pending ??= ensure().finally(() => {
    pending = null;
  });
  return pending;
}

async function ensure(): Promise<string> {
  const tag = TEST_WORKSPACE_IMAGE;
  if (await imageExists(tag)) return tag;

  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), "pier-workspace-image-"));
  try {
    log(`${tag} is not in the local engine; building it without a registry (in ${work})`);

    log("creating a Debian root filesystem with mmdebstrap and importing it (about a minute)");
    await importDebianImage({ tag, ...RECIPE, work });
    log(`${tag} ready in ${Math.round((performance.now() - started) / 1000)} s`);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function log(line: string): void {
  console.error(`[workspace-image] ${line}`);
}

/**
 * The environment for a Pier on the Docker runtime as the tests run it: the test workspace image
 * (made first if missing), pods without a network, local bare repositories allowed.
 */
export async function dockerTestEnv(): Promise<Record<string, string>> {
  await ensureTestWorkspaceImage();
  return { PIER_RUNTIME: "docker", PIER_POD_NETWORK: "none", PIER_WORKSPACE_IMAGE: TEST_WORKSPACE_IMAGE, PIER_ALLOW_LOCAL_REPOS: "1" };
}
