import { Type } from "@sinclair/typebox";
import { unifiedDiff } from "./output.ts";
import { defineTool } from "./tool.ts";

/** A write shows a diff against what the file held when that was at most this big. */
const MAX_DIFF_BEFORE_BYTES = 1024 * 1024;

export const writeFile = defineTool({
  name: "write_file",
  description: "Create or overwrite a file of the worktree with the given content.",
  input: Type.Object({ path: Type.String(), content: Type.String() }),
  async run(ctx, { path, content }) {
    const { created, before } = await ctx.files.write(path, content, MAX_DIFF_BEFORE_BYTES);
    const diff = before === null && !created ? undefined : unifiedDiff(path, before ?? "", content);
    return { output: `${created ? "Created" : "Wrote"} ${path} (${content.length} characters).`, isError: false, diff };
  },
});
