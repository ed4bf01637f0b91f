import type { Socket } from "node:net";
import { AppError, errorMessage } from "../infra/errors.ts";
import { SparingLog } from "../infra/sparing-log.ts";
import { placeProgram } from "../infra/static-program.ts";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { RelayMissing } from "./relay-errors.ts";
import type { RelayHub } from "./relay-hub.ts";
import type { RelayPort } from "./relay-wire.ts";

/** How long `pier-relay start` may take: it forks and returns. */
const START_MS = 5_000;
/** How long a relay just started has to connect and say hello. */
const HELLO_WAIT_MS = 3_000;
/** A pod whose relay does not start is said in the log at most this often. */
const FAILURES_LOGGED_EVERY_MS = 10 * 60_000;

export interface RelaysDeps {
  hub: RelayHub;
  /** The relay program for pods, or null where it cannot be built. */
  build: { binary(): Promise<string | null> };
  /** The pod's services directory (read-only in the pod, at the same path), where the relay is placed. */
  dirOf(key: PodKey): string;
  /** The relay socket Pier listens on in that directory. */
  socketOf(key: PodKey): string;
  /** The person's pod while it runs (nothing started or made), for a dial that finds no relay connected. */
  podOf(key: PodKey): Promise<PodShell | null>;
}

/**
 * Each pod's relay, kept running so that Pier can open TCP connections to ports listening in the
 * pod, which may have no network at all: started as the pod comes up and again by the first dial
 * that finds none (killed, or gone with a restarted pod), one start at a time per pod. A relay
 * outlives Pier and connects again within a second of its restart. The socket it connects on
 * says which pod it is in (see RelayHub), so nothing else identifies it.
 */
export class Relays {
  private starting = new Map<string, Promise<void>>();
  private failures = new SparingLog(FAILURES_LOGGED_EVERY_MS);

  constructor(private deps: RelaysDeps) {}

  /**
   * Makes sure the pod's relay runs and is connected: nothing while one is, else starts one (or
   * joins the start under way) and waits for its hello. RelayMissing when it cannot be had.
   */
  ensure(key: PodKey, shell: PodShell): Promise<void> {
    if (this.deps.hub.connected(key)) return Promise.resolve();
    const id = podKeyString(key);
    const running = this.starting.get(id);
    if (running) return running;
    const attempt = this.start(key, shell)
      .catch((error: unknown) => {
        this.failures.say(`pod ${id}`, `pier: the preview relay of pod ${id} is not running: ${errorMessage(error)}`);
        throw error instanceof AppError ? error : new RelayMissing(`its relay did not start (${errorMessage(error)})`);
      })
      .finally(() => this.starting.delete(id));
    this.starting.set(id, attempt);
    return attempt;
  }

  /**
   * A TCP connection to 127.0.0.1:`port` in the pod (or to where that port listens there), as a
   * node:net socket carrying the raw stream, paused until read (pipe() or resume(): a "data"
   * listener alone does not start a paused stream); starts the relay first if none is
   * connected. The socket is half-open: its "end" says the app has finished sending, and it can
   * still be written until the caller ends it (end() passes that on to the app as the end of its
   * input), so the caller ends or destroys it when done. Throws AppErrors: PortClosed (`port_not_listening`) when nothing listens there,
   * RelayMissing (`relay_unavailable`, 503) when the pod or its relay cannot be had, RelayBusy,
   * PortTimedOut and PortUnreachable (see relay-errors.ts), and a 400 for a port outside 1–65535.
   */
  async dial(key: PodKey, port: number): Promise<Socket> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AppError(400, "invalid_port", "A port is a whole number from 1 to 65535.");
    if (!this.deps.hub.connected(key)) {
      const shell = await this.deps.podOf(key);
      if (!shell) throw new RelayMissing("your pod is not running");
      await this.ensure(key, shell);
    }
    return this.deps.hub.open(key, port);
  }

  carriedElsewhere(socket: Socket): (bytes: number) => void {
    return this.deps.hub.carriedElsewhere(socket);
  }

  /** The TCP ports listening in the pod as its relay last said; null while no relay of it is connected. */
  ports(key: PodKey): RelayPort[] | null {
    return this.deps.hub.ports(key);
  }

  /** Told each new list of a pod's listening ports (within about a second of a change), and null when its relay goes. */
  onPorts(listener: (key: PodKey, ports: RelayPort[] | null) => void): void {
    this.deps.hub.onPorts(listener);
  }

  private async start(key: PodKey, shell: PodShell): Promise<void> {
    // A pod that was already running may still have its relay from before a restart of Pier, on its way back.
    if (!shell.pod.created && (await this.deps.hub.relayReturned(key))) return;
    const binary = await this.deps.build.binary();
    if (!binary) throw new RelayMissing("Pier's relay could not be built on this machine");
    const program = placeProgram(binary, this.deps.dirOf(key), "pier-relay");
    const started = await shell.runtime.exec(shell.pod, [program, "start", this.deps.socketOf(key)], { cwd: "/", timeoutMs: START_MS, maxOutputBytes: 4096 });
    if (started.exitCode !== 0) {
      const said = started.stderr.trim().split("\n").slice(-1)[0];
      throw new RelayMissing(`its relay did not start (${said || `exit ${started.exitCode}`})`);
    }
    if (!(await this.deps.hub.whenConnected(key, HELLO_WAIT_MS))) throw new RelayMissing(`its relay did not connect within ${HELLO_WAIT_MS / 1000} s`);
  }
}
