import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { TEST_CACHE } from "./claude-code.ts";

const ROOT = join(import.meta.dir, "..", "..");

export interface Release {
  tag: string;
  commit: string;
}

/** The latest release releases.json names: the one a data dir is upgraded from. */
export function previousRelease(): Release {
  const { releases } = JSON.parse(readFileSync(join(ROOT, "releases.json"), "utf8")) as { releases: Release[] };
  const latest = releases.at(-1);
  if (!latest) throw new Error("releases.json names no release");
  return latest;
}

/**
 * A release's code with its dependencies installed, taken from this clone's history by commit (a
 * clean clone has no tags) and kept in the test cache, so only the first run pays for `bun install`.
 * It is made aside and renamed into place, so two runs at once never see half of one.
 */
export function releaseTree(release: Release): string {
  const dir = join(TEST_CACHE, "releases", release.commit);
  if (existsSync(join(dir, "node_modules"))) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  const making = mkdtempSync(`${dir}.making-`);
  try {
    const archive = Bun.spawnSync(["git", "-C", ROOT, "archive", "--format=tar", release.commit], { stdout: "pipe", stderr: "pipe" });
    if (archive.exitCode !== 0) {
      throw new Error(`git archive ${release.commit} (${release.tag}) failed: ${archive.stderr.toString()}; the upgrade test needs the release's commit in this clone (clone without --depth).`);
    }
    const unpack = Bun.spawnSync(["tar", "-x", "-C", making], { stdin: archive.stdout, stderr: "pipe" });
    if (unpack.exitCode !== 0) throw new Error(`unpacking ${release.tag} failed: ${unpack.stderr.toString()}`);
    const install = Bun.spawnSync(["bun", "install", "--frozen-lockfile"], { cwd: making, stdout: "pipe", stderr: "pipe" });
    if (install.exitCode !== 0) throw new Error(`bun install for ${release.tag} failed: ${install.stderr.toString()}`);
    if (!existsSync(dir)) renameSync(making, dir);
  } finally {
    rmSync(making, { recursive: true, force: true });
  }
  return dir;
}
