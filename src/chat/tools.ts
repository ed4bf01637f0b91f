import { createTwoFilesPatch } from "diff";
import type { Pod, Runtime } from "../runtime/runtime.ts";
import { PodScriptRefusal } from "../workspaces/pod-script.ts";
import type { WorktreeFiles } from "../workspaces/worktree-files.ts";

/** What a tool needs to act in one session's worktree (always through the session's pod). */
export interface ToolContext {
  runtime: Runtime;
  pod: Pod;
  files: WorktreeFiles;
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
/** read_file and edit_file take files up to this size; bash can deal with bigger ones. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** A write shows a diff against what the file held when that was at most this big. */
const MAX_DIFF_BEFORE_BYTES = 1024 * 1024;
const MAX_LISTED = 1000;
/** What a command may print before it is cut off (the model sees at most MAX_OUTPUT characters of it). */
const MAX_COMMAND_OUTPUT_BYTES = 1024 * 1024;

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
export async function runTool(name: string, input: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
  try {
    switch (name) {
      case "bash":
        return await bash(String(input.command ?? ""), Number(input.timeout_seconds ?? DEFAULT_TIMEOUT_S), ctx);
      case "read_file":
        return await readFile(ctx.files, String(input.path ?? ""), input.start_line, input.end_line);
      case "write_file":
        return await writeFile(ctx.files, String(input.path ?? ""), String(input.content ?? ""));
      case "edit_file":
        return await editFile(ctx.files, String(input.path ?? ""), String(input.old_string ?? ""), String(input.new_string ?? ""));
      case "list_files":
        return await listFiles(ctx.files, typeof input.pattern === "string" && input.pattern ? input.pattern : "**/*");
      case "search":
        return await search(String(input.pattern ?? ""), typeof input.glob === "string" ? input.glob : undefined, ctx);
      default:
        return { output: `There is no tool named ${name}.`, isError: true };
    }
  } catch (error) {
    return {
      output: error instanceof PodScriptRefusal ? error.message : `The tool failed: ${error instanceof Error ? error.message : String(error)}`,
      isError: true,
    };
  }
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
      cwd: ctx.files.worktree,
    });
  });
  const wrapped = `echo $$ > ${pidFile}; timeout --kill-after=5 ${timeout} bash -lc "$PIER_TOOL_COMMAND"; status=$?; rm -f ${pidFile}; exit $status`;
  const result = await ctx.runtime.exec(ctx.pod, ["bash", "-c", wrapped], {
    cwd: ctx.files.worktree,
    env: { ...ctx.env, PIER_TOOL_COMMAND: command },
    timeoutMs: (timeout + 10) * 1000,
    // A command that prints without end (yes) is cut off here rather than filling the server's memory.
    maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES,
  });
  const output = [result.stdout, result.stderr].filter(Boolean).join(result.stdout && result.stderr ? "\n[stderr]\n" : "");
  const note = result.truncated
    ? `\n[stopped: the command printed more than ${MAX_COMMAND_OUTPUT_BYTES} bytes]`
    : result.exitCode === 124
      ? `\n[stopped after ${timeout} s]`
      : result.exitCode !== 0
        ? `\n[exit code ${result.exitCode}]`
        : "";
  return { output: truncate(output) + note || "(no output)", isError: result.exitCode !== 0 };
}

async function readFile(files: WorktreeFiles, path: string, start: unknown, end: unknown): Promise<ToolResult> {
  const file = await files.read(path, MAX_FILE_BYTES);
  if (file.content.includes("\0")) return { output: `${path} is a binary file (${file.size} bytes); it is not shown.`, isError: true };
  const lines = file.content.split("\n");
  const from = Math.max(1, Number(start) || 1);
  const to = Math.min(lines.length, Number(end) || from + MAX_READ_LINES - 1, from + MAX_READ_LINES - 1);
  const shown = lines.slice(from - 1, to).map((line, i) => `${String(from + i).padStart(5)}\t${line}`);
  const rest = lines.length > to ? `\n[${lines.length - to} more lines; ask for a range]` : "";
  const cut = file.size > MAX_FILE_BYTES ? `\n[only the first ${MAX_FILE_BYTES} of ${file.size} bytes were read; use bash (sed -n) for the rest]` : "";
  return { output: truncate(shown.join("\n")) + rest + cut, isError: false };
}

async function writeFile(files: WorktreeFiles, path: string, content: string): Promise<ToolResult> {
  const { created, before } = await files.write(path, content, MAX_DIFF_BEFORE_BYTES);
  const diff = before === null && !created ? undefined : unifiedDiff(path, before ?? "", content);
  return { output: `${created ? "Created" : "Wrote"} ${path} (${content.length} characters).`, isError: false, diff };
}

/** Reads, replaces once, and writes back only if the file did not change in between. */
async function editFile(files: WorktreeFiles, path: string, oldString: string, newString: string): Promise<ToolResult> {
  if (!oldString) return { output: "old_string must not be empty.", isError: true };
  const file = await files.read(path, MAX_FILE_BYTES, true);
  if (file.size > MAX_FILE_BYTES) return { output: `${path} is too big to edit here (${file.size} bytes); use bash.`, isError: true };
  const before = file.content;
  const count = before.split(oldString).length - 1;
  if (count !== 1) {
    return {
      output: count === 0 ? `old_string was not found in ${path}.` : `old_string occurs ${count} times in ${path}; include more context so it matches once.`,
      isError: true,
    };
  }
  const after = before.replace(oldString, () => newString);
  await files.replace(path, file.sha256!, after);
  return { output: `Edited ${path}.`, isError: false, diff: unifiedDiff(path, before, after) };
}

async function listFiles(files: WorktreeFiles, pattern: string): Promise<ToolResult> {
  const glob = new Bun.Glob(pattern);
  const listing = await files.list();
  const matches = listing.paths.filter((path) => glob.match(path)).sort();
  const shown = matches.slice(0, MAX_LISTED);
  const notes = [
    matches.length > MAX_LISTED ? `[stopped at ${MAX_LISTED} paths]` : "",
    listing.truncated ? "[the worktree has too many files to list them all; narrow the pattern or use bash]" : "",
  ].filter(Boolean);
  return { output: shown.length ? [...shown, ...notes].join("\n") : ["No files match.", ...notes].join("\n"), isError: false };
}

async function search(pattern: string, glob: string | undefined, ctx: ToolContext): Promise<ToolResult> {
  if (!pattern) return { output: "A pattern is required.", isError: true };
  const script =
    'if command -v rg >/dev/null; then rg -n --no-heading --color never --max-columns 300 ${PIER_GLOB:+-g "$PIER_GLOB"} -e "$PIER_PATTERN" .; ' +
    'else grep -rnE --exclude-dir=.git ${PIER_GLOB:+--include="$PIER_GLOB"} -e "$PIER_PATTERN" .; fi';
  const result = await ctx.runtime.exec(ctx.pod, ["bash", "-c", script], {
    cwd: ctx.files.worktree,
    env: { PIER_PATTERN: pattern, ...(glob ? { PIER_GLOB: glob } : {}) },
    timeoutMs: 60_000,
    maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES,
  });
  if (result.exitCode === 1 && !result.stderr) return { output: "No matches.", isError: false };
  if (result.exitCode !== 0) return { output: result.stderr || `search failed with exit code ${result.exitCode}`, isError: true };
  return { output: truncate(result.stdout), isError: false };
}

function unifiedDiff(path: string, before: string, after: string): string {
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, "", "", { context: 3 });
}
