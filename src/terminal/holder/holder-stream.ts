import { chmodSync, rmSync } from "node:fs";
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { SparingLog } from "../../infra/sparing-log.ts";
import { OutputFanout, type PodKey, podKeyString } from "../../runtime/runtime.ts";

const HEADER = 5;
const HELLO = 0x48; /* H */
const OUTPUT = 0x4f; /* O */
const SYNCED = 0x59; /* Y */
const SIZE = 0x57; /* W */
/** A hello's payload is a session id (see SESSION_ID). */
const HELLO_MAX = 64;
/**
 * The longest payload of each frame the holder sends after its hello: output in pieces of at most
 * 64 KiB (CHUNK in pier-pty.c), an empty answer to a sync, a size of two 16-bit numbers. A header
 * announcing more, or another type, is not the holder talking, and is refused before anything is
 * allocated for it.
 */
const AFTER_HELLO_MAX = new Map([
  [OUTPUT, 64 * 1024],
  [SYNCED, 0],
  [SIZE, 4],
]);
/** A connection that has not said hello this long after it opened is closed (a holder says it as it connects). */
const HELLO_MS = 5_000;
/**
 * Connections one pod may have open at once. Each live session of the pod's person and repo has
 * one holder holding one connection (for a moment two, while it reconnects), so a person with
 * fifty sessions of one repository open at once (more than anyone can watch) is well inside this.
 * A pod that opens more is refused at once. What the rest can make Pier hold stays small: Pier
 * keeps at most HELLO_MAX bytes of a connection before its hello, and each is gone within
 * HELLO_MS; what Bun has read for one before it is refused (up to the kernel's socket buffer,
 * about 200 KiB) is garbage at once, so 128 of them cost about 25 MiB until it is collected.
 */
const MAX_CONNECTIONS = 128;
/** A pod whose connections are refused is said in the log at most this often, not once per connection. */
const REFUSALS_LOGGED_EVERY_MS = 10 * 60_000;
/** How long the holder gets to answer a sync. */
const SYNC_TIMEOUT_MS = 5_000;
/** A holder Pier has no terminal for yet (Pier is still starting) is kept this long. */
const UNCLAIMED_MS = 30_000;
/** Output a holder sends before its terminal listens (Pier is starting) is kept up to this much, the latest. */
const EARLY_OUTPUT = 16 * 1024 * 1024;
/** Session ids are short lowercase words; anything else in a hello is refused. */
const SESSION_ID = /^[a-z0-9]{1,64}$/;

/**
 * Pier's end of one session's terminal holder (pier-pty.c, the program in the tmux pane that
 * holds the shell), connected to Pier's socket in the pod's services directory. Output frames
 * carry the shell's bytes as it wrote them; a sync pauses the shell's output once tmux's screen
 * has everything before it, so a snapshot lines up exactly with the stream; size frames say the
 * size the shell's terminal has.
 */
export class HolderStream {
  private output = new OutputFanout(EARLY_OUTPUT);
  private onSynced: (() => void) | null = null;
  /** The size of the shell's terminal, as the holder last told it (null: it has not, or it never tells). */
  private shellSize: { cols: number; rows: number } | null = null;
  private sizeWaiters: Array<() => void> = [];
  private ended = false;
  private end: () => void = () => {};
  readonly exited: Promise<void>;

  constructor(private socket: Socket<unknown>) {
    this.exited = new Promise((resolve) => (this.end = resolve));
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Each chunk of the shell's output, in order; what came before the first listener is kept for it. */
  onOutput(listener: (bytes: Uint8Array) => void): void {
    this.output.listen(listener);
  }

  /**
   * Pauses the shell's output once tmux's screen holds everything sent before: resolves true when
   * every byte before that point has been passed to the output listeners (false if the holder did
   * not answer in time, or is gone). `resume` lets the output go on.
   */
  sync(timeoutMs = SYNC_TIMEOUT_MS): Promise<boolean> {
    return this.ask("S", timeoutMs);
  }

  /**
   * Stops the holder sending (Pier is stopping): resolves true once every byte it has sent has
   * been passed to the output listeners. What it has not sent yet waits in it for the next Pier.
   */
  pause(timeoutMs: number): Promise<boolean> {
    return this.ask("P", timeoutMs);
  }

  /** Sends a sync or a pause and waits for the holder's answer, which follows everything it sent before. */
  private ask(command: "S" | "P", timeoutMs: number): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (answered: boolean) => {
        clearTimeout(timer);
        this.onSynced = null;
        resolve(answered && !this.ended);
      };
      this.onSynced = () => done(true);
      this.socket.write(command);
    });
  }

  /** Whether this holder tells the shell's terminal size (older holders do not). */
  get tellsSize(): boolean {
    return this.shellSize !== null;
  }

  /**
   * Resolves true once the shell's terminal has the size `wanted` says (asked again at each size
   * the holder tells, as a later resize may have changed it; tmux passes a pane's new size on only
   * after a timer of its own), false after `timeoutMs` or when the holder is gone.
   */
  async shellHasSize(wanted: () => { cols: number; rows: number }, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const size = wanted();
      if (this.shellSize?.cols === size.cols && this.shellSize.rows === size.rows) return true;
      const left = deadline - Date.now();
      if (this.ended || left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.sizeWaiters.push(done);
      });
    }
  }

  resume(): void {
    if (!this.ended) this.socket.write("G");
  }

  close(): void {
    this.socket.end();
    this.closed();
  }

  /** A frame from the holder after its hello; false for one that is not the holder's. */
  frame(type: number, payload: Uint8Array): boolean {
    if (type === OUTPUT) this.output.deliver(payload);
    else if (type === SYNCED) this.onSynced?.();
    else if (type === SIZE && payload.length === 4) this.sizeTold((payload[0]! << 8) | payload[1]!, (payload[2]! << 8) | payload[3]!);
    else return false;
    return true;
  }

  closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.onSynced?.();
    this.wakeSizeWaiters();
    this.end();
  }

  private sizeTold(cols: number, rows: number): void {
    this.shellSize = { cols, rows };
    this.wakeSizeWaiters();
  }

  private wakeSizeWaiters(): void {
    for (const wake of this.sizeWaiters.splice(0)) wake();
  }
}

