// The chat WebSocket of one session (/api/sessions/:id/chat).

import type { ClientMessage, ServerEvent } from "../chat/protocol.ts";
import { SessionSocket, type SocketState, parseMessage } from "./session-socket.ts";

export type ChatConnectionState = SocketState;

export interface ChatConnectionEvents {
  /** One event from the server; after every (re)connect the first is `history`. */
  event(event: ServerEvent): void;
  state(state: ChatConnectionState): void;
}

export class ChatConnection extends SessionSocket {
  constructor(
    url: string,
    private readonly events: ChatConnectionEvents,
  ) {
    super(url, (state) => events.state(state as ChatConnectionState));
  }

  /** False when there is no open socket to send on: the caller keeps what the user typed. */
  send(message: ClientMessage): boolean {
    return this.sendJson(message);
  }

  protected receive(data: ArrayBuffer | string): void {
    if (typeof data !== "string") return;
    const event = parseMessage<ServerEvent>(data);
    if (!event) return;
    // Ending closes the socket with 4001, after saying so.
    if (event.type === "ended") return this.end();
    // Said just before the socket closes with 1012, which the connection's state shows.
    if (event.type === "restarting") return;
    if (event.type === "history") this.proven();
    this.events.event(event);
  }
}
