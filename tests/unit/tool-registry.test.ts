import { describe, expect, test } from "bun:test";
import { type TObject, Type } from "@sinclair/typebox";
import { requiredText } from "../../src/infra/input.ts";
import { ToolRegistry, builtInTools } from "../../src/tools/registry.ts";
import type { Tool, ToolContext } from "../../src/tools/tool.ts";
import type { WorktreeFiles } from "../../src/workspaces/worktree-files.ts";

// Only the registry's own work is checked here: the tools' work in a pod is in tests/chat and tests/security.

/** A context whose worktree lists `paths` and whose every file reads as `content`; nothing else of it is reached. */
function listing(paths: string[], content = ""): ToolContext {
  const files = {
    worktree: "/w",
    list: async () => ({ paths, truncated: false }),
    read: async () => ({ size: content.length, content, sha256: null }),
  } as unknown as WorktreeFiles;
  return { files, signal: new AbortController().signal } as ToolContext;
}

describe("the tool registry", () => {
  test("offers each tool to the model as plain JSON Schema, in a stable order", () => {
    const definitions = JSON.parse(JSON.stringify(builtInTools.definitions()));
    expect(definitions.map((d: { name: string }) => d.name)).toEqual([
      "bash", "read_file", "write_file", "edit_file", "list_files", "search",
      "get_my_task", "update_task_status", "add_task_note", "create_subtask", "list_tasks",
      "load_skill", "propose_skill",
    ]);
    expect(definitions[0].input_schema).toEqual({
      type: "object",
      required: ["command"],
      properties: {
        command: { type: "string", description: "The command line, run with bash -lc." },
        timeout_seconds: { type: "number", description: "Stop the command after this long (default 120, at most 600)." },
      },
    });
  });

  test("input that does not fit a tool's schema comes back to the model as an error naming the field", async () => {
    const ctx = listing([]);
    const missing = await builtInTools.run("bash", {}, ctx);
    expect(missing).toEqual({ isError: true, output: expect.stringContaining("command: expected required property") });
    const wrongType = await builtInTools.run("read_file", { path: "a.txt", start_line: "first" }, ctx);
    expect(wrongType).toEqual({ isError: true, output: expect.stringContaining("start_line: expected number") });
    expect((await builtInTools.run("edit_file", "not an object", ctx)).isError).toBe(true);
    expect(await builtInTools.run("rm_rf", {}, ctx)).toEqual({ isError: true, output: "There is no tool named rm_rf." });
  });

  test("null reads as a field left out and a number may come as a string", async () => {
    const ctx = listing(["a.ts", "b.md", "src/c.ts"], "one\ntwo\nthree");
    expect(await builtInTools.run("list_files", { pattern: null }, ctx)).toEqual({ isError: false, output: "a.ts\nb.md\nsrc/c.ts" });
    expect(await builtInTools.run("read_file", { path: "a.ts", start_line: "2", end_line: "2" }, ctx)).toEqual({
      isError: false,
      output: "    2\ttwo\n[1 more lines; ask for a range]",
    });
    expect(await builtInTools.run("list_files", { pattern: "**/*.ts", extra: 1 }, ctx)).toEqual({ isError: false, output: "a.ts\nsrc/c.ts" });
  });

  test("a tool that throws becomes an error result", async () => {
    const files = { worktree: "/w", list: async () => Promise.reject(new Error("the pod is gone")) } as unknown as WorktreeFiles;
    const result = await builtInTools.run("list_files", {}, { files, signal: new AbortController().signal } as ToolContext);
    expect(result).toEqual({ isError: true, output: "The tool failed: the pod is gone" });
  });

  test("a tool that checks its own input (an MCP server's) gets any object as sent, and its raw JSON Schema goes to the model", async () => {
    const schema = { type: "object", properties: { when: { type: "string", format: "date-time" } }, required: ["when"], additionalProperties: false };
    const seen: unknown[] = [];
    const own: Tool = {
      name: "mcp__clock__at",
      description: "Its server checks the input.",
      input: schema as unknown as TObject,
      checksOwnInput: true,
      run: async (_ctx, input) => {
        seen.push(input);
        return { output: "ok", isError: false };
      },
    };
    const tools = new ToolRegistry([own]);
    expect(JSON.parse(JSON.stringify(tools.definitions()))).toEqual([{ name: "mcp__clock__at", description: "Its server checks the input.", input_schema: schema }]);
    const ctx = listing([]);
    expect(await tools.run("mcp__clock__at", { when: 42, extra: null }, ctx)).toEqual({ output: "ok", isError: false });
    expect(seen).toEqual([{ when: 42, extra: null }]);
    for (const wrong of ["a string", ["an", "array"], null]) {
      expect(await tools.run("mcp__clock__at", wrong, ctx)).toEqual({ isError: true, output: "The input must be an object; call the tool again with one." });
    }
    expect(seen).toHaveLength(1);
  });
  test("Pier's own keywords (a field's sentences, its trimming) stay out of what the model is shown; the limits, and a property named like one, stay in", () => {
    const own: Tool = {
      name: "file_bug",
      description: "Files a bug.",
      input: Type.Object({ error: requiredText("Error", { maxLength: 5, rule: "Error is 1–5 characters.", trim: true }), rule: Type.Array(Type.String({ maxLength: 3, rule: "At most 3." }), { maxItems: 2 }) }),
      run: async () => ({ output: "ok", isError: false }),
    };
    const [definition] = JSON.parse(JSON.stringify(new ToolRegistry([own]).definitions()));
    expect(definition.input_schema).toEqual({
      type: "object",
      required: ["error", "rule"],
      properties: {
        error: { type: "string", title: "Error", minLength: 1, maxLength: 5 },
        rule: { type: "array", maxItems: 2, items: { type: "string", maxLength: 3 } },
      },
    });
    expect(JSON.stringify(builtInTools.definitions())).not.toMatch(/"(error|rule|trim)":/);
  });
});