interface Connection {
  parser: FrameParser;
  stream: HolderStream | null;
  /** Counted among its pod's open connections (a refused one never is). */
  counted: boolean;
  helloTimer: Timer | null;
}

/** One pod's connections, and how many are open. */
interface PodConnections {
  key: PodKey;
  open: number;
}

/**
 * Where sessions' holders reach Pier: a Unix socket in each pod's services directory (which the
 * pod sees read-only, and only its own), so no network is needed and the socket itself says
 * which person's pod is talking. A holder says which session it holds; Pier takes it only for a
 * live session of that pod's own person and repo, and hands it to that session's terminal.
 *
 * The pod is untrusted: a pod has at most MAX_CONNECTIONS open, each must say hello within
 * HELLO_MS, each frame's length is checked against its type's before anything is allocated for
 * it, and anything else ends the connection.
 */
export class HolderHub {
  private listeners = new Map<string, UnixSocketListener<Connection> | TCPSocketListener<Connection>>();
  /** Each open terminal's claim: let go as the terminal closes (it hangs off the session's host). */
  private terminals = new Map<string, (stream: HolderStream) => void>();
  /** Holders no terminal has claimed yet (Pier is starting): no session's host has them, so each goes by its own timer. */
  private unclaimed = new Map<string, { stream: HolderStream; timer: Timer }>();
  private refusals = new SparingLog(REFUSALS_LOGGED_EVERY_MS);

  constructor(private accepts: (key: PodKey, sessionId: string) => boolean) {}

  /** Starts listening for the pod's holders at `path` (once per server run). */
  listen(key: PodKey, path: string): void {
    const id = podKeyString(key);
    if (this.listeners.has(id)) return;
    rmSync(path, { force: true });
    const pod: PodConnections = { key, open: 0 };
    const listener = Bun.listen<Connection>({
      unix: path,
      socket: {
        open: (socket) => this.opened(pod, socket),
        data: (socket, chunk) => this.read(pod, socket, chunk),
        close: (socket) => this.ended(pod, socket),
        error: (socket) => this.ended(pod, socket),
      },
    });
    // The pod user must be able to connect; only the pod (and the server) can see the path.
    chmodSync(path, 0o666);
    this.listeners.set(id, listener);
  }

  /**
   * Hands the session's holder to `take` whenever it connects (now, if it already has), until
   * `release` is called. Returns `release`.
   */
  claim(sessionId: string, take: (stream: HolderStream) => void): () => void {
    this.terminals.set(sessionId, take);
    const waiting = this.unclaimed.get(sessionId);
    if (waiting) {
      this.unclaimed.delete(sessionId);
      clearTimeout(waiting.timer);
      take(waiting.stream);
    }
    return () => {
      if (this.terminals.get(sessionId) === take) this.terminals.delete(sessionId);
    };
  }

  async closeAll(): Promise<void> {
    for (const { stream, timer } of this.unclaimed.values()) {
      clearTimeout(timer);
      stream.close();
    }
    this.unclaimed.clear();
    for (const listener of this.listeners.values()) listener.stop(true);
    this.listeners.clear();
  }

  private opened(pod: PodConnections, socket: Socket<Connection>): void {
    // Before the hello only a hello may come; after it, only the holder's own frames.
    const connection: Connection = {
      parser: new FrameParser((type) => (connection.stream ? AFTER_HELLO_MAX.get(type) : type === HELLO ? HELLO_MAX : undefined)),
      stream: null,
      counted: false,
      helloTimer: null,
    };
    socket.data = connection;
    if (pod.open >= MAX_CONNECTIONS) return this.refuse(pod, socket, `the pod already has ${MAX_CONNECTIONS} open`);
    pod.open++;
    connection.counted = true;
    connection.helloTimer = setTimeout(() => this.refuse(pod, socket, `it said no hello within ${HELLO_MS / 1000} s`), HELLO_MS);
    connection.helloTimer.unref();
  }

