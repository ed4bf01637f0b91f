import { randomBytes } from "node:crypto";
import { chmodSync, rmSync } from "node:fs";
import { type Server, type Socket, createServer } from "node:net";
import { SparingLog } from "../infra/sparing-log.ts";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";
import { FrameParser } from "../terminal/holder/holder-stream.ts";
import { PortClosed, PortTimedOut, PortUnreachable, RelayBusy, RelayMissing } from "./relay-errors.ts";
import {
  AFTER_HELLO_MAX,
  FirstFrame,
  HELLO,
  ID_BYTES,
  LIST,
  type OpenFailure,
  RELAY_VERSION,
  type RelayPort,
  exitFrame,
  helloVersion,
  idText,
  openFrame,
  parseFailure,
  parsePorts,
} from "./relay-wire.ts";

/**
 * Data connections one pod may have open or opening at once (as HolderHub's MAX_CONNECTIONS):
 * a page opens 6 to 30, a dev server's hot reload one more, so several previews open at once
 * fit. The relay holds at most 128 KiB in flight for each (a 64 KiB pipe each way), so its
 * pod's share stays within 16 MiB.
 */
export const MAX_DATA_CONNECTIONS = 128;
/** Connections a pod may have open on its relay socket: the relay's control connection and its data connections. */
const MAX_CONNECTIONS = 1 + MAX_DATA_CONNECTIONS;
/** Opens asked of a relay and not answered yet. */
const MAX_PENDING = 32;
/** A connection that has not said what it is this long after it opened is closed (the relay says it as it connects). */
const FIRST_FRAME_MS = 5_000;
/** How long an open may take: the relay's own connect gives up a second sooner and says why. */
const OPEN_MS = 5_000;
/** How long after Pier starts listening a relay still running from before (Pier restarted) has to connect again: it tries every 250 ms. */
const RETURN_GRACE_MS = 1_000;
/** A pod whose connections are refused is said in the log at most this often, not once per connection. */
const REFUSALS_LOGGED_EVERY_MS = 10 * 60_000;

interface PendingOpen {
  port: number;
  resolve(socket: Socket): void;
  reject(error: Error): void;
  timer: Timer;
}

/** One pod's relay socket and what is open on it. */
interface PodRelay {
  key: PodKey;
  server: Server;
  listenedAt: number;
  /** Every connection open on the socket, whatever it turns out to be. */
  sockets: Set<Socket>;
  /** The relay whose hello was taken. */
  control: Socket | null;
  pending: Map<string, PendingOpen>;
  /** Data connections handed out and still open. */
  data: Set<Socket>;
  /** What the relay last said listens in the pod (null while none is connected). */
  ports: RelayPort[] | null;
  waiters: Set<() => void>;
}

/**
 * Where pods' relays (pier-relay.c) reach Pier: a Unix socket in each pod's services directory,
 * which the pod sees read-only and only its own, so the socket says which pod is talking and no
 * network is needed. Pier only listens: a relay dials in with a control connection, and again
 * with a data connection for each open Pier asks of it, which Pier takes only when it carries the
 * random id of an open Pier asked of that same pod's relay. The data connection is then a plain
 * node:net socket carrying the TCP stream of the port in the pod (buffered, with backpressure, as
 * node:http's agents take them).
 *
 * The pod is untrusted: at most MAX_CONNECTIONS at a time, each says what it is within
 * FIRST_FRAME_MS in a frame bounded by its type, the control connection's frames are bounded and
 * parsed strictly, and anything else ends the connection.
 */
export class RelayHub {
  private pods = new Map<string, PodRelay>();
  private portListeners: Array<(key: PodKey, ports: RelayPort[] | null) => void> = [];
  private refusals = new SparingLog(REFUSALS_LOGGED_EVERY_MS);
  /** Bytes carried both ways by data connections since Pier started, those still open aside. */
  private carried = 0;
  /** Data connections closed on Pier's side while the splicer carries them: open still, for the bounds and /metrics. */
  private elsewhere = new Set<Socket>();

  /** Starts listening for the pod's relay at `path` (once per server run). */
  listen(key: PodKey, path: string): void {
    const id = podKeyString(key);
    if (this.pods.has(id)) return;
    rmSync(path, { force: true });
    // allowHalfOpen: the end of a stream one way (a request's body) leaves the other way open.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accepted(pod, socket));
    const pod: PodRelay = { key, server, listenedAt: Date.now(), sockets: new Set(), control: null, pending: new Map(), data: new Set(), ports: null, waiters: new Set() };
    server.on("error", (error) => console.error(`pier: the relay socket of pod ${id} failed: ${error.message}`));
    // The pod user must be able to connect; only the pod (and the server) can see the path.
    server.listen(path, () => chmodSync(path, 0o666));
    this.pods.set(id, pod);
  }

