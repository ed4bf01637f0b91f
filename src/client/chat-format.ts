// Small wording helpers for the chat pane.

import type { Usage } from "../costs/usage.ts";

/** `$1.23`; `<$0.01` for an amount too small to show as cents (but not zero). */
export function formatCost(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0) return "$0.00";
  if (usd < 0.005) return "<$0.01";
  return `$${usd.toFixed(2)}`;
}

/** "12.3k in, 456 out" (cached input counted as input). */
export function formatUsage(usage: Usage): string {
  const input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  return `${formatCount(input)} tokens in, ${formatCount(usage.outputTokens)} out`;
}

function formatCount(count: number): string {
  return count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
}

/** The part of a tool's input worth a glance: the command, the path, the pattern… */
export function toolSummary(input: unknown): string {
  let summary = "";
  if (typeof input === "string") summary = input;
  else if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const fields = input as Record<string, unknown>;
    const key = SUMMARY_KEYS.find((name) => typeof fields[name] === "string" && fields[name] !== "");
    const value = key ? fields[key] : Object.values(fields).find((v) => typeof v === "string" && v !== "");
    summary = typeof value === "string" ? value : JSON.stringify(input);
  } else if (input !== undefined) summary = JSON.stringify(input);
  summary = summary.replace(/\s+/g, " ").trim();
  return summary.length > 160 ? `${summary.slice(0, 159)}…` : summary;
}

const SUMMARY_KEYS = [
  "command", "cmd", "path", "file_path", "filePath", "file", "filename", "pattern", "query", "url", "description",
];
