import { AppError, errorMessage } from "../infra/errors.ts";
import { SparingLog } from "../infra/sparing-log.ts";
import { placeProgram } from "../infra/static-program.ts";
import { type PodKey, podKeyString } from "../runtime/runtime.ts";
import type { PodShell } from "../workspaces/pod-script.ts";
import { BridgeLink } from "./bridge-link.ts";
import { BRIDGE_DIR, type StreamName } from "./bridge-wire.ts";

/** How long a bridge just started has to say hello. */
const HELLO_WAIT_MS = 10_000;
/** After a bridge ends while its pod runs, the next is started after this, doubling up to the most while they keep ending. */
const RESTART_FIRST_MS = 500;
const RESTART_MOST_MS = 30_000;
/** A bridge that ran this long ended for a reason of its own, not the last one's: the wait starts over. */
const RAN_LONG_MS = 60_000;
/** A pod whose bridge is refused or does not start is said in the log at most this often. */
const SAID_EVERY_MS = 10 * 60_000;

export interface BridgesDeps {
  /** The bridge program for pods, or null where it cannot be built. */
  build: { binary(): Promise<string | null> };
  /** Whether the pod reaches Pier through a bridge (its engine is not the local one). */
  bridged(key: PodKey): boolean;
  /** Where the bridge is placed for the pod (a directory the pod sees read-only, at the same path). */
  dirOf(key: PodKey): string;
  /** Pier's own listening socket of that name for the pod. */
  socketOf(key: PodKey, name: StreamName): string;
  /** The person's pod while it runs (nothing started or made), for a bridge started again after one ended. */
  podOf(key: PodKey): Promise<PodShell | null>;
}

interface Running {
  podId: string;
  link: BridgeLink;
  startedAt: number;
}

/**
 * Each pod on another engine has a bridge (pier-bridge.c) that Pier starts in it through the
 * runtime, whose stdin and stdout are the engine's exec stream: started as the pod comes up, again
 * after a restart of Pier (the old one exits as its stdin closes), and again when it ends while the
 * pod runs (after a wait that grows while they keep ending, so a broken pod cannot keep Pier busy).
 * It runs as root in the pod, so its directory and sockets there are none of the pod user's to
 * replace. A pod on the local engine mounts Pier's sockets and has none.
 */
export class Bridges {
  private running = new Map<string, Running>();
  private starting = new Map<string, Promise<void>>();
  private waits = new Map<string, number>();
  private restarts = new Map<string, Timer>();
  private said = new SparingLog(SAID_EVERY_MS);
  private closing = false;

  constructor(private deps: BridgesDeps) {}

  /** Makes sure the pod's bridge runs and has said hello (nothing for a pod that needs none). */
  ensure(key: PodKey, shell: PodShell): Promise<void> {
    if (this.closing || !this.deps.bridged(key)) return Promise.resolve();
    const id = podKeyString(key);
    const current = this.running.get(id);
    if (current?.link.alive && current.podId === shell.pod.id) return Promise.resolve();
    const under = this.starting.get(id);
    if (under) return under;
    const attempt = this.start(key, shell)
      .catch((error: unknown) => {
        this.said.say(`pod ${id}`, `pier: the bridge of pod ${id} did not start: ${errorMessage(error)}`);
        this.restartLater(key);
        throw error;
      })
      .finally(() => this.starting.delete(id));
    this.starting.set(id, attempt);
    return attempt;
  }

  /** Streams open through the pod's bridge now, or null while it has none running. */
  streams(key: PodKey): number | null {
    const running = this.running.get(podKeyString(key));
    return running?.link.alive ? running.link.open : null;
  }

  /** Ends every bridge (Pier is stopping): each exits as its stdin closes. */
  closeAll(): void {
    this.closing = true;
    for (const timer of this.restarts.values()) clearTimeout(timer);
    this.restarts.clear();
    for (const running of this.running.values()) running.link.close();
    this.running.clear();
  }

  private async start(key: PodKey, shell: PodShell): Promise<void> {
    const id = podKeyString(key);
    const binary = await this.deps.build.binary();
    if (!binary) throw new AppError(503, "bridge_unavailable", "Pier's bridge could not be built on this machine, so pods on other engines cannot reach Pier.");
    const program = placeProgram(binary, this.deps.dirOf(key), "pier-bridge");
    // The bridge of a pod made again meanwhile, or one that is somehow still there: the new one takes the sockets over.
    const old = this.running.get(id);
    this.running.delete(id);
    old?.link.close();
    const process = await shell.runtime.spawn(shell.pod, [program, "serve", BRIDGE_DIR], { cwd: "/", asRoot: true });
    const said: string[] = [];
    process.onErrorOutput((bytes) => said.push(new TextDecoder().decode(bytes).slice(0, 500)));
    const link = new BridgeLink(process, {
      socketOf: (name) => this.deps.socketOf(key, name),
      refused: (why) => this.said.say(`pod ${id}`, `pier: the bridge of pod ${id} was ended: ${why}.`),
    });
    const running = { podId: shell.pod.id, link, startedAt: Date.now() };
    this.running.set(id, running);
    void link.exited.then(() => this.ended(key, running));
    const timer = setTimeout(() => link.close(), HELLO_WAIT_MS);
    const hello = await link.hello;
    clearTimeout(timer);
    if (!hello) throw new Error(said.join("").trim().split("\n").at(-1) || `it said no hello within ${HELLO_WAIT_MS / 1000} s`);
  }

  private ended(key: PodKey, running: Running): void {
    const id = podKeyString(key);
    if (this.running.get(id) !== running) return;
    this.running.delete(id);
    if (Date.now() - running.startedAt > RAN_LONG_MS) this.waits.delete(id);
    this.restartLater(key);
  }

  /** Starts the pod's bridge again after a wait, if the pod still runs then (and Pier does). */
  private restartLater(key: PodKey): void {
    const id = podKeyString(key);
    if (this.closing || this.restarts.has(id)) return;
    const wait = this.waits.get(id) ?? RESTART_FIRST_MS;
    this.waits.set(id, Math.min(wait * 2, RESTART_MOST_MS));
    const timer = setTimeout(async () => {
      this.restarts.delete(id);
      const shell = await this.deps.podOf(key).catch(() => null);
      if (shell) await this.ensure(key, shell).catch(() => undefined);
    }, wait);
    timer.unref();
    this.restarts.set(id, timer);
  }
}
