import { Type } from "@sinclair/typebox";
import { MAX_FILE_BYTES, unifiedDiff } from "./output.ts";
import { defineTool } from "./tool.ts";

/** Reads, replaces once, and writes back only if the file did not change in between. */
export const editFile = defineTool({
  name: "edit_file",
  description:
    "Replace one exact occurrence of old_string with new_string in a file. Fails if old_string occurs zero or several times: include more context to make it unique.",
  input: Type.Object({ path: Type.String(), old_string: Type.String(), new_string: Type.String() }),
  async run(ctx, { path, old_string: oldString, new_string: newString }) {
    if (!oldString) return { output: "old_string must not be empty.", isError: true };
    const file = await ctx.files.read(path, MAX_FILE_BYTES, true);
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
    await ctx.files.replace(path, file.sha256!, after);
    return { output: `Edited ${path}.`, isError: false, diff: unifiedDiff(path, before, after) };
  },
});
