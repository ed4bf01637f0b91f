import type * as acp from "@agentclientprotocol/sdk";
import { truncate, unifiedDiff } from "../../tools/output.ts";

/** A path in the worktree as Pier's tools write it (relative); any other path as it is. */
function relative(path: string, worktree: string): string {
  const prefix = worktree.endsWith("/") ? worktree : `${worktree}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
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
