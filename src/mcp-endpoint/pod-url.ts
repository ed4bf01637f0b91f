import type { Config } from "../infra/config.ts";

/**
 * The address a pod reaches Pier at, for Pier's MCP endpoint, or null when it cannot:
 * - PIER_POD_URL when set (Pier behind a proxy, or on another host);
 * - the local runtime and pods on the host's network: 127.0.0.1;
 * - pods on a bridge network: the Docker host's gateway (host.docker.internal, which Pier maps
 *   for each pod), where Pier must listen on more than 127.0.0.1;
 * - pods with no network (`none`): nothing reaches Pier.
 */
export function podUrlOfPier(config: Config, runtime: "docker" | "local", port: number): string | null {
  if (config.podUrl) return config.podUrl;
  const loopbackOnly = config.host === "127.0.0.1" || config.host === "localhost" || config.host === "::1";
  if (runtime === "local" || config.podNetwork === "host") return `http://127.0.0.1:${port}`;
  if (config.podNetwork === "none" || loopbackOnly) return null;
  return `http://host.docker.internal:${port}`;
}

/** Pier's own MCP server as .mcp.json lists it: its endpoint, with the token asked of Pier by a helper when Claude Code connects. */
export function pierMcpServer(url: string, headersHelper: string) {
  return { type: "http", url: `${url}/mcp`, headersHelper };
}

/**
 * One of the session's configured MCP servers as .mcp.json lists it: Pier's launcher in the pod,
 * which asks Pier for the server's command and secret environment as it starts it, so neither is
 * in the file.
 */
export function launchedMcpServer(launcher: string, sessionId: string, name: string) {
  return { type: "stdio", command: launcher, args: [sessionId, name] };
}

/** A session's .mcp.json: the MCP servers Claude Code in its terminal finds, by name. */
export function mcpJson(servers: Record<string, unknown>): string {
  return `${JSON.stringify({ mcpServers: servers }, null, 2)}\n`;
}
