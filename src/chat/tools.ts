import { createTwoFilesPatch } from "diff";
import { chownSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { FileOwner } from "../infra/git.ts";
import type { Pod, Runtime } from "../runtime/runtime.ts";

/** What a tool needs to act in one session's worktree. */
export interface ToolContext {
  runtime: Runtime;
  pod: Pod;
  worktree: string;
  env: Record<string, string>;
  /** Set while a command runs, so an interrupt can stop it. */
  onCommandStarted(stop: () => Promise<void>): void;
}

export interface ToolResult {
  output: string;
  isError: boolean;
  /** A unified diff, for file edits. */
  diff?: string;
}

const MAX_OUTPUT = 30_000;
const DEFAULT_TIMEOUT_S = 120;
const MAX_TIMEOUT_S = 600;
const MAX_READ_LINES = 2000;

/** The tools the model may call, as the Messages API takes them. */
export const TOOL_DEFINITIONS = [
  {
    name: "bash",
    description:
      "Run a shell command in the session's worktree, inside the repository's pod, as the pod user. Output (stdout and stderr) is truncated past 30000 characters.",
    input_schema: {
      type: "object",
      properties: {
        command: { type: "string", description: "The command line, run with bash -lc." },
        timeout_seconds: { type: "number", description: `Stop the command after this long (default ${DEFAULT_TIMEOUT_S}, at most ${MAX_TIMEOUT_S}).` },
      },
      required: ["command"],
    },
  },
  {
    name: "read_file",
    description: "Read a text file of the worktree, with line numbers. Optionally a range of lines (1-based, inclusive).",
    input_schema: {
      type: "object",
      properties: { path: { type: "string" }, start_line: { type: "number" }, end_line: { type: "number" } },
      required: ["path"],
    },
  },
  {
    name: "write_file",
    description: "Create or overwrite a file of the worktree with the given content.",
    input_schema: { type: "object", properties: { path: { type: "string" }, content: { type: "string" } }, required: ["path", "content"] },
  },
  {
    name: "edit_file",
    description: "Replace one exact occurrence of old_string with new_string in a file. Fails if old_string occurs zero or several times: include more context to make it unique.",
    input_schema: {
      type: "object",
      properties: { path: { type: "string" }, old_string: { type: "string" }, new_string: { type: "string" } },
      required: ["path", "old_string", "new_string"],
    },
  },
  {
    name: "list_files",
    description: "List files of the worktree matching a glob (default **/*), without .git. At most 1000 paths.",
    input_schema: { type: "object", properties: { pattern: { type: "string" } } },
  },
  {
    name: "search",
    description: "Search file contents of the worktree for a regular expression (ripgrep where the pod has it). Returns matching lines with file and line number.",
    input_schema: {
      type: "object",
      properties: { pattern: { type: "string" }, glob: { type: "string", description: "Only files matching this glob." } },
      required: ["pattern"],
    },
  },
];

/** Runs one tool call. Errors the model can act on come back as results, not exceptions. */
export async function runTool(name: string, input: Record<string, unknown>, ctx: ToolContext, owner: FileOwner | null): Promise<ToolResult> {
  try {
    switch (name) {
      case "bash":
        return await bash(String(input.command ?? ""), Number(input.timeout_seconds ?? DEFAULT_TIMEOUT_S), ctx);
      case "read_file":
        return readFile(ctx.worktree, String(input.path ?? ""), input.start_line, input.end_line);
      case "write_file":
        return writeFile(ctx.worktree, String(input.path ?? ""), String(input.content ?? ""), owner);
      case "edit_file":
        return editFile(ctx.worktree, String(input.path ?? ""), String(input.old_string ?? ""), String(input.new_string ?? ""));
      case "list_files":
        return listFiles(ctx.worktree, typeof input.pattern === "string" && input.pattern ? input.pattern : "**/*");
      case "search":
        return await search(String(input.pattern ?? ""), typeof input.glob === "string" ? input.glob : undefined, ctx);
      default:
        return { output: `There is no tool named ${name}.`, isError: true };
    }
  } catch (error) {
    return { output: error instanceof PathRefused ? error.message : `The tool failed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
  }
}

class PathRefused extends Error {}

/**
 * The absolute path of `path` inside the worktree, or a refusal: `..` that climbs out, an
 * absolute path elsewhere, or a symlink (anywhere on the way) that leads out are all refused.
 */
export function resolveInWorktree(worktree: string, path: string): string {
  if (!path) throw new PathRefused("A path is required.");
  const root = realpathSync(worktree);
  const target = isAbsolute(path) ? resolve(path) : resolve(worktree, path);
  const inside = (p: string, base: string) => p === base || p.startsWith(base + sep);
  if (!inside(target, resolve(worktree)) && !inside(target, root)) {
    throw new PathRefused(`Refused: ${path} is outside the session's worktree (${worktree}).`);
  }
  // Follow symlinks on the longest part of the path that exists.
  let existing = target;
  while (!existsSync(existing)) existing = dirname(existing);
  const real = join(realpathSync(existing), relative(existing, target));
  if (!inside(real, root)) throw new PathRefused(`Refused: ${path} leads outside the session's worktree through a symbolic link.`);
  if (relative(root, real).split(sep)[0] === ".git") throw new PathRefused("Refused: the .git directory is not for tools; use git commands.");
  return real;
}

function truncate(text: string): string {
  if (text.length <= MAX_OUTPUT) return text;
  return `${text.slice(0, MAX_OUTPUT)}\n[output truncated: ${text.length - MAX_OUTPUT} more characters not shown]`;
}

/**
 * Runs the command through a small wrapper that notes its process id in the pod's /tmp, so an
 * interrupt can stop it (and its children) from outside.
 */
async function bash(command: string, timeoutSeconds: number, ctx: ToolContext): Promise<ToolResult> {
  if (!command.trim()) return { output: "A command is required.", isError: true };
  const timeout = Math.min(Math.max(1, timeoutSeconds || DEFAULT_TIMEOUT_S), MAX_TIMEOUT_S);
  const pidFile = `/tmp/pier-tool-${crypto.randomUUID()}.pid`;
  ctx.onCommandStarted(async () => {
    await ctx.runtime.exec(ctx.pod, ["sh", "-c", `p=$(cat ${pidFile} 2>/dev/null) && pkill -TERM -P "$p"; kill -TERM "$p" 2>/dev/null; rm -f ${pidFile}`], {
      cwd: ctx.worktree,
    });
  });
  const wrapped = `echo $$ > ${pidFile}; timeout --kill-after=5 ${timeout} bash -lc "$PIER_TOOL_COMMAND"; status=$?; rm -f ${pidFile}; exit $status`;
  const result = await ctx.runtime.exec(ctx.pod, ["bash", "-c", wrapped], {
    cwd: ctx.worktree,
    env: { ...ctx.env, PIER_TOOL_COMMAND: command },
    timeoutMs: (timeout + 10) * 1000,
  });
  const output = [result.stdout, result.stderr].filter(Boolean).join(result.stdout && result.stderr ? "\n[stderr]\n" : "");
  const note = result.exitCode === 124 ? `\n[stopped after ${timeout} s]` : result.exitCode !== 0 ? `\n[exit code ${result.exitCode}]` : "";
  return { output: truncate(output) + note || "(no output)", isError: result.exitCode !== 0 };
}

function readFile(worktree: string, path: string, start: unknown, end: unknown): ToolResult {
  const file = resolveInWorktree(worktree, path);
  if (!existsSync(file) || !statSync(file).isFile()) return { output: `No file at ${path}.`, isError: true };
  const lines = readFileSync(file, "utf8").split("\n");
  const from = Math.max(1, Number(start) || 1);
  const to = Math.min(lines.length, Number(end) || from + MAX_READ_LINES - 1, from + MAX_READ_LINES - 1);
  const shown = lines.slice(from - 1, to).map((line, i) => `${String(from + i).padStart(5)}\t${line}`);
  const rest = lines.length > to ? `\n[${lines.length - to} more lines; ask for a range]` : "";
  return { output: truncate(shown.join("\n")) + rest, isError: false };
}

function writeFile(worktree: string, path: string, content: string, owner: FileOwner | null): ToolResult {
  const file = resolveInWorktree(worktree, path);
  const before = existsSync(file) ? readFileSync(file, "utf8") : "";
  const created = !existsSync(file);
  ensureDirectory(dirname(file), worktree, owner);
  writeFileSync(file, content);
  if (owner && created) chownSync(file, owner.uid, owner.gid);
  return { output: `${created ? "Created" : "Wrote"} ${path} (${content.length} characters).`, isError: false, diff: unifiedDiff(path, before, content) };
}

/** Edits in place, so the file keeps its owner (the pod user, when the pod made it). */
function editFile(worktree: string, path: string, oldString: string, newString: string): ToolResult {
  const file = resolveInWorktree(worktree, path);
  if (!existsSync(file)) return { output: `No file at ${path}.`, isError: true };
  if (!oldString) return { output: "old_string must not be empty.", isError: true };
  const before = readFileSync(file, "utf8");
  const count = before.split(oldString).length - 1;
  if (count !== 1) {
    return {
      output: count === 0 ? `old_string was not found in ${path}.` : `old_string occurs ${count} times in ${path}; include more context so it matches once.`,
      isError: true,
    };
  }
  const after = before.replace(oldString, () => newString);
  writeFileSync(file, after);
  return { output: `Edited ${path}.`, isError: false, diff: unifiedDiff(path, before, after) };
}

function ensureDirectory(dir: string, worktree: string, owner: FileOwner | null): void {
  if (existsSync(dir)) return;
  ensureDirectory(dirname(dir), worktree, owner);
  mkdirSync(dir);
  if (owner) chownSync(dir, owner.uid, owner.gid);
}

function listFiles(worktree: string, pattern: string): ToolResult {
  const glob = new Bun.Glob(pattern);
  const files: string[] = [];
  for (const file of glob.scanSync({ cwd: worktree, dot: true, onlyFiles: true })) {
    if (file === ".git" || file.startsWith(".git/")) continue;
    files.push(file);
    if (files.length >= 1000) break;
  }
  files.sort();
  return { output: files.length ? files.join("\n") + (files.length >= 1000 ? "\n[stopped at 1000 paths]" : "") : "No files match.", isError: false };
}

async function search(pattern: string, glob: string | undefined, ctx: ToolContext): Promise<ToolResult> {
  if (!pattern) return { output: "A pattern is required.", isError: true };
  const script =
    'if command -v rg >/dev/null; then rg -n --no-heading --color never --max-columns 300 ${PIER_GLOB:+-g "$PIER_GLOB"} -e "$PIER_PATTERN" .; ' +
    'else grep -rnE --exclude-dir=.git ${PIER_GLOB:+--include="$PIER_GLOB"} -e "$PIER_PATTERN" .; fi';
  const result = await ctx.runtime.exec(ctx.pod, ["bash", "-c", script], {
    cwd: ctx.worktree,
    env: { PIER_PATTERN: pattern, ...(glob ? { PIER_GLOB: glob } : {}) },
    timeoutMs: 60_000,
  });
  if (result.exitCode === 1 && !result.stderr) return { output: "No matches.", isError: false };
  if (result.exitCode !== 0) return { output: result.stderr || `search failed with exit code ${result.exitCode}`, isError: true };
  return { output: truncate(result.stdout), isError: false };
}

function unifiedDiff(path: string, before: string, after: string): string {
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, "", "", { context: 3 });
}
