import type { TObject } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { brokenRule, normalizedInput, publicSchema } from "../infra/input.ts";
import { PodScriptRefusal } from "../workspaces/pod-script.ts";
import { bash } from "./bash.ts";
import { editFile } from "./edit-file.ts";
import { listFiles } from "./list-files.ts";
import { readFile } from "./read-file.ts";
import { search } from "./search.ts";
import { loadSkill, proposeSkill } from "./skill-tools.ts";
import { addTaskNote, createSubtask, getMyTask, listTasks, updateTaskStatus } from "./task-tools.ts";
import type { TaskToolContext, Tool, ToolContext, ToolResult } from "./tool.ts";
import { writeFile } from "./write-file.ts";

/** A tool as the Messages API takes it; a TypeBox schema is JSON Schema as it is. */
export interface ToolDefinition {
  name: string;
  description: string;
  input_schema: TObject;
}

/**
 * A set of tools by name: what an engine offers the model, what a tool policy narrows, what an
 * MCP server serves. Every call goes through `run`, which checks the input against the tool's
 * schema first, so no tool sees input of the wrong shape.
 */
export class ToolRegistry<Context = ToolContext> {
  private readonly byName: Map<string, Tool<TObject, Context>>;

  constructor(readonly tools: readonly Tool<TObject, Context>[]) {
    this.byName = new Map(tools.map((tool) => [tool.name, tool]));
  }

  /** Pier's tools as plain JSON Schema (the same limits, without Pier's own keywords); an MCP server's as its server wrote it. */
  definitions(): ToolDefinition[] {
    return this.tools.map(({ name, description, input, checksOwnInput }) => ({ name, description, input_schema: checksOwnInput ? input : publicSchema(input) }));
  }

  /** Runs one call. An unknown tool, input that does not fit and a failing tool all come back as results the model can act on. */
  async run(name: string, input: unknown, ctx: Context): Promise<ToolResult> {
    const tool = this.byName.get(name);
    if (!tool) return { output: `There is no tool named ${name}.`, isError: true };
    const checked = tool.checksOwnInput ? anObject(input) : checkInput(tool, input);
    if (typeof checked === "string") return { output: checked, isError: true };
    try {
      return await tool.run(ctx, checked);
    } catch (error) {
      return {
        output: error instanceof PodScriptRefusal ? error.message : `The tool failed: ${error instanceof Error ? error.message : String(error)}`,
        isError: true,
      };
    }
  }
}

/** The tools on the session's task: what the chat's agent has, and what Pier's MCP endpoint serves. */
export const taskTools = new ToolRegistry<TaskToolContext>([getMyTask, updateTaskStatus, addTaskNote, createSubtask, listTasks]);

/** Pier's own tools, in the order the model is shown them. */
export const builtInTools = new ToolRegistry<ToolContext>([bash, readFile, writeFile, editFile, listFiles, search, ...taskTools.tools, loadSkill, proposeSkill]);

/** Input for a tool that checks its own: any object will do here. */
function anObject(input: unknown): Record<string, unknown> | string {
  return input && typeof input === "object" && !Array.isArray(input) ? (input as Record<string, unknown>) : "The input must be an object; call the tool again with one.";
}

/**
 * The model's input as the tool's schema types it, or a sentence saying what does not fit. Models
 * send null for a field they mean to leave out, and numbers as strings ("30"), so both are taken
 * as meant, and text fields that say so are trimmed (as for a person). A limit the domain words
 * (a title's length) is refused in the domain's words; anything else that does not fit is refused
 * naming the field.
 */
function checkInput(tool: Tool<TObject, never>, input: unknown): Record<string, unknown> | string {
  const given = input && typeof input === "object" && !Array.isArray(input) ? Object.entries(input).filter(([, value]) => value !== null) : null;
  const value = given ? normalizedInput(tool.input, Value.Convert(tool.input, Object.fromEntries(given)) as Record<string, unknown>) : input;
  if (Value.Check(tool.input, value)) return value as Record<string, unknown>;
  const rule = brokenRule(tool.input, value);
  if (rule) return rule;
  const problems = new Map<string, string>();
  for (const error of Value.Errors(tool.input, value)) {
    const field = error.path.slice(1) || "input";
    if (!problems.has(field)) problems.set(field, `${field}: ${error.message.toLowerCase()}`);
  }
  return `The input does not fit ${tool.name}'s schema (${[...problems.values()].join("; ")}); call it again with input that does.`;
}
