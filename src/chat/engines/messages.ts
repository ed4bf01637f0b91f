import type Anthropic from "@anthropic-ai/sdk";
import type { Usage } from "../../costs/usage.ts";
import type { ChatItem } from "../protocol.ts";

/**
 * The Messages API's message list for a conversation. Roles must alternate and every tool_use
 * needs its tool_result, so consecutive items of one role are merged into one message, and a
 * tool call left without a result (an interrupted turn) gets one saying so.
 */
export function toApiMessages(all: ChatItem[]): Anthropic.MessageParam[] {
  const messages: Anthropic.MessageParam[] = [];
  const summary = all.findLast((item) => item.kind === "summary");
  const items = summary?.kind === "summary" ? all.slice(summary.keepFrom).filter((item) => item.kind !== "summary") : all;
  const push = (role: "user" | "assistant", block: Anthropic.ContentBlockParam) => {
    const last = messages.at(-1);
    if (last?.role === role) (last.content as Anthropic.ContentBlockParam[]).push(block);
    else messages.push({ role, content: [block] });
  };
  if (summary?.kind === "summary") {
    messages.push({ role: "user", content: [{ type: "text", text: `Summary of our earlier conversation:\n${summary.text}` }] });
  }
  const answered = new Set(items.flatMap((item) => (item.kind === "tool_result" ? [item.id] : [])));
  for (const item of items) {
    if (item.kind === "user") push("user", { type: "text", text: item.text });
    else if (item.kind === "assistant" && item.text) push("assistant", { type: "text", text: item.text });
    else if (item.kind === "tool_call") {
      push("assistant", { type: "tool_use", id: item.id, name: item.name, input: item.input as Record<string, unknown> });
      if (!answered.has(item.id)) push("user", { type: "tool_result", tool_use_id: item.id, content: "Interrupted before it finished.", is_error: true });
    } else if (item.kind === "tool_result") push("user", { type: "tool_result", tool_use_id: item.id, content: item.output, is_error: item.isError });
  }
  // The API wants tool results before any text in a user message.
  for (const message of messages) {
    if (message.role === "user" && Array.isArray(message.content)) {
      message.content.sort((a, b) => Number(b.type === "tool_result") - Number(a.type === "tool_result"));
    }
  }
  return messages;
}

/**
 * Where a summary may end: the start of a user turn, so that the kept items begin with a user
 * message and no tool call is parted from its result. Keeps at least the last `keepTurns` turns.
 */
export function summaryCut(items: ChatItem[], keepTurns: number): number | null {
  const turnStarts = items.flatMap((item, i) => (item.kind === "user" && (i === 0 || items[i - 1]!.kind !== "user") ? [i] : []));
  if (turnStarts.length <= keepTurns) return null;
  const cut = turnStarts[turnStarts.length - keepTurns]!;
  const previous = items.findLast((item) => item.kind === "summary");
  if (previous?.kind === "summary" && previous.keepFrom >= cut) return null;
  return cut;
}

/** A response's tokens, as the cost ledger counts them. */
export function usageOf(response: Anthropic.Message): Usage {
  return {
    inputTokens: response.usage.input_tokens,
    outputTokens: response.usage.output_tokens,
    cacheWriteTokens: response.usage.cache_creation_input_tokens ?? 0,
    cacheReadTokens: response.usage.cache_read_input_tokens ?? 0,
  };
}
