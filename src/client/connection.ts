import type { ClientMessage, ControlMessage } from "../terminal/protocol.ts";
import { SessionSocket, type SocketState, parseMessage } from "./session-socket.ts";

/** What the terminal's connection is doing; the status line shows it. */
export type ConnectionState =
  | SocketState
  /** The shell exited; a new one starts only when the user asks (reconnect()). */
  | { kind: "exited" };

export interface ConnectionEvents {
  /** Raw terminal output. After every (re)connect the server first sends a full redraw. */
  output(bytes: Uint8Array): void;
  /** The socket is open: a good moment to tell the server the terminal's size. */
  opened(): void;
  state(state: ConnectionState): void;
  /** A message from the server for the user. */
  error(message: string): void;
  /** Pier tells the user something about their pod: shown as a line in the terminal. */
  notice(message: string): void;
}

/**
 * The terminal WebSocket of one session. Input is dropped while disconnected: typing into a dead
 * connection should not replay later into a fresh shell.
 */
export class TerminalConnection extends SessionSocket<{ kind: "exited" }> {
  constructor(
    url: string,
    private readonly events: ConnectionEvents,
  ) {
    super(url, (state) => events.state(state), "arraybuffer");
  }

  sendInput(data: string): void {
    this.send({ type: "input", data });
  }

  sendResize(cols: number, rows: number): void {
    this.send({ type: "resize", cols, rows });
  }

  protected override opened(): void {
    super.opened();
    this.events.opened();
  }

  protected receive(data: ArrayBuffer | string): void {
    if (typeof data !== "string") {
      this.proven();
      this.events.output(new Uint8Array(data));
      return;
    }
    const message = parseMessage<ControlMessage>(data);
    if (message?.type === "ended") this.end();
    else if (message?.type === "exited") this.setState({ kind: "exited" });
    else if (message?.type === "error") this.events.error(String(message.message ?? "Unknown error."));
    else if (message?.type === "notice") this.events.notice(String(message.message ?? ""));
  }

  private send(message: ClientMessage): void {
    this.sendJson(message);
  }
}
