import type * as acp from "@agentclientprotocol/sdk";
import { truncate, unifiedDiff } from "../../tools/output.ts";

/** A path in the worktree as Pier's tools write it (relative); any other path as it is. */
function relative(path: string, worktree: string): string {
  const prefix = worktree.endsWith("/") ? worktree : `${worktree}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** What an agent says of a tool call, in a tool_call, a tool_call_update or a permission request. */
type ToolCallFields = Pick<acp.ToolCallUpdate, "name" | "kind" | "title" | "rawInput" | "locations">;

/** Agents whose tool calls carry the tool's own name as their first title (opencode's `bash`, `edit`…), by package. */
const TITLES_NAME_TOOLS = new Set(["opencode-ai"]);

/**
 * The name the chat shows a tool call by, and tool policies name it by: the agent's own name for
 * the tool where it gives one; else, for an agent known to give it as the call's first title
 * (opencode), that title; else the kind ACP says it is (`read`, `edit`, `execute`…). Another
 * agent's title is free text (Gemini CLI's is the command line itself), which a policy could not
 * name its tool by: `execute` holds every command.
 */
export function acpToolName(call: ToolCallFields, agentPackage: string | null): string {
  if (call.name) return call.name;
  if (call.title && agentPackage !== null && TITLES_NAME_TOOLS.has(agentPackage)) return call.title;
  return call.kind ?? "other";
}

/**
 * A tool call's input: its raw input where the agent gives it; else, where it gives none (Gemini
 * CLI), its title and the paths it works on, so the chat and an approval card still say what it
 * does. Empty while nothing is known.
 */
export function acpToolInput(call: ToolCallFields, worktree: string, name: string): Record<string, unknown> {
  if (isObject(call.rawInput) && Object.keys(call.rawInput).length > 0) return call.rawInput;
  const paths = (call.locations ?? []).map((location) => relative(location.path, worktree));
  return {
    // A title that is the tool's name (opencode's) says nothing more.
    ...(call.title && call.title !== name ? { title: call.title } : {}),
    ...(paths.length > 0 ? { paths } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * What a finished tool call of an ACP agent says, as the chat's result text: its content's text
 * blocks, else its raw output (opencode gives `{output}`), cut as Pier's own tools' output is.
 */
export function acpResultText(content: acp.ToolCallContent[] | null | undefined, rawOutput: unknown): string {
  const parts: string[] = [];
  for (const block of content ?? []) {
    if (block.type === "content") parts.push(block.content.type === "text" ? block.content.text : `[${block.content.type}, not shown]`);
  }
  if (parts.length > 0) return truncate(parts.join("\n"));
  if (typeof rawOutput === "string") return truncate(rawOutput);
  const output = (rawOutput as { output?: unknown; error?: unknown } | null)?.output ?? (rawOutput as { error?: unknown } | null)?.error;
  if (typeof output === "string") return truncate(output);
  return rawOutput === undefined || rawOutput === null ? "" : truncate(JSON.stringify(rawOutput));
}

/** The changes a tool call reports (its `diff` content), as the same unified diff Pier's edit tools show; none when it reports none. */
export function acpDiff(content: acp.ToolCallContent[] | null | undefined, worktree: string): string | undefined {
  const patches = (content ?? []).flatMap((block) => {
    if (block.type !== "diff") return [];
    return [unifiedDiff(relative(block.path, worktree), block.oldText ?? "", block.newText)];
  });
  return patches.length > 0 ? patches.join("") : undefined;
}

const PLAN_MARKS: Record<acp.PlanEntryStatus, string> = { completed: "[x]", in_progress: "[>]", pending: "[ ]" };

/** An agent's plan as a to-do list, one entry a line, each marked done, under way or to do. */
export function planText(entries: acp.PlanEntry[]): string {
  return entries.map((entry) => `${PLAN_MARKS[entry.status]} ${entry.content}`).join("\n");
}
