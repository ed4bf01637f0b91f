import { Type } from "@sinclair/typebox";
import { defineTool } from "./tool.ts";

const MAX_LISTED = 1000;

export const listFiles = defineTool({
  name: "list_files",
  description: "List files of the worktree matching a glob (default **/*), without .git. At most 1000 paths.",
  input: Type.Object({ pattern: Type.Optional(Type.String()) }),
  async run(ctx, { pattern }) {
    const glob = new Bun.Glob(pattern || "**/*");
    const listing = await ctx.files.list();
    const matches = listing.paths.filter((path) => glob.match(path)).sort();
    const shown = matches.slice(0, MAX_LISTED);
    const notes = [
      matches.length > MAX_LISTED ? `[stopped at ${MAX_LISTED} paths]` : "",
      listing.truncated ? "[the worktree has too many files to list them all; narrow the pattern or use bash]" : "",
    ].filter(Boolean);
    return { output: shown.length ? [...shown, ...notes].join("\n") : ["No files match.", ...notes].join("\n"), isError: false };
  },
});
