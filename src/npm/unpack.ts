/**
 * What Pier takes out of an npm tarball it has downloaded and checked (see registry.ts): plain
 * files and directories only. A package holding any link (symbolic or hard) is refused whole,
 * since a link where Pier writes, or one it later makes executable or hands to a pod, would have
 * Pier act on whatever server file it names; so is one holding a device or a FIFO.
 */
import { chmodSync, createWriteStream, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type ReadEntry, extract, list } from "tar";

/** Entry types that name another file: a package holding one is refused whole. */
const LINK_ENTRIES = new Set<ReadEntry["type"]>(["Link", "SymbolicLink"]);
/** Entry types that are a plain file's bytes. */
const FILE_ENTRIES = new Set<ReadEntry["type"]>(["File", "OldFile", "ContiguousFile"]);
/** Entry types that only say something of the archive, not a file. */
const HEADER_ENTRIES = new Set<ReadEntry["type"]>(["ExtendedHeader", "GlobalExtendedHeader", "NextFileHasLongPath", "NextFileHasLongLinkpath", "OldExtendedHeader"]);

/**
 * Writes the tarball's entry `path` (e.g. `package/claude`) to `program` (a new file Pier makes,
 * never one that is there), executable; refuses a tarball with a link in it, or no plain entry
 * of that path, or two. `label` says what kind of package it is, for the sentences.
 */
export async function unpackProgram(tarball: string, path: string, program: string, what: string, label: string): Promise<void> {
  let refusal: string | null = null;
  let written: Promise<void> | null = null;
  try {
    await list({
      file: tarball,
      strict: true,
      // Entries are read here, not skipped by tar: the program goes to the file, the rest nowhere.
      noResume: true,
      onReadEntry(entry) {
        if (LINK_ENTRIES.has(entry.type)) refusal ??= linkRefusal(entry, label);
        else if (entry.path === path && !FILE_ENTRIES.has(entry.type)) refusal ??= `its ${path} is not a plain file (${entry.type})`;
        else if (entry.path === path && written) refusal ??= `it holds ${path} twice`;
        else if (entry.path === path && !refusal) {
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
  if (!written) throw new Error(`The ${what} package has no ${path}.`);
  // The file is Pier's own, just made in a directory only Pier writes: no link can be in the way.
  chmodSync(program, 0o755);
}

/**
 * Unpacks the whole package (its files under the tarball's top directory) into `dir`, a new empty
 * directory only Pier writes, or refuses it with a sentence (the caller removes `dir` then). Every
 * file ends up 0644, or 0755 when the package made it executable or it is one of `programs`
 * (npm makes a package's bin executable as it installs it): no set-user-id bit from a tarball
 * ever reaches a pod.
 */
export async function unpackPackage(tarball: string, dir: string, what: string, label: string, programs: string[] = []): Promise<void> {
  let refusal: string | null = null;
  try {
    await extract({
      file: tarball,
      cwd: dir,
      strip: 1,
      strict: true,
      preserveOwner: false,
      filter: (_path, entry) => {
        const type = (entry as ReadEntry).type;
        if (LINK_ENTRIES.has(type)) refusal ??= linkRefusal(entry as ReadEntry, label);
        else if (!FILE_ENTRIES.has(type) && type !== "Directory" && !HEADER_ENTRIES.has(type)) refusal ??= `it holds ${(entry as ReadEntry).path}, which is neither a file nor a directory (${type})`;
        else return refusal === null;
        return false;
      },
    });
  } catch (error) {
    throw new Error(`The ${what} package could not be unpacked: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (refusal) throw new Error(`The ${what} package is refused: ${refusal}.`);
  normalizeModes(dir, new Set(programs.map((program) => join(dir, program))));
}

/** Directories 0755, files 0644 or 0755; nothing else is there (a link would have been refused). */
export function normalizeModes(dir: string, programs: Set<string> = new Set()): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) normalizeModes(path, programs);
    else if (stat.isFile()) chmodSync(path, stat.mode & 0o111 || programs.has(path) ? 0o755 : 0o644);
  }
}

function linkRefusal(entry: ReadEntry, label: string): string {
  return `it holds a link (${entry.path} → ${entry.linkpath ?? "?"}), and Pier takes only plain files from a ${label} package`;
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
