import { AppError } from "../infra/errors.ts";

/*
 * Why a connection to a port in a pod could not be had. The pod stands between Pier and the app
 * as an upstream server would: a 502 when the app did not take the connection, a 504 when it did
 * not answer in time, a 503 when Pier cannot reach into the pod at all (yet); never a 500.
 */

/** Nothing listens on the port in the pod: the connection was refused there. */
export class PortClosed extends AppError {
  constructor(readonly port: number) {
    super(502, "port_not_listening", `Nothing is listening on port ${port} in your pod.`);
  }
}

/** Something listens, but the connection failed there for another reason (said by the system in the pod). */
export class PortUnreachable extends AppError {
  constructor(port: number, why: string) {
    super(502, "port_unreachable", `Port ${port} in your pod did not take the connection: ${why}.`);
  }
}

/** The port did not accept the connection within a few seconds (its server is stuck, or its backlog full). */
export class PortTimedOut extends AppError {
  constructor(port: number) {
    super(504, "port_timeout", `Port ${port} in your pod did not take the connection in time.`);
  }
}

/** Pier has no relay in the pod to reach its ports through, and could not start one. */
export class RelayMissing extends AppError {
  constructor(why: string) {
    super(503, "relay_unavailable", `Pier cannot reach the ports of your pod now: ${why}.`);
  }
}

/** The pod has as many preview connections open (or opening) as Pier allows one pod. */
export class RelayBusy extends AppError {
  constructor(most: number) {
    super(503, "relay_busy", `Your pod already has ${most} preview connections open or opening; try again when some have closed.`);
  }
}
