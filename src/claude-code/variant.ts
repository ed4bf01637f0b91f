import type { ClaudeCodeVariant } from "./package.ts";

/**
 * Which of Claude Code's Linux builds runs on a machine: by `uname -m`, and by the C library its
 * image has (musl, as on Alpine, needs the musl build). Null for a machine Claude Code has no
 * build for.
 */
export function claudeCodeVariant(machine: string, musl: boolean): ClaudeCodeVariant | null {
  const arch = { x86_64: "x64", amd64: "x64", aarch64: "arm64", arm64: "arm64" }[machine.trim()];
  if (!arch) return null;
  return `linux-${arch}${musl ? "-musl" : ""}` as ClaudeCodeVariant;
}
