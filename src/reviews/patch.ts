import { headerPath } from "../workspaces/workspace.ts";

/** One line of a file's patch, with its numbers in the base (`oldLine`) and in the session's version (`newLine`). */
export interface PatchLine {
  kind: "add" | "del" | "context" | "hunk" | "meta";
  text: string;
  oldLine: number | null;
  newLine: number | null;
}

/** A file's part of the patch, its lines numbered. */
export interface FilePatch {
  path: string;
  lines: PatchLine[];
  /** Every file line a comment may be left on: the session's version's, or the base's for a deleted file. */
  commentable: Set<number>;
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/**
 * The patch of a session's diff split by file, each line numbered as git's hunk headers say.
 * A file whose header cannot be read (see headerPath) is left out: it is still listed, but shows
 * no lines to comment on.
 */
export function splitPatch(patch: string): Map<string, FilePatch> {
  const files = new Map<string, FilePatch>();
  for (const section of patch.split(/^(?=diff --git )/m)) {
    if (!section.startsWith("diff --git ")) continue;
    const path = headerPath(section);
    if (path === null) continue;
    files.set(path, numberLines(path, section));
  }
  return files;
}

function numberLines(path: string, section: string): FilePatch {
  const lines: PatchLine[] = [];
  const deletedFile = /^deleted file mode /m.test(section);
  const commentable = new Set<number>();
  let oldLine = 0;
  let newLine = 0;
  let inHunk = false;
  const text = section.endsWith("\n") ? section.slice(0, -1) : section;
  for (const raw of text.split("\n")) {
    const hunk = HUNK.exec(raw);
    if (hunk) {
      inHunk = true;
      oldLine = Number(hunk[1]);
      newLine = Number(hunk[2]);
      lines.push({ kind: "hunk", text: raw, oldLine: null, newLine: null });
    } else if (inHunk && raw.startsWith("+")) {
      lines.push({ kind: "add", text: raw.slice(1), oldLine: null, newLine });
      commentable.add(newLine++);
    } else if (inHunk && raw.startsWith("-")) {
      lines.push({ kind: "del", text: raw.slice(1), oldLine, newLine: null });
      if (deletedFile) commentable.add(oldLine);
      oldLine++;
    } else if (inHunk && raw.startsWith(" ")) {
      lines.push({ kind: "context", text: raw.slice(1), oldLine, newLine });
      commentable.add(newLine);
      oldLine++;
      newLine++;
    } else {
      // The header lines, "\ No newline at end of file", "Binary files … differ".
      lines.push({ kind: "meta", text: raw, oldLine: null, newLine: null });
    }
  }
  return { path, lines, commentable };
}

/** The line a comment is on: the session's version's numbering, or the base's in a deleted file. */
export function commentLine(line: PatchLine, deletedFile: boolean): number | null {
  return deletedFile ? line.oldLine : line.kind === "del" ? null : line.newLine;
}

/** The longest a line of context may be in a message. */
const CONTEXT_LINE_CHARS = 200;
/** Lines shown above the commented one. */
const CONTEXT_BEFORE = 2;

/**
 * The commented line and up to two lines before it in the same hunk, each with its diff marker:
 * enough for the agent to find the place, not so much that thirty comments fill the message.
 */
export function contextOf(file: FilePatch, line: number, deletedFile: boolean): string {
  const at = file.lines.findIndex((l) => (l.kind === "add" || l.kind === "context" || l.kind === "del") && commentLine(l, deletedFile) === line);
  if (at === -1) return "";
  const picked: PatchLine[] = [];
  for (let i = at; i >= 0 && picked.length <= CONTEXT_BEFORE; i--) {
    const l = file.lines[i]!;
    if (l.kind === "hunk" || l.kind === "meta") break;
    picked.unshift(l);
  }
  const marker = { add: "+", del: "-", context: " " } as Record<PatchLine["kind"], string>;
  return picked.map((l) => `${marker[l.kind]}${clip(l.text)}`).join("\n");
}

function clip(text: string): string {
  return text.length > CONTEXT_LINE_CHARS ? `${text.slice(0, CONTEXT_LINE_CHARS)}…` : text;
}
