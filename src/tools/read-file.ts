import { Type } from "@sinclair/typebox";
import { MAX_FILE_BYTES, truncate } from "./output.ts";
import { defineTool } from "./tool.ts";

const MAX_READ_LINES = 2000;

export const readFile = defineTool({
  name: "read_file",
  description: "Read a text file of the worktree, with line numbers. Optionally a range of lines (1-based, inclusive).",
  input: Type.Object({ path: Type.String(), start_line: Type.Optional(Type.Number()), end_line: Type.Optional(Type.Number()) }),
  async run(ctx, { path, start_line, end_line }) {
    const file = await ctx.files.read(path, MAX_FILE_BYTES);
    if (file.content.includes("\0")) return { output: `${path} is a binary file (${file.size} bytes); it is not shown.`, isError: true };
    const lines = file.content.split("\n");
    const from = Math.max(1, start_line || 1);
    const to = Math.min(lines.length, end_line || from + MAX_READ_LINES - 1, from + MAX_READ_LINES - 1);
    const shown = lines.slice(from - 1, to).map((line, i) => `${String(from + i).padStart(5)}\t${line}`);
    const rest = lines.length > to ? `\n[${lines.length - to} more lines; ask for a range]` : "";
    const cut = file.size > MAX_FILE_BYTES ? `\n[only the first ${MAX_FILE_BYTES} of ${file.size} bytes were read; use bash (sed -n) for the rest]` : "";
    return { output: truncate(shown.join("\n")) + rest + cut, isError: false };
  },
});
