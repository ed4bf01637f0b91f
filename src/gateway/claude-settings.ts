import { GATEWAY_PREFIX } from "./gateway.ts";

/** Where Pier writes a session's Claude Code settings in its worktree (kept out of git, like .mcp.json). */
export const CLAUDE_SETTINGS_PATH = ".claude/settings.local.json";

/** Where Claude Code in the session reaches Pier's model gateway, when pods reach Pier. */
export interface GatewaySettings {
  podUrl: string;
  keyHelper: string;
  model: string;
}

/**
 * A session's `.claude/settings.local.json`: Claude Code started in the worktree (in the terminal,
 * or by the chat) sends its model requests to Pier's gateway, with a token its key helper asks
 * Pier for as it needs one, and defaults to the session's model, which Pier's price table knows,
 * so what it spends is costed (a person may still pick another in Claude Code; one the table
 * lacks is then not costed, and the log says so). No token or credential is in the file.
 */
export function claudeSettingsJson(gateway: GatewaySettings): string {
  const settings = { apiKeyHelper: gateway.keyHelper, model: gateway.model, env: { ANTHROPIC_BASE_URL: `${gateway.podUrl}${GATEWAY_PREFIX}` } };
  return `${JSON.stringify(settings, null, 2)}\n`;
}

/**
 * What a session's shell gets in its environment so that a claude typed in the terminal finds the
 * gateway (its key helper is in the worktree's settings above): nothing when pods cannot reach Pier.
 */
export function terminalGatewayEnv(podUrl: string | null): Record<string, string> {
  return podUrl ? { ANTHROPIC_BASE_URL: `${podUrl}${GATEWAY_PREFIX}` } : {};
}
