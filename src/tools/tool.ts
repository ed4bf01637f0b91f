import type { Static, TObject } from "@sinclair/typebox";
import type { Actor } from "../auth/actor.ts";
import type { Pod, Runtime } from "../runtime/runtime.ts";
import type { Skills } from "../skills/skills.ts";
import type { Tasks } from "../tasks/tasks.ts";
import type { WorktreeFiles } from "../workspaces/worktree-files.ts";

/** What a task tool needs: who acts (the agent, for its session) and the tasks it acts on. */
export interface TaskToolContext {
  actor: Actor;
  tasks: Tasks;
}

/** What a tool needs to act in one session's worktree (always through the session's pod), on its task and with its skills. */
export interface ToolContext extends TaskToolContext {
  skills: Skills;
  runtime: Runtime;
  pod: Pod;
  files: WorktreeFiles;
  env: Record<string, string>;
  /** Aborted when the person interrupts: a tool that runs a command stops it in the pod. */
  signal: AbortSignal;
}

export interface ToolResult {
  output: string;
  isError: boolean;
  /** A unified diff, for file edits. */
  diff?: string;
}

/**
 * One tool the agent may call. `input` is a TypeBox schema: it is the JSON Schema
 * the model is shown, and the check the model's input must pass before `run` sees it.
 */
export interface Tool<Input extends TObject = TObject, Context = ToolContext> {
  name: string;
  description: string;
  input: Input;
  /**
   * Another program checks the input against a schema of its own that TypeBox cannot check (an
   * MCP server's JSON Schema): the registry then passes any object on as the model sent it.
   */
  checksOwnInput?: boolean;
  /** Errors the model can act on come back as results; a thrown error becomes one too. */
  run(ctx: Context, input: Static<Input>): Promise<ToolResult>;
}

/** Keeps a tool's `run` typed by its own schema (and the context it needs). */
export function defineTool<Input extends TObject, Context = ToolContext>(tool: Tool<Input, Context>): Tool<Input, Context> {
  return tool;
}
