import { NotedProcess, type PodPlace, stopLeftoverProcesses } from "../../runtime/noted-process.ts";
import type { PodProcess } from "../../runtime/runtime.ts";

/** One line of Claude Code's output longer than this stops the process: what a pod prints must never fill the server's memory. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** A control request Claude Code does not answer within this long is given up. */
const CONTROL_TIMEOUT_MS = 10_000;

/** Where a session's Claude Code processes note their ids in the pod, one file each. */
function pidPrefix(sessionId: string): string {
  return `/tmp/pier-claude-${sessionId}-`;
}

/** A message Claude Code writes on its stdout (stream-json): one JSON object per line. */
export type ClaudeMessage = { type: string; [field: string]: unknown };

/** Where Claude Code runs: the session's pod, in its worktree. */
export type ClaudePlace = PodPlace;

/**
 * One Claude Code process in a pod, spoken to in stream-json: user messages and control
 * responses on its stdin, its events and control requests on its stdout, a JSON object a line.
 * It runs under a small wrapper that notes its process id in the pod's /tmp, so it can be
 * stopped from outside when it does not end by itself, and that adds the worktree's .mcp.json
 * when it has one (so nothing else needs to look into the worktree first) as the process's only
 * MCP servers: given this way (`--strict-mcp-config`) they need no approval, which Claude Code
 * would otherwise wait for before using a project's servers, and no one answers it in the chat.
 */
export class ClaudeCodeProcess extends NotedProcess {
  private listener: ((message: ClaudeMessage) => void) | null = null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private waiting = new Map<string, { resolve: (answer: ClaudeMessage) => void; timer: Timer }>();
  readonly exited: Promise<void>;

  private constructor(place: ClaudePlace, process: PodProcess, pidFile: string) {
    super(place, process, pidFile);
    process.onOutput((chunk) => this.receive(chunk));
    this.exited = process.exited.then(() => {
      for (const [, waiting] of this.waiting) {
        clearTimeout(waiting.timer);
        waiting.resolve({ type: "control_response", response: { subtype: "error", error: "Claude Code ended." } });
      }
      this.waiting.clear();
    });
  }

  /** Starts `argv` (the program and its options) in the place for a session, with `env` for its process alone. */
  static async start(place: ClaudePlace, sessionId: string, argv: string[], env: Record<string, string>): Promise<ClaudeCodeProcess> {
    const pidFile = `${pidPrefix(sessionId)}${crypto.randomUUID()}.pid`;
    const wrapper = 'p="$0"; echo $$ > "$p"; if [ -f .mcp.json ]; then set -- "$@" --strict-mcp-config --mcp-config "$PWD/.mcp.json"; fi; exec "$@"';
    const process = await place.runtime.spawn(place.pod, ["bash", "-c", wrapper, pidFile, ...argv], { cwd: place.cwd, env });
    return new ClaudeCodeProcess(place, process, pidFile);
  }

  /**
   * Ends the session's Claude Code processes that no server holds any more (a killed one started
   * them), with the tools they run: at start-up for a session whose turn was cut off, and before
   * this server starts its first process for a session.
   */
  static async stopLeftovers(place: ClaudePlace, sessionId: string): Promise<void> {
    // Pier's own Claude Code processes are the ones that speak stream-json: a pid reused since is left alone.
    await stopLeftoverProcesses(place, pidPrefix(sessionId), "--input-format stream-json");
  }

  /** Every message it writes goes to `listener` (one at a time: the turn under way), null when no turn listens. */
  listen(listener: ((message: ClaudeMessage) => void) | null): void {
    this.listener = listener;
  }

  send(message: object): void {
    if (this.ended) return;
    this.process.write(`${JSON.stringify(message)}\n`);
  }

  /** Asks Claude Code something over the control protocol (an interrupt) and waits for its answer. */
  request(request: Record<string, unknown>): Promise<ClaudeMessage> {
    const id = `pier-${crypto.randomUUID()}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ type: "control_response", response: { subtype: "error", error: "Claude Code did not answer." } });
      }, CONTROL_TIMEOUT_MS);
      this.waiting.set(id, { resolve, timer });
      this.send({ type: "control_request", request_id: id, request });
    });
  }

  /** Answers one of Claude Code's own control requests (a permission asked for a tool call). */
  respond(requestId: string, response: Record<string, unknown>): void {
    this.send({ type: "control_response", response: { subtype: "success", request_id: requestId, response } });
  }


  private receive(chunk: Uint8Array): void {
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      this.pending.push(chunk.subarray(start, i));
      const line = Buffer.concat(this.pending).toString("utf8");
      this.pending = [];
      this.pendingBytes = 0;
      start = i + 1;
      this.line(line);
    }
    const rest = chunk.subarray(start);
    this.pendingBytes += rest.length;
    if (this.pendingBytes > MAX_LINE_BYTES) {
      this.pending = [];
      this.pendingBytes = 0;
      this.markGone(`Claude Code wrote a line over ${MAX_LINE_BYTES / 1024 / 1024} MiB`);
      void this.stop();
      return;
    }
    if (rest.length > 0) this.pending.push(rest);
  }

  private line(line: string): void {
    if (!line.trim()) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      // Not stream-json (a stray log line): never shown as it is.
      return;
    }
    if (!message || typeof message !== "object" || typeof (message as ClaudeMessage).type !== "string") return;
    const typed = message as ClaudeMessage;
    if (typed.type === "control_response") {
      const id = (typed.response as { request_id?: unknown } | undefined)?.request_id;
      const waiting = typeof id === "string" ? this.waiting.get(id) : undefined;
      if (waiting) {
        clearTimeout(waiting.timer);
        this.waiting.delete(id as string);
        waiting.resolve(typed);
      }
      return;
    }
    this.listener?.(typed);
  }
}
