// The chat WebSocket of one session (/api/sessions/:id/chat), reconnecting with back-off like the
// terminal's (connection.ts) until the session ends.

import type { ClientMessage, ServerEvent } from "../chat/protocol.ts";

export type ChatConnectionState =
  | { kind: "connecting" }
  | { kind: "connected" }
  /** Lost; the next attempt is at `at` (epoch milliseconds). */
  | { kind: "reconnecting"; at: number }
  /** The session ended: nothing to reconnect to, ever. */
  | { kind: "ended" };

export interface ChatConnectionEvents {
  /** One event from the server; after every (re)connect the first is `history`. */
  event(event: ServerEvent): void;
  state(state: ChatConnectionState): void;
}

/** The server closes with this code when the session has ended (as the terminal's socket does). */
const SESSION_ENDED = 4001;
const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 10_000;

export class ChatConnection {
  state: ChatConnectionState = { kind: "connecting" };
  private socket: WebSocket | null = null;
  /** Attempts since the server last sent a history; sets the back-off. */
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly events: ChatConnectionEvents,
  ) {}

  connect(): void {
    clearTimeout(this.retryTimer);
    const previous = this.socket;
    const socket = new WebSocket(this.url);
    // Every handler checks it still belongs to the current socket, so closing an old one is quiet.
    socket.onopen = () => {
      if (socket === this.socket) this.setState({ kind: "connected" });
    };
    socket.onmessage = (message) => {
      if (socket === this.socket && typeof message.data === "string") this.receive(message.data);
    };
    socket.onclose = (close) => {
      if (socket === this.socket) this.closed(close.code, close.reason);
    };
    this.socket = socket;
    previous?.close();
    this.setState({ kind: "connecting" });
  }

  /** Connects again right away (the Reconnect button, or the network coming back). */
  reconnect(): void {
    if (this.state.kind === "ended") return;
    this.failures = 0;
    this.connect();
  }

  /** False when there is no open socket to send on: the caller keeps what the user typed. */
  send(message: ClientMessage): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private receive(text: string): void {
    const event = parseEvent(text);
    if (!event) return;
    // Not in the chat protocol, but the terminal's socket says it this way; treat it alike.
    if ((event.type as string) === "ended") return this.end();
    if (event.type === "history") this.failures = 0;
    this.events.event(event);
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    if (code === SESSION_ENDED || reason === "ended") this.setState({ kind: "ended" });
    else if (this.state.kind !== "ended") this.retryLater();
  }

  private end(): void {
    this.setState({ kind: "ended" });
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  /** Waits 0.5 s, doubling per failure up to 10 s; the jitter keeps many tabs from retrying in step. */
  private retryLater(): void {
    const backOff = FIRST_RETRY_MS * 2 ** this.failures * (0.8 + Math.random() * 0.4);
    const delay = Math.min(LAST_RETRY_MS, backOff);
    this.failures += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.setState({ kind: "reconnecting", at: Date.now() + delay });
  }

  private setState(state: ChatConnectionState): void {
    this.state = state;
    this.events.state(state);
  }
}

/** Frames are JSON objects with a string `type`; anything else is ignored. */
function parseEvent(text: string): ServerEvent | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    return typeof (value as { type?: unknown }).type === "string" ? (value as ServerEvent) : null;
  } catch {
    return null;
  }
}
