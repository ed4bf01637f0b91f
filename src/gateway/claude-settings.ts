import { GATEWAY_PREFIX } from "./gateway.ts";

/** Where Pier writes a session's Claude Code settings in its worktree (kept out of git, like .mcp.json). */
export const CLAUDE_SETTINGS_PATH = ".claude/settings.local.json";

/**
 * A session's `.claude/settings.local.json`: Claude Code started in the worktree (in the terminal,
 * or by the chat) sends its model requests to Pier's gateway, with a token its key helper asks
 * Pier for as it needs one. Neither the token nor any credential is in the file. Its default model
 * is the session's, which Pier's price table knows, so what it spends is costed (a person may still
 * pick another in Claude Code; one the table lacks is then not costed, and the log says so).
 */
export function claudeSettingsJson(podUrl: string, keyHelper: string, model: string): string {
  return `${JSON.stringify({ apiKeyHelper: keyHelper, model, env: { ANTHROPIC_BASE_URL: `${podUrl}${GATEWAY_PREFIX}` } }, null, 2)}\n`;
}
