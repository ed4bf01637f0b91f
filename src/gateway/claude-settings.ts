import { GATEWAY_PREFIX } from "./gateway.ts";

/** Where Pier writes a session's Claude Code settings in its worktree (kept out of git, like .mcp.json). */
export const CLAUDE_SETTINGS_PATH = ".claude/settings.local.json";

/**
 * A session's `.claude/settings.local.json`: Claude Code started in the worktree (in the terminal,
 * or by the chat) sends its model requests to Pier's gateway, with a token its key helper asks
 * Pier for as it needs one. Neither the token nor any credential is in the file.
 */
export function claudeSettingsJson(podUrl: string, keyHelper: string): string {
  return `${JSON.stringify({ apiKeyHelper: keyHelper, env: { ANTHROPIC_BASE_URL: `${podUrl}${GATEWAY_PREFIX}` } }, null, 2)}\n`;
}
