import type * as acp from "@agentclientprotocol/sdk";
import { NotedProcess, type PodPlace, stopLeftoverProcesses } from "../../runtime/noted-process.ts";
import type { PodProcess } from "../../runtime/runtime.ts";

/** The longest line of JSON an agent may write: what a pod prints must never fill the server's memory. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Where a session's ACP agent processes note their ids in the pod, one file each. */
function pidPrefix(sessionId: string): string {
  return `/tmp/pier-acp-${sessionId}-`;
}

/** What the agent sends the client while a turn listens: its session updates and its permission requests. */
export interface AcpListener {
  update(update: acp.SessionUpdate): void;
  permission(request: acp.RequestPermissionRequest): Promise<acp.RequestPermissionResponse>;
}

/**
 * One coding agent in a pod, spoken to in the Agent Client Protocol over its stdio with the
 * official SDK. It runs, as Claude Code's process does, under a small wrapper that notes its
 * process id in the pod's /tmp (so it can be stopped from outside when it does not end by itself)
 * and that makes its HOME first, when it is given one of its own. Pier offers the agent no file
 * system or terminal of its own: the agent works in the pod with its own tools.
 */
export class AcpProcess extends NotedProcess {
  private listener: AcpListener | null = null;
  /** When it last sent a session update (listened to or not). */
  private lastUpdateAt = 0;
  readonly connection: acp.ClientConnection;
  readonly exited: Promise<void>;

  private constructor(sdk: typeof acp, place: PodPlace, process: PodProcess, pidFile: string) {
    super(place, process, pidFile);
    // Once the connection is closed it reads no more: what the process still writes then is dropped.
    let open = true;
    const output = new ReadableStream<Uint8Array>({
      start(controller) {
        process.onOutput((chunk) => {
          if (open) controller.enqueue(chunk);
        });
        void process.exited.then(() => {
          if (open) controller.close();
          open = false;
        });
      },
      cancel() {
        open = false;
      },
    });
    const input = new WritableStream<Uint8Array>({ write: (chunk) => process.write(chunk) });
    const client = sdk
      .client({ name: "pier" })
      .onNotification("session/update", ({ params }) => {
        this.lastUpdateAt = Date.now();
        this.listener?.update(params.update);
      })
      .onRequest("session/request_permission", ({ params }) => this.listener?.permission(params) ?? Promise.resolve({ outcome: { outcome: "cancelled" as const } }));
    this.connection = client.connect(sdk.ndJsonStream(input, output, { maxMessageBytes: MAX_MESSAGE_BYTES }));
    this.exited = process.exited.then(() => this.connection.close(new Error("The agent ended.")));
  }

  /** Starts `argv` in the place for a session, with `env` for its process alone (a HOME in it is made first). */
  static async start(place: PodPlace, sessionId: string, argv: string[], env: Record<string, string>): Promise<AcpProcess> {
    const pidFile = `${pidPrefix(sessionId)}${crypto.randomUUID()}.pid`;
    const wrapper = 'p="$0"; echo $$ > "$p"; if [ -n "$HOME" ]; then mkdir -p "$HOME"; fi; exec "$@"';
    // The SDK is loaded as the first agent starts, not with Pier (its import costs some 25 ms of every start-up).
    const sdk = await import("@agentclientprotocol/sdk");
    const process = await place.runtime.spawn(place.pod, ["bash", "-c", wrapper, pidFile, ...argv], { cwd: place.cwd, env });
    return new AcpProcess(sdk, place, process, pidFile);
  }

  /** Ends the session's agent processes a killed server left running (see stopLeftoverProcesses). */
  static async stopLeftovers(place: PodPlace, sessionId: string, program: string): Promise<void> {
    await stopLeftoverProcesses(place, pidPrefix(sessionId), program);
  }

  /** What it sends goes to `listener` (the turn under way), null when no turn listens: updates are dropped then, permissions refused. */
  listen(listener: AcpListener | null): void {
    this.listener = listener;
  }

  /**
   * Resolves once it has sent no session update for `quietMs` (or after `maxMs` in all): what it
   * still sends of a loaded session's replay has passed by then, unheard.
   */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const wait = this.lastUpdateAt + quietMs - Date.now();
      if (wait <= 0 || Date.now() >= deadline || this.ended) return;
      await Bun.sleep(Math.min(wait, deadline - Date.now()));
    }
  }

}
