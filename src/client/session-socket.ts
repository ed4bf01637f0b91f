import { CREDENTIAL_ENDED_CODE, SERVER_RESTARTING_CODE, SERVER_RESTARTING_REASON, SESSION_ENDED_CODE } from "../infra/close-codes.ts";

/** How a session's socket stands; pages show it. */
export type SocketState =
  | { kind: "connecting" }
  | { kind: "connected" }
  /** Lost; the next attempt is at `at` (epoch milliseconds). `restarting` when Pier said it was restarting. */
  | { kind: "reconnecting"; at: number; restarting?: boolean }
  /** The session ended: nothing to reconnect to, ever. */
  | { kind: "ended" }
  /** The sign-in or token the socket was opened with ended: retrying would only be refused. */
  | { kind: "signed_out" };

const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 10_000;

/**
 * A WebSocket to one of a session's endpoints (terminal, chat) that reconnects with exponential
 * back-off whenever it drops, until the session ends or its sign-in does. Subclasses read the
 * messages and may add states of their own (a state other than the first three stops the
 * automatic retries).
 */
export abstract class SessionSocket<State extends { kind: string } = SocketState> {
  state: SocketState | State = { kind: "connecting" };
  private socket: WebSocket | null = null;
  /** Attempts since the server last proved the connection good; sets the back-off. */
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Pier closed the socket saying it was restarting, and no connection has opened since. */
  private awaitingRestart = false;

  constructor(
    private readonly url: string,
    private readonly onState: (state: SocketState | State) => void,
    private readonly binaryType: BinaryType = "blob",
  ) {}

  connect(): void {
    clearTimeout(this.retryTimer);
    const previous = this.socket;
    const socket = new WebSocket(this.url);
    socket.binaryType = this.binaryType;
    // Every handler checks it still belongs to the current socket, so closing an old one is quiet.
    socket.onopen = () => {
      if (socket === this.socket) this.opened();
    };
    socket.onmessage = (message) => {
      if (socket === this.socket) this.receive(message.data);
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
    if (this.state.kind === "ended" || this.state.kind === "signed_out") return;
    this.failures = 0;
    this.connect();
  }

  protected abstract receive(data: ArrayBuffer | string): void;

  protected opened(): void {
    this.awaitingRestart = false;
    this.setState({ kind: "connected" });
  }

  /** The server sent what a good connection sends: the back-off starts over. */
  protected proven(): void {
    this.failures = 0;
  }

  /** False when there is no open socket to send on. */
  protected sendJson(message: object): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  protected end(): void {
    this.setState({ kind: "ended" });
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  protected setState(state: SocketState | State): void {
    this.state = state;
    this.onState(state);
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    if (code === SESSION_ENDED_CODE || reason === "ended") this.setState({ kind: "ended" });
    else if (code === CREDENTIAL_ENDED_CODE) this.setState({ kind: "signed_out" });
    else if (["connecting", "connected", "reconnecting"].includes(this.state.kind)) {
      // Said until a connection is good again, across the attempts that fail while Pier is down.
      // A pod's restart closes with the same code: only Pier's own says it is restarting.
      if (code === SERVER_RESTARTING_CODE && reason === SERVER_RESTARTING_REASON) this.awaitingRestart = true;
      this.retryLater(this.awaitingRestart);
    }
  }

  /** Waits 0.5 s, doubling per failure up to 10 s; the jitter keeps many tabs from retrying in step. */
  private retryLater(restarting: boolean): void {
    const backOff = FIRST_RETRY_MS * 2 ** this.failures * (0.8 + Math.random() * 0.4);
    const delay = Math.min(LAST_RETRY_MS, backOff);
    this.failures += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.setState({ kind: "reconnecting", at: Date.now() + delay, ...(restarting ? { restarting } : {}) });
  }
}

/** Text frames are JSON objects with a string `type`; anything else is ignored. */
export function parseMessage<T extends { type: string }>(text: string): T | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    return typeof (value as { type?: unknown }).type === "string" ? (value as T) : null;
  } catch {
    return null;
  }
}

/**
 * Writes a socket's state into `label`: its name from `names`, or, while reconnecting, a
 * countdown to the next attempt (saying so when Pier announced it was restarting). Returns what stops the countdown.
 */
export function showSocketState(label: HTMLElement, state: { kind: string; at?: number; restarting?: boolean }, names: Record<string, string>): () => void {
  if (state.kind !== "reconnecting" || state.at === undefined) {
    label.textContent = names[state.kind] ?? state.kind;
    return () => {};
  }
  const at = state.at;
  const tick = () => {
    const wait = `${Math.max(1, Math.ceil((at - Date.now()) / 1000))} s`;
    label.textContent = state.restarting ? `Pier is restarting… reconnecting in ${wait}` : `Reconnecting in ${wait}`;
  };
  tick();
  const countdown = setInterval(tick, 1000);
  return () => clearInterval(countdown);
}
