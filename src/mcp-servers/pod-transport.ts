import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { PodProcess } from "../runtime/runtime.ts";

/** A message longer than this breaks the server: what a pod prints must never fill the server's memory. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * MCP's stdio transport over a process in a pod: JSON-RPC messages, one per line, on its stdin
 * and stdout. MCP says a server writes nothing else there, so anything else (a banner, a stack
 * trace, a line without end) breaks the connection at once, with `problem` saying what came,
 * rather than leaving requests to wait for answers that will never come.
 */
export class PodProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Why the connection broke, when the server broke it (not when it exited or was closed). */
  problem: string | null = null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private closed = false;

  constructor(private process: PodProcess) {}

  /** The connection is over: the server ended or broke it, or it was closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  async start(): Promise<void> {
    this.process.onOutput((chunk) => this.receive(chunk));
    void this.process.exited.then(() => this.finish());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error("The MCP server's connection is closed.");
    this.process.write(`${JSON.stringify(message)}\n`);
  }

  /** Closes the server's stdin (an MCP server ends when it closes); stopping it for good is its owner's part. */
  async close(): Promise<void> {
    this.process.close();
    this.finish();
  }

  private receive(chunk: Uint8Array): void {
    if (this.closed) return;
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      this.pending.push(chunk.subarray(start, i));
      const line = Buffer.concat(this.pending).toString("utf8").replace(/\r$/, "");
      this.pending = [];
      this.pendingBytes = 0;
      start = i + 1;
      if (line.trim()) this.line(line);
      if (this.closed) return;
    }
    const rest = chunk.subarray(start);
    this.pendingBytes += rest.length;
    if (this.pendingBytes > MAX_MESSAGE_BYTES) return this.broken(`it sent a message over ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB`);
    if (rest.length > 0) this.pending.push(rest);
  }

  private line(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      message = null;
    }
    if (!message || typeof message !== "object" || (message as { jsonrpc?: unknown }).jsonrpc !== "2.0") {
      return this.broken(`it printed something that is not an MCP message on its standard output: ${JSON.stringify(line.slice(0, 200))}`);
    }
    this.onmessage?.(message as JSONRPCMessage);
  }

  private broken(problem: string): void {
    this.problem = problem;
    this.onerror?.(new Error(problem));
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.onclose?.();
  }
}
