import type { EnvironmentPort } from "../environments/environment.ts";
import type { EventBus } from "../infra/events.ts";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { listeningSockets } from "./proc-net.ts";
import type { RelayPort } from "./relay-wire.ts";

/** A TCP port listening in a pod, as previews show it: one per port, whatever addresses it listens on. */
export interface ListeningPort {
  port: number;
  /** The repository's name for it (portsAttributes' label of a port in its devcontainer's forwardPorts). */
  label: string | null;
  /** The name of the process holding it (its `comm`), where the relay could tell. */
  process: string | null;
  pid: number | null;
  /** That process's PIER_SESSION_ID: the session whose terminal, script or agent started it (the pod's word, unchecked). */
  sessionId: string | null;
  /** The repository marks it as the app to open when it first appears (portsAttributes' onAutoForward). */
  app: boolean;
}

declare module "../infra/events.ts" {
  interface PierEvents {
    /** The ports listening in a pod changed (topic: the pod, as podKeyString writes it). */
    "preview.ports": { ports: ListeningPort[] };
  }
}

/** How often a pod without a relay is looked at while someone watches it (30–50 ms of the engine's each time). */
const SCAN_EVERY_MS = 3_000;
/** A look this recent answers a list of a pod without a relay again, so many readers cost one look. */
const SCAN_FRESH_MS = 2_000;
const SCAN_TIMEOUT_MS = 5_000;
/** Both files of a pod with LISTED_MAX sockets are a fraction of this; a pod printing more is cut off. */
const SCAN_OUTPUT_MAX = 256 * 1024;

export interface PreviewPortsDeps {
  bus: EventBus;
  /** The ports the repository names for the pod, with their labels (Pods.portLabels). */
  labelsOf(key: PodKey): EnvironmentPort[];
  /** The pod while it runs (nothing started), to look at when its relay is not connected; null when it does not run. */
  podOf(key: PodKey): Promise<PodShell | null>;
  /**
   * Pier's own listening ports, where the pods' network is the server's (the local runtime, or
   * network `host`): they are never a preview.
   */
  ownPorts(): number[];
}

interface PodPorts {
  key: PodKey;
  /** What the pod's relay last said; null while none is connected. */
  relay: RelayPort[] | null;
  /** The last look at the pod's /proc/net, for while it has no relay. */
  scanned: { at: number; sockets: RelayPort[] } | null;
  scanning: Promise<RelayPort[]> | null;
  /** Session pages open on the pod: a pod without a relay is looked at only while there are some. */
  watchers: number;
  timer: Timer | null;
  /** The list last published, as JSON, so only a change is published. */
  told: string | null;
}

/**
 * Which TCP ports listen in each pod, with the repository's labels for them. A pod's relay says
 * it within about a second of a change, with the process and session holding each port (fed in
 * by `update`); a pod without a relay (none connected yet, or none can run there) is looked at
 * through the runtime (`cat /proc/net/tcp /proc/net/tcp6`, no process known), on each list not
 * answered by a look of the last 2 s and every 3 s while a session page of it is open.
 * Each change is published as "preview.ports".
 */
export class PreviewPorts {
  private pods = new Map<string, PodPorts>();

  constructor(private deps: PreviewPortsDeps) {}

  /** What the pod's relay says listens there now; null when its relay has gone (the list then comes from looking). */
  update(key: PodKey, ports: RelayPort[] | null): void {
    const pod = this.pod(key);
    pod.relay = ports;
    // A look from before is older than what the relay said since: the next list looks again.
    pod.scanned = null;
    if (ports) this.tell(pod, ports);
    else if (pod.watchers > 0) void this.scan(pod);
  }

  /** The ports listening in the pod, one each, by number; none while the pod is not running. */
  async list(key: PodKey): Promise<ListeningPort[]> {
    const pod = this.pod(key);
    return this.compose(key, pod.relay ?? (await this.scan(pod)));
  }

