/** What the terminal's connection is doing; the status line shows it. */
export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "connected" }
  /** Lost; the next attempt is at `at` (epoch milliseconds). */
  | { kind: "reconnecting"; at: number }
  /** The shell exited; a new one starts only when the user asks (reconnect()). */
  | { kind: "exited" }
  /** The session ended: nothing to reconnect to, ever. */
  | { kind: "ended" };

export interface ConnectionEvents {
  /** Raw terminal output. After every (re)connect the server first sends a full redraw. */
  output(bytes: Uint8Array): void;
  /** The socket is open: a good moment to tell the server the terminal's size. */
  opened(): void;
  state(state: ConnectionState): void;
  /** A message from the server for the user. */
  error(message: string): void;
}

/** The server closes with this code when the session has ended (the same as an "ended" message). */
const SESSION_ENDED = 4001;
const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 10_000;

/**
 * The terminal WebSocket of one session, reconnecting with exponential back-off whenever it drops,
 * until the session ends. Input is dropped while disconnected: typing into a dead connection
 * should not replay later into a fresh shell.
 */
export class TerminalConnection {
  state: ConnectionState = { kind: "connecting" };
  private socket: WebSocket | null = null;
  /** Attempts since the server last sent output; sets the back-off. */
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly events: ConnectionEvents,
  ) {}

  connect(): void {
    clearTimeout(this.retryTimer);
    const previous = this.socket;
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    // Every handler checks it still belongs to the current socket, so closing an old one is quiet.
    socket.onopen = () => {
      if (socket === this.socket) this.opened();
    };
    socket.onmessage = (message) => {
      if (socket === this.socket) this.receive(message.data);
    };
    socket.onclose = (close) => {
      if (socket === this.socket) this.closed(close.code);
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

  sendInput(data: string): void {
    this.send({ type: "input", data });
  }

  sendResize(cols: number, rows: number): void {
    this.send({ type: "resize", cols, rows });
  }

  private send(message: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private opened(): void {
    this.setState({ kind: "connected" });
    this.events.opened();
  }

  private receive(data: ArrayBuffer | string): void {
    if (typeof data !== "string") {
      this.failures = 0;
      this.events.output(new Uint8Array(data));
      return;
    }
    const message = parseControl(data);
    if (message?.type === "ended") this.end();
    else if (message?.type === "exited") this.setState({ kind: "exited" });
    else if (message?.type === "error") this.events.error(String(message.message ?? "Unknown error."));
  }

  private closed(code: number): void {
    this.socket = null;
    if (code === SESSION_ENDED) this.setState({ kind: "ended" });
    else if (this.state.kind !== "ended" && this.state.kind !== "exited") this.retryLater();
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

  private setState(state: ConnectionState): void {
    this.state = state;
    this.events.state(state);
  }
}

interface ControlMessage {
  type?: unknown;
  message?: unknown;
}

/** Text frames are JSON control messages; anything else is ignored. */
function parseControl(text: string): ControlMessage | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as ControlMessage) : null;
  } catch {
    return null;
  }
}
