import { type Socket, createConnection } from "node:net";
import type { PodProcess } from "../runtime/runtime.ts";
import { FrameParser } from "../terminal/holder/holder-stream.ts";
import {
  BRIDGE_FRAME_MAX,
  CLOSE,
  CREDIT,
  CREDIT_STEP,
  DATA,
  END,
  HELLO,
  HELLO_MAX,
  ID,
  MAX_STREAMS,
  OPEN,
  PIER_CHUNK,
  type StreamName,
  VERSION_LINE,
  WINDOW,
  creditFrame,
  streamFrame,
  streamName,
} from "./bridge-wire.ts";

/** One connection in the pod, carried to Pier's own socket of its name. */
interface Stream {
  id: number;
  socket: Socket;
  /** What Pier may still send the bridge on it. */
  credit: number;
  /** What came from Pier's socket past the credit, sent once credit comes back. */
  held: Uint8Array | null;
  /** Pier's socket ended while bytes were held: the end is sent after them. */
  endHeld: boolean;
  /** Bytes the bridge sent on it, and how many of them Pier has credited back. */
  received: number;
  credited: number;
  sentEnd: boolean;
  gotEnd: boolean;
}

export interface BridgeLinkDeps {
  /** Pier's own listening socket of that name for this pod (in its data dir, which the pod does not see). */
  socketOf(name: StreamName): string;
  /** Told once, with why, when the bridge sent something that is not a bridge's: it is ended. */
  refused(why: string): void;
}

/**
 * Pier's end of one pod's bridge (pier-bridge.c), over the process's stdin and stdout: each stream
 * the bridge opens is connected to Pier's own socket of its name for the pod, and carried both
 * ways with the bridge's flow control (see bridge-wire.ts). The services, holder and relay code
 * behind those sockets is the same as for a pod that mounts them.
 *
 * The bridge is the pod's: every frame is checked against its type's length before anything is
 * allocated for it, a stream's id must be new and its name known, at most MAX_STREAMS are open,
 * and no stream may send past its window. Anything else ends the bridge and all its streams. So
 * what Pier holds for a bridge is at most a window of each open stream, each way.
 */
export class BridgeLink {
  private streams = new Map<number, Stream>();
  /** Ids below this were used: a frame for one that is not open is late, not wrong. */
  private nextId = 1;
  private helloSeen = false;
  private ended = false;
  private parser = new FrameParser((type) => (this.helloSeen ? BRIDGE_FRAME_MAX.get(type) : type === HELLO ? HELLO_MAX : undefined));
  private sayHello: (said: boolean) => void = () => {};
  /** Resolves true once the bridge has said hello, false if it ends first. */
  readonly hello: Promise<boolean>;
  /** Resolves once the bridge's process has ended (or was ended here). */
  readonly exited: Promise<void>;

  constructor(
    private process: PodProcess,
    private deps: BridgeLinkDeps,
  ) {
    this.hello = new Promise((resolve) => (this.sayHello = resolve));
    process.onOutput((chunk) => this.read(chunk));
    this.exited = process.exited.then(() => this.close());
  }

  /** Streams open now. */
  get open(): number {
    return this.streams.size;
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Ends the bridge (its stdin closes, and it exits) and every stream it carried. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.sayHello(false);
    for (const stream of this.streams.values()) stream.socket.destroy();
    this.streams.clear();
    this.process.close();
  }

  private read(chunk: Uint8Array): void {
    if (this.ended) return;
    const ok = this.parser.push(chunk, (type, payload) => this.frame(type, payload));
    if (!ok && !this.ended) this.refuse(this.helloSeen ? "it sent something that is not a bridge's frame" : "it did not start with a bridge's hello");
  }

  private frame(type: number, payload: Uint8Array): boolean {
    if (this.ended) return true;
    if (!this.helloSeen) {
      if (new TextDecoder().decode(payload) !== VERSION_LINE) return false;
      this.helloSeen = true;
      this.sayHello(true);
      return true;
    }
    if (payload.length < ID) return false;
    const id = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
    const rest = payload.subarray(ID);
    if (type === OPEN) return this.opened(id, rest);
    const stream = this.streams.get(id);
    // A frame for a stream that has gone (Pier closed it meanwhile) is late; one for an id never opened is not the bridge.
    if (!stream) return id < this.nextId;
    if (type === DATA) return rest.length > 0 && this.data(stream, rest);
    if (type === END) return rest.length === 0 && this.endFromPod(stream);
    if (type === CLOSE) return rest.length === 0 && this.closeFromPod(stream);
    if (type === CREDIT) return rest.length === 4 && this.credit(stream, new DataView(rest.buffer, rest.byteOffset, 4).getUint32(0));
    return false;
  }

