import { type Socket, connect } from "node:net";
import { AppError } from "../infra/errors.ts";
import type { PodKey } from "../runtime/runtime.ts";
import { PortClosed, PortTimedOut, PortUnreachable } from "./relay-errors.ts";

/**
 * How a preview reaches a port listening in a person's pod: a TCP connection to it, as a node:net
 * socket carrying the raw stream (buffered, with backpressure, as node:http's agents take them),
 * paused until piped or resumed and half-open (its "end" says the app has finished sending; the
 * caller ends or destroys it when done). Throws AppErrors that say why not: PortClosed and the
 * others of relay-errors.ts, or a 400 for a port outside 1–65535. On Docker the pod's relay
 * dials (Relays); on the local runtime, whose "pod" is this machine, LocalDialer.
 */
export interface Dialer {
  dial(key: PodKey, port: number): Promise<Socket>;
  /**
   * A dialled socket whose bytes now go by another way (the splicer) and which Pier closes on its
   * side: it still counts as open until the returned function is called with the bytes carried.
   */
  carriedElsewhere?(socket: Socket): (bytes: number) => void;
}

/** How long a port on this machine may take to accept, as a pod's relay allows. */
const CONNECT_MS = 5_000;

/** A port that is Pier's own listener: shown as a preview it would be Pier's pages on another origin. */
export class PierPortRefused extends AppError {
  constructor(port: number) {
    super(403, "pier_port", `Port ${port} is Pier's own, which is not shown as a preview.`);
  }
}

/**
 * The local runtime's ports, which are this machine's: a connection to 127.0.0.1. Pier's own
 * ports are refused (see refusingPierPorts), so wrap it.
 */
export class LocalDialer implements Dialer {
  async dial(_key: PodKey, port: number): Promise<Socket> {
    checkPort(port);
    return await new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new PortTimedOut(port));
      }, CONNECT_MS);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        socket.pause();
        resolve(socket);
      });
      socket.once("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(error.code === "ECONNREFUSED" ? new PortClosed(port) : new PortUnreachable(port, error.code ?? error.message));
      });
    });
  }
}

/**
 * A dialer that refuses Pier's own ports (its app and its preview listener), for where a
 * preview's 127.0.0.1 is the server's: the local runtime, and pods on the host's network. Told
 * the ports as Pier listens (a configured 0 becomes a real port only then).
 */
export function refusingPierPorts(dialer: Dialer, pierPorts: () => Iterable<number>): Dialer {
  return {
    dial(key, port) {
      for (const own of pierPorts()) if (own === port) return Promise.reject(new PierPortRefused(port));
      return dialer.dial(key, port);
    },
    carriedElsewhere: dialer.carriedElsewhere && ((socket) => dialer.carriedElsewhere!(socket)),
  };
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AppError(400, "invalid_port", "A port is a whole number from 1 to 65535.");
}
