import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import type { Mirrors } from "../repos/mirrors.ts";
import type { BuildLog } from "./build-log.ts";
import { isRepoPath } from "./repo-path.ts";

/** What one local feature's folder may hold: a feature is an install script and a little metadata. */
const MAX_FEATURE_FILES = 1000;
const MAX_FEATURE_BYTES = 32 * 1024 * 1024;
const MAX_LISTING_BYTES = 1024 * 1024;

const REGULAR_FILE = "100644";
const EXECUTABLE_FILE = "100755";

/**
 * Copies a local feature's folder (`folder`, from the repository's root) as the mirror has it at
 * `commit` into `destination`, a folder of the server's own that does not exist yet, for the
 * devcontainer CLI to build from. Read from git's objects, never from a checkout, and only regular
 * files are written: a symbolic link is left out (said in the log), so nothing in a repository can
 * make the server copy one of its own files into an image. An executable file stays executable.
 */
export async function copyFeatureFolder(mirrors: Mirrors, repoId: string, commit: string, folder: string, destination: string, log: BuildLog): Promise<void> {
  if (!folder || !isRepoPath(folder)) throw new Error(`The local feature "${folder}" is not a folder inside the repository.`);
  const listing = await mirrors.listTree(repoId, commit, [`${folder}/`], MAX_LISTING_BYTES, { recursive: true });
  if (!listing) throw new Error(`The repository's mirror has no commit ${commit.slice(0, 12)}.`);
  if (listing.truncated) throw new Error(`The local feature ${folder} lists too many files to copy (Pier copies at most ${MAX_FEATURE_FILES}).`);
  const inside = listing.entries.filter((entry) => entry.path.startsWith(`${folder}/`));
  if (inside.length === 0) throw new Error(`The local feature ${folder} is not a folder in the repository at ${commit.slice(0, 12)}.`);
  const files = inside.filter((entry) => {
    if (entry.mode === REGULAR_FILE || entry.mode === EXECUTABLE_FILE) return true;
    log.line(`Left out ${entry.path}: ${entry.mode === "120000" ? "a symbolic link" : "not a regular file"} (a feature's files are copied as regular files only).`);
    return false;
  });
  if (files.length > MAX_FEATURE_FILES) throw new Error(`The local feature ${folder} holds ${files.length} files; Pier copies at most ${MAX_FEATURE_FILES}.`);
  const bytes = files.reduce((sum, entry) => sum + (entry.size ?? 0), 0);
  if (bytes > MAX_FEATURE_BYTES) throw new Error(`The local feature ${folder} holds ${Math.ceil(bytes / 1024 / 1024)} MiB; Pier copies at most ${MAX_FEATURE_BYTES / 1024 / 1024} MiB.`);

  mkdirSync(destination, { mode: 0o700 });
  for (const entry of files) {
    const relative = entry.path.slice(folder.length + 1);
    const target = join(destination, relative);
    // Git's own trees never hold such names, but a crafted one could: nothing is written outside.
    if (!isRepoPath(relative) || !target.startsWith(destination + sep)) throw new Error(`The local feature ${folder} holds a file named ${JSON.stringify(relative)}, which Pier does not copy.`);
    const blob = await mirrors.readBlob(repoId, entry.sha, (entry.size ?? 0) + 1);
    if (blob.truncated) throw new Error(`${entry.path} changed size while it was read.`);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    const mode = entry.mode === EXECUTABLE_FILE ? 0o755 : 0o644;
    // "wx": a new file, never one already there (two entries cannot share a path, but nothing is overwritten).
    writeFileSync(target, blob.content, { flag: "wx", mode });
    chmodSync(target, mode);
  }
}