  private ended(pod: PodConnections, socket: Socket<Connection>): void {
    const connection = socket.data;
    if (connection.helloTimer) clearTimeout(connection.helloTimer);
    connection.helloTimer = null;
    if (connection.counted) pod.open--;
    connection.counted = false;
    connection.stream?.closed();
  }

  private read(pod: PodConnections, socket: Socket<Connection>, chunk: Uint8Array): void {
    const connection = socket.data;
    const ok = connection.parser.push(chunk, (type, payload) => {
      if (connection.stream) return connection.stream.frame(type, payload);
      const sessionId = new TextDecoder().decode(payload);
      if (!SESSION_ID.test(sessionId) || !this.accepts(pod.key, sessionId)) return false;
      if (connection.helloTimer) clearTimeout(connection.helloTimer);
      connection.helloTimer = null;
      connection.stream = new HolderStream(socket as Socket<unknown>);
      this.arrived(sessionId, connection.stream);
      return true;
    });
    if (!ok) this.refuse(pod, socket, connection.stream ? "its holder sent something that is not a holder's frame" : "it did not start with a valid hello");
  }

  /** Closes a connection the pod should not have made, and says so in the log (sparingly: a pod may make thousands). */
  private refuse(pod: PodConnections, socket: Socket<Connection>, why: string): void {
    this.ended(pod, socket);
    socket.terminate();
    const id = podKeyString(pod.key);
    this.refusals.say(`pod ${id}`, `pier: the terminal holders' socket of pod ${id} closed a connection: ${why}.`);
  }

  private arrived(sessionId: string, stream: HolderStream): void {
    const take = this.terminals.get(sessionId);
    if (take) return take(stream);
    // Pier has not opened this session's terminal yet (it is starting): keep the holder until it does.
    const previous = this.unclaimed.get(sessionId);
    if (previous) {
      clearTimeout(previous.timer);
      previous.stream.close();
    }
    const timer = setTimeout(() => {
      if (this.unclaimed.get(sessionId)?.stream !== stream) return;
      this.unclaimed.delete(sessionId);
      stream.close();
    }, UNCLAIMED_MS);
    timer.unref();
    this.unclaimed.set(sessionId, { stream, timer });
  }
}

/**
 * Splits a byte stream into frames (type byte, 32-bit big-endian length, payload) without copying
 * payloads that lie within one chunk. `push` returns false at the first thing that is not a frame:
 * a type `longest` does not know (undefined), or a length over the one it gives for that type,
 * refused as soon as the header is in, before anything is allocated for the payload.
 */
export class FrameParser {
  private header = new Uint8Array(HEADER);
  private headerFill = 0;
  private type = 0;
  private payload: Uint8Array | null = null;
  private payloadFill = 0;

  constructor(private longest: (type: number) => number | undefined) {}

  push(chunk: Uint8Array, frame: (type: number, payload: Uint8Array) => boolean): boolean {
    let at = 0;
    while (at < chunk.length) {
      if (this.payload === null) {
        // A whole header inside the chunk, and its whole payload after it: hand out a view.
        if (this.headerFill === 0 && chunk.length - at >= HEADER) {
          const type = chunk[at]!;
          const length = ((chunk[at + 1]! << 24) | (chunk[at + 2]! << 16) | (chunk[at + 3]! << 8) | chunk[at + 4]!) >>> 0;
          if (!this.allowed(type, length)) return false;
          if (chunk.length - at - HEADER >= length) {
            if (!frame(type, chunk.subarray(at + HEADER, at + HEADER + length))) return false;
            at += HEADER + length;
            continue;
          }
          this.start(type, length);
          at += HEADER;
          continue;
        }
        const take = Math.min(HEADER - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        if (this.headerFill < HEADER) return true;
        const h = this.header;
        const length = ((h[1]! << 24) | (h[2]! << 16) | (h[3]! << 8) | h[4]!) >>> 0;
        if (!this.allowed(h[0]!, length)) return false;
        this.headerFill = 0;
        this.start(h[0]!, length);
        if (length === 0 && !this.finish(frame)) return false;
        continue;
      }
      const take = Math.min(this.payload.length - this.payloadFill, chunk.length - at);
      this.payload.set(chunk.subarray(at, at + take), this.payloadFill);
      this.payloadFill += take;
      at += take;
      if (this.payloadFill === this.payload.length && !this.finish(frame)) return false;
    }
    return true;
  }

  private allowed(type: number, length: number): boolean {
    const most = this.longest(type);
    return most !== undefined && length <= most;
  }

  private start(type: number, length: number): void {
    this.type = type;
    this.payload = new Uint8Array(length);
    this.payloadFill = 0;
  }

  private finish(frame: (type: number, payload: Uint8Array) => boolean): boolean {
    const payload = this.payload!;
    this.payload = null;
    return frame(this.type, payload);
  }
}
