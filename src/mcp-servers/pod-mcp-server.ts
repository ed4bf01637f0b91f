import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { type PodPlace, stopNotedProcess } from "../runtime/noted-process.ts";
import type { PodProcess } from "../runtime/runtime.ts";
import { truncate } from "../tools/output.ts";
import type { ToolResult } from "../tools/tool.ts";
import { PodProcessTransport } from "./pod-transport.ts";

/** Starting a server (its handshake and its list of tools) takes no longer than this. */
const START_TIMEOUT_MS = 30_000;
/** A tool call without progress for this long is given up; with progress, at most MAX_CALL_MS. */
const CALL_TIMEOUT_MS = 120_000;
const MAX_CALL_MS = 10 * 60_000;
const MAX_TOOL_PAGES = 10;
/** What is kept of a server's stderr, to say why it failed. */
const STDERR_TAIL_BYTES = 2048;

/**
 * The MCP SDK's client, loaded when a session first starts an MCP server: an instance whose
 * sessions have none should not carry it from start-up.
 */
let sdk: Promise<typeof import("@modelcontextprotocol/sdk/client/index.js")> | undefined;
const loadClient = () => (sdk ??= import("@modelcontextprotocol/sdk/client/index.js"));

/** Where a server runs: the session's pod, in its worktree. */
export type { PodPlace };

/** A server that could not start, with the sentence saying why. */
export class McpStartFailure extends Error {}

/**
 * One MCP server running in a session's pod, spoken to with the MCP SDK's client over its
 * stdin and stdout. It is started by the pod's launcher (which asks Pier for its command and
 * secret environment), under a small wrapper that notes its process id in the pod's /tmp, so it
 * can be stopped from outside even when it ignores its stdin closing.
 */
export class PodMcpServer {
  private stopping = false;
  private stoppedListeners: Array<(reason: string) => void> = [];

  private constructor(
    readonly name: string,
    private place: PodPlace,
    private process: PodProcess,
    private transport: PodProcessTransport,
    private client: Client,
    private pidFile: string,
    private stderr: StderrTail,
    /** The tools it offers, as it lists them. */
    readonly tools: McpTool[],
  ) {
    client.onclose = () => {
      if (this.stopping) return;
      const reason = this.whyEnded("it exited");
      void this.stop();
      for (const listener of this.stoppedListeners) listener(reason);
    };
  }

  /**
   * Starts the server with `command` (the launcher and its arguments) and lists its tools within
   * `timeoutMs`, or throws McpStartFailure saying why not.
   */
  static async start(name: string, place: PodPlace, command: string[], version: string, timeoutMs = START_TIMEOUT_MS): Promise<PodMcpServer> {
    const { Client } = await loadClient();
    const pidFile = `/tmp/pier-mcp-${crypto.randomUUID()}.pid`;
    const process = await place.runtime.spawn(place.pod, ["bash", "-c", 'echo $$ > "$0" && exec "$@"', pidFile, ...command], { cwd: place.cwd });
    const stderr = new StderrTail();
    process.onErrorOutput((chunk) => stderr.add(chunk));
    const transport = new PodProcessTransport(process);
    const client = new Client({ name: "pier", version }, { capabilities: {} });
    client.onerror = () => {};
    const abandon = async (why: string): Promise<never> => {
      await stopNotedProcess(place, process, pidFile);
      throw new McpStartFailure(why);
    };
    const tools: McpTool[] = [];
    try {
      const deadline = Date.now() + timeoutMs;
      await client.connect(transport, { timeout: timeoutMs });
      if (client.getServerCapabilities()?.tools) {
        let cursor: string | undefined;
        for (let page = 0; page < MAX_TOOL_PAGES; page++) {
          const listed = await client.listTools(cursor ? { cursor } : undefined, { timeout: Math.max(1000, deadline - Date.now()) });
          tools.push(...listed.tools);
          cursor = listed.nextCursor;
          if (!cursor) break;
        }
      }
    } catch (error) {
      const timedOut = isMcpError(error, REQUEST_TIMEOUT);
      return abandon(transport.problem ?? (timedOut ? `it did not answer within ${timeoutMs / 1000} s` : describe(error, stderr, "it exited before it answered")));
    }
    // It may have ended between its last answer and now, before anyone listened for that.
    if (transport.isClosed) return abandon(transport.problem ?? describe(null, stderr, "it exited right after listing its tools"));
    return new PodMcpServer(name, place, process, transport, client, pidFile, stderr, tools);
  }