  /** Whether the pod's relay is connected now. */
  connected(key: PodKey): boolean {
    return this.pods.get(podKeyString(key))?.control != null;
  }

  /** Resolves true once the pod's relay is connected (at once if it is), false after `ms`. */
  whenConnected(key: PodKey, ms: number): Promise<boolean> {
    const pod = this.pods.get(podKeyString(key));
    if (!pod) return Promise.resolve(false);
    if (pod.control) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        pod.waiters.delete(wake);
        resolve(pod.control !== null);
      };
      const timer = setTimeout(wake, ms);
      pod.waiters.add(wake);
    });
  }

  /**
   * Whether a relay already running in the pod is connected: one from before Pier listened (a
   * restart) is waited for while it may still be on its way, so it is not started twice.
   */
  relayReturned(key: PodKey): Promise<boolean> {
    const pod = this.pods.get(podKeyString(key));
    if (!pod) return Promise.resolve(false);
    return this.whenConnected(key, Math.max(0, pod.listenedAt + RETURN_GRACE_MS - Date.now()));
  }

  /** What the pod's relay last said listens there; null while no relay is connected. */
  ports(key: PodKey): RelayPort[] | null {
    return this.pods.get(podKeyString(key))?.ports ?? null;
  }

  /** Told each list a pod's relay sends, and null when its relay goes. */
  onPorts(listener: (key: PodKey, ports: RelayPort[] | null) => void): void {
    this.portListeners.push(listener);
  }

  /**
   * A connection to `port` in the pod, through its connected relay: a paused socket carrying the
   * raw TCP stream. PortClosed when nothing listens there; RelayMissing when no relay is connected.
   */
  open(key: PodKey, port: number): Promise<Socket> {
    const pod = this.pods.get(podKeyString(key));
    const control = pod?.control;
    if (!pod || !control) return Promise.reject(new RelayMissing("no relay of your pod is connected"));
    if (pod.pending.size >= MAX_PENDING || pod.pending.size + pod.data.size >= MAX_DATA_CONNECTIONS) return Promise.reject(new RelayBusy(MAX_DATA_CONNECTIONS));
    const id = randomBytes(ID_BYTES);
    const name = idText(id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pod.pending.delete(name);
        reject(new PortTimedOut(port));
      }, OPEN_MS);
      pod.pending.set(name, { port, resolve, reject, timer });
      control.write(openFrame(id, port));
    });
  }

  /** Data connections open now, and the bytes carried both ways since Pier started (for /metrics). */
  traffic(): { connections: number; bytes: number } {
    let connections = 0;
    let bytes = this.carried;
    for (const pod of this.pods.values()) {
      connections += pod.data.size;
      for (const socket of pod.data) bytes += socket.bytesRead + socket.bytesWritten;
    }
    return { connections, bytes };
  }

  /**
   * A data connection Pier hands to the splicer (which holds it after Pier's socket closes): it
   * counts against its pod's bounds until the returned function says it is over and how many
   * bytes the splicer carried.
   */
  carriedElsewhere(socket: Socket): (bytes: number) => void {
    this.elsewhere.add(socket);
    return (bytes) => {
      if (!this.elsewhere.delete(socket)) return;
      this.carried += bytes;
      // Not closed yet: its "close" (on its way) does the rest.
      if (!socket.closed) return;
      for (const pod of this.pods.values()) if (pod.sockets.has(socket)) this.closed(pod, socket);
    };
  }

  async closeAll(): Promise<void> {
    const pods = [...this.pods.values()];
    this.pods.clear();
    await Promise.all(
      pods.map((pod) => {
        const closed = new Promise<void>((resolve) => pod.server.close(() => resolve()));
        for (const socket of pod.sockets) socket.destroy();
        return closed;
      }),
    );
  }

  private accepted(pod: PodRelay, socket: Socket): void {
    // Every error ends in "close", where it is dealt with.
    socket.on("error", () => {});
    if (pod.sockets.size >= MAX_CONNECTIONS) return this.refuse(pod, socket, `the pod already has ${MAX_CONNECTIONS} open`);
    pod.sockets.add(socket);
    const first = new FirstFrame();
    const timer = setTimeout(() => this.refuse(pod, socket, `it said nothing within ${FIRST_FRAME_MS / 1000} s`), FIRST_FRAME_MS);
    timer.unref();
    socket.once("close", () => {
      clearTimeout(timer);
      this.closed(pod, socket);
    });
    // Half-open sockets stay open after the other side's end: only a data connection's reader
    // may still have something to send; any other connection is over.
    socket.once("end", () => {
      if (!pod.data.has(socket)) socket.destroy();
    });
    const read = (chunk: Buffer) => {
      const frame = first.push(chunk);
      if (frame === null) return;
      // Whatever comes next is someone else's to read: nothing may flow past while no one listens.
      socket.off("data", read);
      socket.pause();
      clearTimeout(timer);
      if (frame === "refused") this.refuse(pod, socket, "it did not start with a relay's hello or a data connection's id");
      else if (frame.type === HELLO) this.hello(pod, socket, frame.payload, frame.rest);
      else this.dataConnection(pod, socket, frame.payload, frame.rest);
    };
    socket.on("data", read);
  }

  private hello(pod: PodRelay, socket: Socket, payload: Uint8Array, rest: Uint8Array): void {
    const version = helloVersion(payload);
    if (version === null) return this.refuse(pod, socket, "it did not start with a relay's hello");
    // A second relay (two were started at once), or one of another Pier's version: it exits, and
    // the next preview starts the right one if none is left. Closed once told, so that no
    // connection is held on by saying hello and then nothing.
    if (version !== RELAY_VERSION || pod.control) {
      socket.write(exitFrame(), () => socket.destroy());
      return;
    }
    pod.control = socket;
    const parser = new FrameParser((type) => AFTER_HELLO_MAX.get(type));
    const frame = (type: number, payload: Uint8Array) => (type === LIST ? this.listed(pod, payload) : this.failed(pod, payload));
    const read = (chunk: Uint8Array) => {
      if (!parser.push(chunk, frame)) this.refuse(pod, socket, "its relay sent something that is not a relay's frame");
    };
    socket.on("data", read);
    if (rest.length > 0) read(rest);
    socket.resume();
    for (const wake of [...pod.waiters]) wake();
  }

  private listed(pod: PodRelay, payload: Uint8Array): boolean {
    const ports = parsePorts(payload);
    if (!ports) return false;
    pod.ports = ports;
    for (const listener of this.portListeners) listener(pod.key, ports);
    return true;
  }

  private failed(pod: PodRelay, payload: Uint8Array): boolean {
    const failure = parseFailure(payload);
    if (!failure) return false;
    // An id no longer waited for (the open timed out meanwhile) is a late answer, nothing worse.
    const pending = pod.pending.get(failure.id);
    if (!pending) return true;
    pod.pending.delete(failure.id);
    clearTimeout(pending.timer);
    pending.reject(openError(pending.port, failure));
    return true;
  }

  private dataConnection(pod: PodRelay, socket: Socket, payload: Uint8Array, rest: Uint8Array): void {
    const pending = payload.length === ID_BYTES ? pod.pending.get(idText(payload)) : undefined;
    if (!pending) return this.refuse(pod, socket, "a data connection named no open Pier asked of this pod's relay");
    pod.pending.delete(idText(payload));
    clearTimeout(pending.timer);
    // The app's first bytes may have come with the id: they are the stream's, read first.
    if (rest.length > 0) socket.unshift(Buffer.from(rest));
    pod.data.add(socket);
    pending.resolve(socket);
  }

  private closed(pod: PodRelay, socket: Socket): void {
    if (this.elsewhere.has(socket)) return;
    pod.sockets.delete(socket);
    if (pod.data.delete(socket)) this.carried += socket.bytesRead + socket.bytesWritten;
    if (socket !== pod.control) return;
    pod.control = null;
    pod.ports = null;
    for (const [name, pending] of pod.pending) {
      clearTimeout(pending.timer);
      pending.reject(new RelayMissing("the relay in your pod went away"));
      pod.pending.delete(name);
    }
    for (const listener of this.portListeners) listener(pod.key, null);
  }

  /** Closes a connection the pod should not have made, and says so in the log (sparingly: a pod may make thousands). */
  private refuse(pod: PodRelay, socket: Socket, why: string): void {
    socket.destroy();
    const id = podKeyString(pod.key);
    this.refusals.say(`pod ${id}`, `pier: the relay socket of pod ${id} closed a connection: ${why}.`);
  }
}

function openError(port: number, failure: OpenFailure): Error {
  if (failure.reason === "refused") return new PortClosed(port);
  if (failure.reason === "timeout") return new PortTimedOut(port);
  if (failure.reason === "busy") return new RelayBusy(MAX_DATA_CONNECTIONS);
  return new PortUnreachable(port, failure.detail || "the system in the pod gave no reason");
}