  private opened(id: number, nameBytes: Uint8Array): boolean {
    const name = streamName(nameBytes);
    if (id < this.nextId) return this.refuseFalse(`it opened stream ${id} again`);
    if (!name) return this.refuseFalse("it opened a stream on a socket Pier does not have");
    if (this.streams.size >= MAX_STREAMS) return this.refuseFalse(`it opened more than ${MAX_STREAMS} streams`);
    this.nextId = id + 1;
    // allowHalfOpen: the end of one direction (a request's body) leaves the other open.
    const socket = createConnection({ path: this.deps.socketOf(name), allowHalfOpen: true });
    const stream: Stream = { id, socket, credit: WINDOW, held: null, endHeld: false, received: 0, credited: 0, sentEnd: false, gotEnd: false };
    this.streams.set(id, stream);
    socket.on("data", (chunk: Buffer) => this.fromPier(stream, chunk));
    socket.on("drain", () => this.creditBack(stream));
    socket.on("end", () => this.endFromPier(stream));
    // Every error ends in "close", where it is dealt with.
    socket.on("error", () => {});
    socket.on("close", () => this.closed(stream));
    return true;
  }

  /** Bytes from Pier's socket: sent within the stream's credit, the rest held (and the socket paused) until more comes. */
  private fromPier(stream: Stream, chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && stream.credit > 0) {
      const size = Math.min(chunk.length - at, stream.credit, PIER_CHUNK);
      this.send(streamFrame(DATA, stream.id, chunk.subarray(at, at + size)));
      stream.credit -= size;
      at += size;
    }
    if (at < chunk.length) {
      stream.held = chunk.subarray(at);
      stream.socket.pause();
    }
  }

  private endFromPier(stream: Stream): void {
    if (stream.held) {
      stream.endHeld = true;
      return;
    }
    stream.sentEnd = true;
    this.send(streamFrame(END, stream.id));
  }

  private credit(stream: Stream, count: number): boolean {
    stream.credit += count;
    if (stream.credit > WINDOW) return this.refuseFalse("it credited more than a window back");
    const held = stream.held;
    if (!held) return true;
    stream.held = null;
    this.fromPier(stream, held);
    if (stream.held) return true;
    if (stream.endHeld) this.endFromPier(stream);
    else stream.socket.resume();
    return true;
  }

  private data(stream: Stream, bytes: Uint8Array): boolean {
    if (stream.gotEnd) return this.refuseFalse("it sent data after the end of a stream");
    stream.received += bytes.length;
    if (stream.received - stream.credited > WINDOW) return this.refuseFalse("it sent past a stream's window");
    // Copied: the parser's view may be of a chunk that is reused.
    if (stream.socket.write(Buffer.from(bytes))) this.creditBack(stream);
    return true;
  }

  /** Credits back what Pier's socket has taken (not what waits in its buffer), once there is enough to be worth a frame. */
  private creditBack(stream: Stream): void {
    const taken = stream.received - stream.socket.writableLength;
    if (taken - stream.credited < CREDIT_STEP) return;
    this.send(creditFrame(stream.id, taken - stream.credited));
    stream.credited = taken;
  }

  private endFromPod(stream: Stream): boolean {
    if (stream.gotEnd) return false;
    stream.gotEnd = true;
    stream.socket.end();
    return true;
  }

  private closeFromPod(stream: Stream): boolean {
    this.streams.delete(stream.id);
    stream.socket.destroy();
    return true;
  }

  /** Pier's socket closed: a stream that did not end both ways is over at once for the bridge too. */
  private closed(stream: Stream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (!(stream.sentEnd && stream.gotEnd)) this.send(streamFrame(CLOSE, stream.id));
  }

  private send(bytes: Uint8Array): void {
    if (!this.ended) this.process.write(bytes);
  }

  private refuse(why: string): void {
    this.deps.refused(why);
    this.close();
  }

  private refuseFalse(why: string): false {
    this.refuse(why);
    return false;
  }
}
