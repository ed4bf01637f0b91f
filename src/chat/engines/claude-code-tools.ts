import { formatPatch } from "diff";
import { truncate } from "../../tools/output.ts";

/**
 * Claude Code's own tools as Pier's chat knows them: a call of Claude Code's `Bash` is shown,
 * judged by the tool policy and asked about exactly as a call of Pier's `bash`, so the page (and
 * a policy written for Pier's agent) cannot tell the engines apart. Tools Pier has no
 * counterpart for keep Claude Code's name (`WebFetch`, `mcp__github__create_issue`).
 */
const PIER_NAMES: Record<string, string> = {
  Bash: "bash",
  Read: "read_file",
  Write: "write_file",
  Edit: "edit_file",
  MultiEdit: "edit_file",
  Glob: "list_files",
  Grep: "search",
};

/** Claude Code's tools that change files; their results carry a patch Pier shows as a diff. */
const EDITING = new Set(["Write", "Edit", "MultiEdit"]);

/** A tool call of Claude Code's under Pier's name, with its input in the shape Pier's tool takes. */
export function pierCall(name: string, input: unknown, worktree: string): { name: string; input: unknown } {
  const pierName = PIER_NAMES[name];
  if (!pierName || !input || typeof input !== "object") return { name, input };
  const given = input as Record<string, unknown>;
  const path = typeof given.file_path === "string" ? relative(given.file_path, worktree) : undefined;
  switch (name) {
    case "Bash":
      return { name: pierName, input: { command: given.command, ...(typeof given.timeout === "number" ? { timeout_seconds: Math.ceil(given.timeout / 1000) } : {}) } };
    case "Read":
      return { name: pierName, input: { path } };
    case "Write":
      return { name: pierName, input: { path, content: given.content } };
    case "Edit":
      return { name: pierName, input: { path, old_string: given.old_string, new_string: given.new_string } };
    case "MultiEdit":
      return { name: pierName, input: { path, edits: given.edits } };
    case "Glob":
      return { name: pierName, input: { pattern: given.pattern } };
    case "Grep":
      return { name: pierName, input: { pattern: given.pattern, ...(typeof given.glob === "string" ? { glob: given.glob } : {}) } };
  }
  return { name, input };
}

/** A path in the worktree as Pier's tools write it (relative); any other path as it is. */
function relative(path: string, worktree: string): string {
  const prefix = worktree.endsWith("/") ? worktree : `${worktree}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** A tool result's content (text, or blocks of text and images) as the text the chat shows. */
export function resultText(content: unknown): string {
  if (typeof content === "string") return truncate(content);
  if (!Array.isArray(content)) return "";
  const parts = content.map((block) => {
    const typed = block as { type?: unknown; text?: unknown };
    if (typed.type === "text" && typeof typed.text === "string") return typed.text;
    return `[${typeof typed.type === "string" ? typed.type : "content"}, not shown]`;
  });
  return truncate(parts.join("\n"));
}

interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

/**
 * The change a file tool made, as the same unified diff Pier's edit tools show, from the patch
 * Claude Code reports with its result (`structuredPatch`); none when it reports none.
 */
export function editDiff(toolName: string, input: unknown, result: unknown, worktree: string): string | undefined {
  if (!EDITING.has(toolName) || !result || typeof result !== "object") return undefined;
  const hunks = (result as { structuredPatch?: unknown }).structuredPatch;
  const filePath = (input as { file_path?: unknown } | null)?.file_path;
  if (typeof filePath !== "string") return undefined;
  const path = relative(filePath, worktree);
  const created = (result as { type?: unknown }).type === "create";
  let patchHunks: Hunk[] = [];
  if (Array.isArray(hunks) && hunks.length > 0 && hunks.every(isHunk)) patchHunks = hunks;
  else if (created && typeof (result as { content?: unknown }).content === "string") {
    const lines = ((result as { content: string }).content.replace(/\n$/, "").split("\n")).map((line) => `+${line}`);
    patchHunks = [{ oldStart: 1, oldLines: 0, newStart: 1, newLines: lines.length, lines }];
  }
  if (patchHunks.length === 0) return undefined;
  return formatPatch({ oldFileName: `a/${path}`, newFileName: `b/${path}`, oldHeader: "", newHeader: "", hunks: patchHunks });
}

function isHunk(value: unknown): value is Hunk {
  const hunk = value as Hunk;
  return (
    !!hunk &&
    typeof hunk.oldStart === "number" &&
    typeof hunk.oldLines === "number" &&
    typeof hunk.newStart === "number" &&
    typeof hunk.newLines === "number" &&
    Array.isArray(hunk.lines) &&
    hunk.lines.every((line) => typeof line === "string")
  );
}
