import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Gives a pod a kept build: `dest` (in the pod's services directory, which the pod mounts read-only)
 * becomes the same tree of files as `src` (in the tools directory, which the pod never sees), each
 * file a hard link (a copy across file systems), whole or not at all. A build placed once stays:
 * a running agent keeps the files it started from, and a new version goes beside it. Symbolic links
 * (an installer's `.bin`) are left out: Pier starts programs by their paths.
 */
export function placeTree(src: string, dest: string): string {
  if (existsSync(dest)) return dest;
  mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
  const temp = `${dest}.${process.pid}-${crypto.randomUUID()}`;
  try {
    linkTree(src, temp);
    renameSync(temp, dest);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    // Placed meanwhile by another start of the same agent in the same pod.
    if (!existsSync(dest)) throw error;
  }
  return dest;
}

function linkTree(src: string, dest: string): void {
  mkdirSync(dest, { mode: 0o755 });
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    const from = join(src, entry.name);
    const to = join(dest, entry.name);
    if (entry.isDirectory()) linkTree(from, to);
    else if (entry.isFile()) linkOrCopy(from, to);
  }
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    copyFileSync(from, to);
  }
}
