import type { TObject } from "@sinclair/typebox";
import type { Tool, ToolContext } from "../tools/tool.ts";
import type { EffectiveMcpServer, McpServers } from "./mcp-servers.ts";
import { type PodPlace, PodMcpServer } from "./pod-mcp-server.ts";

/** What the MCP servers of a session need to know of it. */
export interface McpSession {
  id: string;
  repoId: string;
  userId: string;
  worktreePath: string;
}

export interface AgentMcpServersDeps {
  servers: McpServers;
  /** The session's pod (started if it stopped), where its servers run. */
  podOf(session: McpSession): Promise<Omit<PodPlace, "cwd">>;
  /** The launcher and its arguments that start the session's server `name` in its pod (see PodServices.mcpLauncher). */
  launcher(session: McpSession, name: string): string[];
  /** Tells the session's chat about a server that failed, once: an error item its person sees. */
  report(sessionId: string, message: string): void;
  version: string;
}

/** The names the Messages API takes for tools. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const MAX_DESCRIPTION = 4000;
const MAX_SCHEMA_BYTES = 64 * 1024;

/**
 * The MCP servers the chat's agent uses, per live session: each of the session's servers is
 * started once, in its pod and worktree, the first time a turn needs tools, and offered to the
 * model as `mcp__<server>__<tool>`. A change to a server's settings restarts it at the next turn.
 * A server that cannot start, or ends, is told to the chat once and left out (until its settings
 * change); the other servers and the turn go on. All of a session's servers stop when it ends.
 */
export class AgentMcpServers {
  /** Each live session's servers: stopped and let go as its host ends it (HostParts.stopAgentProcesses). */
  private sessions = new Map<string, SessionServers>();

  constructor(private deps: AgentMcpServersDeps) {}

  /** The tools of the session's servers for this turn, starting what is not running yet. */
  tools(session: McpSession): Promise<Tool[]> {
    let servers = this.sessions.get(session.id);
    if (!servers) {
      servers = new SessionServers(session, this.deps);
      this.sessions.set(session.id, servers);
    }
    return servers.tools();
  }

  /** The session ends: its servers stop (a resumed session starts them afresh). */
  async stop(sessionId: string): Promise<void> {
    const servers = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    await servers?.stop();
  }

  /** Server shutdown: every server stops (they would not outlive Pier's connections to them anyway). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.stop(id)));
  }
}

interface Running {
  /** Which settings it runs with: its id and revision. */
  version: string;
  server: PodMcpServer;
  tools: Tool[];
}

/** One session's servers. Changes happen one at a time, so two turns never start a server twice. */
class SessionServers {
  private running = new Map<string, Running>();
  /** Servers that failed or ended, by name, with the settings they had: left out until those change. */
  private failed = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private session: McpSession,
    private deps: AgentMcpServersDeps,
  ) {}

  tools(): Promise<Tool[]> {
    const next = this.queue.then(() => this.refresh());
    this.queue = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map(({ server }) => server.stop()));
  }

  /** Brings the running servers in line with the settings, then gives their tools. */
  private async refresh(): Promise<Tool[]> {
    if (this.stopped) return [];
    const wanted = new Map(this.deps.servers.effective(this.session.repoId).map((server) => [server.name, server]));
    for (const [name, entry] of [...this.running]) {
      if (wanted.get(name) && versionOf(wanted.get(name)!) === entry.version) continue;
      this.running.delete(name);
      await entry.server.stop();
    }
    for (const [name, version] of [...this.failed]) {
      if (!wanted.get(name) || versionOf(wanted.get(name)!) !== version) this.failed.delete(name);
    }
    const toStart = [...wanted.values()].filter((server) => !this.running.has(server.name) && !this.failed.has(server.name));
    if (toStart.length > 0) {
      const pod = await this.deps.podOf(this.session).catch((error: unknown) => {
        // Not the turn's failure: the agent goes on with its own tools.
        for (const server of toStart) this.failedToStart(server, error);
        return null;
      });
      if (pod) await Promise.all(toStart.map((server) => this.start(server, { ...pod, cwd: this.session.worktreePath })));
    }
    return [...this.running.values()].flatMap((entry) => entry.tools);
  }

  private failedToStart(settings: EffectiveMcpServer, error: unknown): void {
    this.failed.set(settings.name, versionOf(settings));
    const why = error instanceof Error ? error.message : String(error);
    this.deps.report(this.session.id, `The MCP server ${settings.name} could not start: ${why}. The agent goes on without its tools until its settings change.`);
  }

  private async start(settings: EffectiveMcpServer, place: PodPlace): Promise<void> {
    const { name } = settings;
    const version = versionOf(settings);
    let server: PodMcpServer;
    try {
      server = await PodMcpServer.start(name, place, this.deps.launcher(this.session, name), this.deps.version);
    } catch (error) {
      return this.failedToStart(settings, error);
    }
    if (this.stopped) return void (await server.stop());
    const { tools, leftOut } = offeredTools(server);
    this.running.set(name, { version, server, tools });
    if (leftOut.length > 0) {
      this.deps.report(this.session.id, `The MCP server ${name} offers tools the agent cannot be given (a name the model API does not take, or a schema over ${MAX_SCHEMA_BYTES / 1024} KiB): ${leftOut.join(", ")}.`);
    }
    server.onStopped((reason) => {
      if (this.running.get(name)?.server !== server) return;
      this.running.delete(name);
      this.failed.set(name, version);
      this.deps.report(this.session.id, `The MCP server ${name} stopped: ${reason}. Its tools are gone from this session until its settings change.`);
    });
  }
}

function versionOf(server: EffectiveMcpServer): string {
  return `${server.id}#${server.revision}`;
}

/**
 * The server's tools as the agent's: `mcp__<server>__<tool>`, with the server's own JSON Schema
 * for their input, which the server itself checks (checksOwnInput); those the model API could
 * not take are left out.
 */
function offeredTools(server: PodMcpServer): { tools: Tool[]; leftOut: string[] } {
  const tools: Tool[] = [];
  const leftOut: string[] = [];
  for (const tool of server.tools) {
    const name = `mcp__${server.name}__${tool.name}`;
    if (!TOOL_NAME.test(name) || JSON.stringify(tool.inputSchema).length > MAX_SCHEMA_BYTES) {
      leftOut.push(JSON.stringify(tool.name.slice(0, 80)));
      continue;
    }
    tools.push({
      name,
      description: (tool.description || `${tool.name}, from the MCP server ${server.name}.`).slice(0, MAX_DESCRIPTION),
      // Only ever sent to the model as JSON: the registry does not check it (checksOwnInput).
      input: tool.inputSchema as unknown as TObject,
      checksOwnInput: true,
      run: (ctx: ToolContext, input: Record<string, unknown>) => server.call(tool.name, input, ctx.signal),
    });
  }
  return { tools, leftOut };
}