  /** Whether anything listens on `port` in the pod now. */
  async listens(key: PodKey, port: number): Promise<boolean> {
    return (await this.list(key)).some((listening) => listening.port === port);
  }

  /**
   * A session page of the pod is open and hears "preview.ports": a pod without a relay is looked
   * at every few seconds until the returned function is called (once per watch).
   */
  watch(key: PodKey): () => void {
    const pod = this.pod(key);
    pod.watchers++;
    pod.timer ??= setInterval(() => {
      if (pod.relay === null) void this.scan(pod);
    }, SCAN_EVERY_MS);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      pod.watchers--;
      if (pod.watchers > 0 || !pod.timer) return;
      clearInterval(pod.timer);
      pod.timer = null;
    };
  }

  private pod(key: PodKey): PodPorts {
    const id = podKeyString(key);
    let pod = this.pods.get(id);
    if (!pod) {
      pod = { key, relay: null, scanned: null, scanning: null, watchers: 0, timer: null, told: null };
      this.pods.set(id, pod);
    }
    return pod;
  }

  /** The pod's listening sockets by a look of the last SCAN_FRESH_MS, else a new look (one at a time), published if changed. */
  private scan(pod: PodPorts): Promise<RelayPort[]> {
    if (pod.scanned && Date.now() - pod.scanned.at < SCAN_FRESH_MS) return Promise.resolve(pod.scanned.sockets);
    pod.scanning ??= this.look(pod.key)
      .then((sockets) => {
        pod.scanned = { at: Date.now(), sockets };
        // A relay that connected meanwhile knows better (and knows the processes).
        if (pod.relay === null) this.tell(pod, sockets);
        return sockets;
      })
      .finally(() => {
        pod.scanning = null;
      });
    return pod.scanning;
  }

  /**
   * The listening sockets in /proc/net of the running pod, through the runtime. `cat` is the one
   * program assumed in the image; one of the files missing (a kernel without IPv6) fails it
   * after printing the other, which is read all the same. A pod that does not run, or does not
   * answer, has none.
   */
  private async look(key: PodKey): Promise<RelayPort[]> {
    const shell = await this.deps.podOf(key).catch(() => null);
    if (!shell) return [];
    const read = await shell.runtime
      .exec(shell.pod, ["cat", "/proc/net/tcp", "/proc/net/tcp6"], { cwd: "/", timeoutMs: SCAN_TIMEOUT_MS, maxOutputBytes: SCAN_OUTPUT_MAX })
      .catch(() => null);
    if (!read || read.timedOut) return [];
    return listeningSockets(read.stdout).map(({ port, address }) => ({ port, address, pid: null, sessionId: null, name: null }));
  }

  private tell(pod: PodPorts, sockets: RelayPort[]): void {
    const ports = this.compose(pod.key, sockets);
    const told = JSON.stringify(ports);
    if (told === pod.told) return;
    pod.told = told;
    this.deps.bus.publish("preview.ports", podKeyString(pod.key), { ports });
  }

  /**
   * One entry per port (a server often listens on both 0.0.0.0 and ::), the socket whose process
   * is known telling who holds it, with the repository's label; Pier's own ports left out.
   */
  private compose(key: PodKey, sockets: RelayPort[]): ListeningPort[] {
    const labels = this.deps.labelsOf(key);
    const own = this.deps.ownPorts();
    const byPort = new Map<number, ListeningPort>();
    for (const socket of sockets) {
      if (own.includes(socket.port) || byPort.get(socket.port)?.pid != null) continue;
      const named = labels.find((labelled) => labelled.port === socket.port);
      byPort.set(socket.port, {
        port: socket.port,
        label: named?.label ?? null,
        process: socket.name,
        pid: socket.pid,
        sessionId: socket.sessionId,
        app: named?.app ?? false,
      });
    }
    return [...byPort.values()].sort((a, b) => a.port - b.port);
  }
}
