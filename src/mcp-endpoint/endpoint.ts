import type { Actor } from "../auth/actor.ts";
import type { HeldTokens } from "../auth/held-tokens.ts";
import { SessionTokens } from "../auth/session-tokens.ts";
import { findUser } from "../auth/users.ts";
import type { Db } from "../infra/db.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { Session } from "../sessions/session.ts";
import type { Tasks } from "../tasks/tasks.ts";
import type { TaskToolContext } from "../tools/tool.ts";
import type { ToolRegistry } from "../tools/registry.ts";
import { mcpTokens } from "./tables.ts";

/** How long a token lasts (Claude Code asks for one whenever it connects). */
const TOKEN_LIFETIME_MS = 12 * 60 * 60_000;
const PREFIX = "pier_mcp_";

/**
 * The MCP SDK, loaded on the first request to /mcp: it weighs about 30 MiB once loaded, which an
 * instance whose pods never call Pier should not carry from start-up.
 */
let sdk: Promise<[typeof import("@modelcontextprotocol/sdk/server/index.js"), typeof import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"), typeof import("@modelcontextprotocol/sdk/types.js")]> | undefined;
function loadSdk() {
  sdk ??= Promise.all([
    import("@modelcontextprotocol/sdk/server/index.js"),
    import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]);
  return sdk;
}

export interface McpDeps {
  db: Db;
  sessions: Sessions;
  tasks: Tasks;
  tools: ToolRegistry<TaskToolContext>;
  version: string;
  /** Why the tool policy refuses this tool in the session, or null when it may run. */
  refusal(sessionId: string, tool: string): string | null;
}

/**
 * Pier's MCP endpoint: the task tools of the chat's agent, served over Streamable HTTP to MCP
 * clients working in a session (Claude Code in its terminal, above all). A bearer token reaches
 * only its session (and so only that session's task): the caller acts as that session's agent,
 * through the same tools and the same checks as the chat's agent. Tokens are minted for a live
 * session only, are taken only while it is live, and all go when it ends or fails.
 */
export class McpEndpoint {
  /** The endpoint's tokens: each good for one session while it is live. */
  readonly tokens: SessionTokens<Session>;
  /** The token each session's pod gets for its MCP header, the same one however often it asks (see HeldTokens). */
  private podTokens: HeldTokens;

  constructor(private deps: McpDeps) {
    this.tokens = new SessionTokens({ db: deps.db, table: mcpTokens, prefix: PREFIX, lifetimeMs: TOKEN_LIFETIME_MS, live: (sessionId) => deps.sessions.findLive(sessionId) });
    this.podTokens = this.tokens.held();
  }

  /** A new token for a live session (its person's scripts ask for one of their own). */
  mint(sessionId: string, lifetimeMs = TOKEN_LIFETIME_MS): string {
    return this.tokens.mint(sessionId, lifetimeMs);
  }

  /** The token for a live session's Claude Code in its pod: the one it was last given while that has hours left. */
  podToken(sessionId: string): string {
    this.tokens.assertLive(sessionId);
    return this.podTokens.for(sessionId);
  }

  /** The session ended or failed (its host releases it): its tokens stop working at once. */
  revoke(sessionId: string): void {
    this.tokens.revoke(sessionId);
  }

  /** Answers one HTTP request to /mcp (stateless: a fresh server and transport per request); `body` is its JSON, already read. */
  async handle(request: Request, body: unknown): Promise<Response> {
    const actor = this.actorFor(request.headers.get("authorization"));
    if (!actor) {
      return Response.json(
        { jsonrpc: "2.0", error: { code: -32001, message: "Send the session's MCP token as Authorization: Bearer <token>; this one is missing, unknown, expired or revoked." }, id: null },
        { status: 401, headers: { "www-authenticate": 'Bearer realm="pier-mcp"' } },
      );
    }
    const [{ Server }, { WebStandardStreamableHTTPServerTransport }, { CallToolRequestSchema, ListToolsRequestSchema }] = await loadSdk();
    const server = new Server({ name: "pier", version: this.deps.version }, { capabilities: { tools: {} } });
    const { tools, tasks } = this.deps;
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: tools.definitions().map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.input_schema as { type: "object" } })),
    }));
    server.setRequestHandler(CallToolRequestSchema, async ({ params }) => {
      const refused = actor.kind === "agent" ? this.deps.refusal(actor.sessionId, params.name) : null;
      if (refused) return { content: [{ type: "text", text: refused }], isError: true };
      const result = await tools.run(params.name, params.arguments ?? {}, { actor, tasks });
      return { content: [{ type: "text", text: result.output }], isError: result.isError };
    });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request, { parsedBody: body });
    } finally {
      await server.close();
    }
  }

  /** The agent of the token's live session, or null for a missing, unknown, expired or revoked token, or a session no longer live. */
  private actorFor(header: string | null): Actor | null {
    const session = this.tokens.sessionOf(header?.match(/^Bearer\s+(\S+)$/i)?.[1]);
    if (!session) return null;
    const user = findUser(this.deps.db, session.userId);
    return user ? { kind: "agent", user, sessionId: session.id } : null;
  }
}
