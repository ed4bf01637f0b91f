import { relative } from "node:path";
import { create } from "tar";
import { pack } from "tar-stream";
import type { PodFile } from "./runtime.ts";

/**
 * A tar archive of files for Docker's putArchive, every entry root's (uid and gid 0): the pod user
 * can read and run what Pier writes into a pod, and change none of it. Paths are absolute in the
 * pod; the archive is extracted at "/", so they are written relative to it.
 */
export function podArchive(files: PodFile[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on("end", () => resolve(Buffer.concat(chunks)));
    archive.on("error", reject);
  });
  for (const file of files) {
    // No entries for the parents: one would set an existing directory's mode and owner (/tmp's,
    // say) to its own. Docker makes a missing parent root's, 0755.
    const name = relative("/", file.path);
    if ("linkTo" in file) archive.entry({ name, type: "symlink", linkname: file.linkTo, mode: 0o777, uid: 0, gid: 0 });
    else archive.entry({ name, type: "file", mode: file.mode, uid: 0, gid: 0 }, typeof file.content === "string" ? file.content : Buffer.from(file.content));
  }
  archive.finalize();
  return done;
}

/**
 * A directory of the server (a kept build of one of Pier's tools) as a tar stream under `prefix`,
 * root's, read as it is sent (a build may be hundreds of MB). Only files and directories: symbolic
 * links and anything else are left out, as when a build is placed for a pod on Pier's disk
 * (src/agents/place.ts).
 */
export function dirArchive(dir: string, prefix: string): NodeJS.ReadableStream {
  return create({ cwd: dir, portable: true, prefix, filter: (_path, stat) => "isFile" in stat && (stat.isFile() || stat.isDirectory()) }, ["."]) as unknown as NodeJS.ReadableStream;
}
