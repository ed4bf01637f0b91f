import { CLAUDE_SETTINGS_PATH, claudeSettingsJson } from "../gateway/claude-settings.ts";
import { launchedMcpServer, mcpJson, pierMcpServer } from "../mcp-endpoint/pod-url.ts";
import type { McpServers } from "../mcp-servers/mcp-servers.ts";
import type { PodServices } from "../pods/pod-services.ts";
import type { SettingsStore } from "../settings/settings.ts";
import type { Skills } from "../skills/skills.ts";
import type { SessionFile } from "../workspaces/workspace.ts";
import type { Session } from "./session.ts";

export interface SessionFilesDeps {
  /** Where pods reach Pier now, or null when they cannot. */
  podUrl(): string | null;
  /** The helpers in the pod that ask Pier for the session's tokens and start its MCP servers. */
  services: Pick<PodServices, "mcpHeadersHelper" | "anthropicKeyHelper" | "mcpLauncher">;
  mcpServers: Pick<McpServers, "effective">;
  skills: Pick<Skills, "files">;
  settings: SettingsStore;
}

/**
 * Pier's own files in a session's worktree (see SessionFile), which Sessions writes when the
 * session starts and again when what they say changes:
 * - .mcp.json: Pier's endpoint when pods can reach it, and the repo's MCP servers (stdio, which
 *   need no network);
 * - .claude/settings.local.json: Claude Code through Pier's model gateway, when pods can reach it;
 * - the repo's skills.
 * No secret is in them: the helpers they name ask Pier for tokens when they run.
 */
export function sessionFiles(deps: SessionFilesDeps, session: Session): SessionFile[] {
  const { services, mcpServers, skills, settings } = deps;
  const key = { repoId: session.repoId, userId: session.userId };
  const url = deps.podUrl();
  const servers: Record<string, unknown> = url ? { pier: pierMcpServer(url, services.mcpHeadersHelper(key, session.id)) } : {};
  for (const { name } of mcpServers.effective(session.repoId)) servers[name] = launchedMcpServer(services.mcpLauncher(key), session.id, name);
  return [
    ...(Object.keys(servers).length > 0 ? [{ path: ".mcp.json", content: mcpJson(servers) }] : []),
    ...(url
      ? [{ path: CLAUDE_SETTINGS_PATH, content: claudeSettingsJson({ podUrl: url, keyHelper: services.anthropicKeyHelper(key, session.id), model: session.model ?? settings.plain().defaultModel }) }]
      : []),
    ...skills.files(session.repoId),
  ];
}
