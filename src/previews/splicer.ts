import type { Socket } from "node:net";

/** One answer being carried by the splicer: how it ended, and the way to cut it short. */
export interface SplicedAnswer {
  /** Resolves once the splicer is done: the bytes it wrote to the browser, and whether all of the app's stream went. */
  done: Promise<{ bytes: number; whole: boolean }>;
  /** Ends it at once (a sign-out, a revoked share, an ended session, Pier stopping): both connections close. */
  cut(): void;
}

/**
 * Large answers of previews carried past Pier's own process: `pier-relay splice` (pier-relay.c),
 * run on the server for one answer, is given the browser's connection and the stream from the app
 * as it starts, writes the answer's head Pier made (and what Pier had read of the body), then
 * moves the rest in the kernel with splice(2). Carried by node:http under Bun, each byte costs
 * Pier about twice what the splicer costs (bench/RESULTS.md, issue 26).
 *
 * The splicer runs on the server, outside every pod, and takes descriptors only from Pier, as it
 * starts: a browser's connection (a socket of the server's network) is never given into a pod.
 * A process per answer (not a daemon taking descriptors over a socket) because Bun has no
 * sendmsg with SCM_RIGHTS: starting one costs about a millisecond, which only large answers
 * (HANDOFF_MIN_BYTES) are given to it for.
 */
export class Splicer {
  private binary: string | null = null;
  private found: Promise<boolean>;

  constructor(deps: { binary: () => Promise<string | null>; log?: (line: string) => void }) {
    this.found = deps.binary().then((binary) => {
      this.binary = binary;
      if (!binary) deps.log?.("pier: large preview answers are carried by Pier's own process: the splicer (pier-relay splice) could not be had on this machine.");
      return binary !== null;
    });
  }

  /** Whether answers can be handed to the splicer now (its program was found or built). */
  ready(): boolean {
    return this.binary !== null;
  }

  /** Whether the splicer can be had, once its program was looked for (or built). */
  whenReady(): Promise<boolean> {
    return this.found;
  }

  /**
   * Starts carrying an answer: `first` to the browser, then everything `app` sends until it ends.
   * Both sockets are closed on Pier's side here (the splicer holds them now; closing Pier's copy
   * of a socket does not end its connection), so Bun never reads or writes them again.
   */
  carry(first: Buffer, browser: Socket, app: Socket): SplicedAnswer {
    const browserFd = descriptorOf(browser);
    const appFd = descriptorOf(app);
    if (!this.binary || browserFd === null || appFd === null) throw new Error("the splicer cannot take this answer");
    const child = Bun.spawn([this.binary, "splice"], { stdio: ["pipe", "pipe", "ignore", browserFd, appFd] });
    // Pier lets go of both in the same turn as the splicer got them: Bun's event loop never reads them again.
    app.destroy();
    browser.destroy();
    child.stdin.write(first);
    void child.stdin.end();
    const done = Promise.all([child.exited, new Response(child.stdout).text()]).then(([code, said]) => ({
      bytes: Number.parseInt(said, 10) || 0,
      whole: code === 0,
    }));
    return { done, cut: () => child.kill("SIGKILL") };
  }
}

/** The descriptor of a socket Pier holds, where Bun tells it (node:net sockets; not node:http's own). */
export function descriptorOf(socket: Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : null;
}