  /** Called once, if the server ends (or breaks its connection) before it is stopped. */
  onStopped(listener: (reason: string) => void): void {
    this.stoppedListeners.push(listener);
  }

  /** Calls one of its tools; every outcome (a refusal, a timeout, an interrupt, the server gone) is a result the model reads. */
  async call(tool: string, input: Record<string, unknown>, signal: AbortSignal): Promise<ToolResult> {
    if (this.stopping) return { output: `The MCP server ${this.name} has stopped; its tools are no longer available.`, isError: true };
    try {
      const result = (await this.client.callTool({ name: tool, arguments: input }, undefined, {
        signal,
        timeout: CALL_TIMEOUT_MS,
        resetTimeoutOnProgress: true,
        maxTotalTimeout: MAX_CALL_MS,
      })) as CallToolResult;
      return { output: truncate(resultText(result)) || "(no output)", isError: result.isError === true };
    } catch (error) {
      if (signal.aborted) return { output: "Interrupted before the MCP server answered.", isError: true };
      if (isMcpError(error, REQUEST_TIMEOUT)) return { output: `The MCP server ${this.name} did not answer in time.`, isError: true };
      if (this.stopping) return { output: `The MCP server ${this.name} stopped during the call: ${this.whyEnded("it exited")}.`, isError: true };
      return { output: `The MCP server ${this.name} refused the call: ${error instanceof Error ? error.message : String(error)}`, isError: true };
    }
  }

  /** Closes its stdin, and ends it (and what it started) if it does not end by itself. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.client.close().catch(() => undefined);
    await stopNotedProcess(this.place, this.process, this.pidFile);
  }

  private whyEnded(fallback: string): string {
    return this.transport.problem ?? describe(null, this.stderr, fallback);
  }
}

const REQUEST_TIMEOUT = -32001;

function isMcpError(error: unknown, code: number): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}

/** What went wrong, with the end of what the server said on stderr when it said anything. */
function describe(error: unknown, stderr: StderrTail, fallback: string): string {
  const said = stderr.text();
  const base = error instanceof Error && !/connection closed/i.test(error.message) ? error.message : fallback;
  return said ? `${base} (it said: ${said})` : base;
}


/** A tool's result as the text the model reads: its text, and a line for anything that is not text. */
function resultText(result: CallToolResult): string {
  const parts = (result.content ?? []).map((item) => {
    switch (item.type) {
      case "text":
        return item.text;
      case "image":
      case "audio":
        return `[${item.type} (${item.mimeType}), not shown]`;
      case "resource":
        return "text" in item.resource && typeof item.resource.text === "string" ? item.resource.text : `[resource ${item.resource.uri}, not shown]`;
      case "resource_link":
        return `[resource ${item.name}: ${item.uri}]`;
      default:
        return "";
    }
  });
  if (parts.every((part) => !part) && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent, null, 2);
  return parts.filter(Boolean).join("\n");
}

/** The last STDERR_TAIL_BYTES a server wrote to stderr, as a line or two to quote. */
class StderrTail {
  private tail = Buffer.alloc(0);

  add(chunk: Uint8Array): void {
    this.tail = Buffer.concat([this.tail, chunk]);
    if (this.tail.length > STDERR_TAIL_BYTES) this.tail = this.tail.subarray(this.tail.length - STDERR_TAIL_BYTES);
  }

  text(): string {
    return this.tail.toString("utf8").replace(/\s+/g, " ").trim().slice(-500);
  }
}
