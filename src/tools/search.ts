import { Type } from "@sinclair/typebox";
import { MAX_COMMAND_OUTPUT_BYTES, truncate } from "./output.ts";
import { defineTool } from "./tool.ts";

const SCRIPT =
  'if command -v rg >/dev/null; then rg -n --no-heading --color never --max-columns 300 ${PIER_GLOB:+-g "$PIER_GLOB"} -e "$PIER_PATTERN" .; ' +
  'else grep -rnE --exclude-dir=.git ${PIER_GLOB:+--include="$PIER_GLOB"} -e "$PIER_PATTERN" .; fi';

export const search = defineTool({
  name: "search",
  description: "Search file contents of the worktree for a regular expression (ripgrep where the pod has it). Returns matching lines with file and line number.",
  input: Type.Object({ pattern: Type.String(), glob: Type.Optional(Type.String({ description: "Only files matching this glob." })) }),
  async run(ctx, { pattern, glob }) {
    if (!pattern) return { output: "A pattern is required.", isError: true };
    const result = await ctx.runtime.exec(ctx.pod, ["bash", "-c", SCRIPT], {
      cwd: ctx.files.worktree,
      env: { PIER_PATTERN: pattern, ...(glob ? { PIER_GLOB: glob } : {}) },
      timeoutMs: 60_000,
      maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES,
    });
    if (result.exitCode === 1 && !result.stderr) return { output: "No matches.", isError: false };
    if (result.exitCode !== 0) return { output: result.stderr || `search failed with exit code ${result.exitCode}`, isError: true };
    return { output: truncate(result.stdout), isError: false };
  },
});
