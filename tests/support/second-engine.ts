/**
 * A second Docker engine of the test's own, for the tests that stop and start an engine under a
 * live Pier: the machine's default engine (/var/run/docker.sock) is shared by every test and every
 * helper on the machine and is never stopped. This one has its own socket, data root, exec root
 * and pid file, no bridge and no iptables rules (pods in tests use network none, or host), and its
 * own containerd (dockerd starts one under its exec root).
 *
 * The image its pods need is copied in from the default engine (`docker save | docker load`),
 * once per data root: a stopped engine keeps its images, so `start()` after `stop()` finds it again.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SecondEngine {
  /** DOCKER_HOST for Pier and for the docker CLI: unix:///tmp/…/docker.sock. */
  host: string;
  /** Starts dockerd on the same data root (again, after stop()), resolving once it answers. */
  start(): Promise<void>;
  /** SIGTERM to dockerd, as `systemctl stop docker` does, resolving once it has exited. */
  stop(): Promise<void>;
  /**
   * SIGTERM to dockerd, returning only once it has exited and holding up this whole process
   * (Pier's event loop too, in a test Pier) until then: for a listener Pier calls as it reaches a
   * step, so the engine is gone before Pier's next call to it. `stop()` afterwards finds it gone.
   */
  stopNow(): void;
  /**
   * Stops dockerd where it is (SIGSTOP), so every call to the engine goes unanswered, without an
   * error, until thaw(): a test holds a caller (Pier) in the middle of a step. Its containers run on.
   */
  freeze(): void;
  /** Lets a frozen dockerd go on (SIGCONT). */
  thaw(): void;
  /** `docker` against this engine; throws with its stderr when it fails. */
  docker(...args: string[]): Promise<string>;
  /** Copies an image from the default engine into this one (measured: see the note on loadImage). */
  loadImage(image: string): Promise<void>;
  /** Stops the engine and removes everything it had: containers, images, directories. */
  destroy(): Promise<void>;
}

/** How long dockerd gets to answer after it starts, or to exit after SIGTERM (it stops running containers first, 10 s each at most). */
const START_MS = 60_000;
const STOP_MS = 60_000;

/**
 * Makes (and starts) an engine under a fresh directory in /tmp: its socket path must stay short
 * (a Unix socket's path is at most 107 bytes, and containerd's sockets live under the exec root).
 */
export async function startSecondEngine(): Promise<SecondEngine> {
  const dir = mkdtempSync("/tmp/pe-");
  const socket = join(dir, "docker.sock");
  const dataRoot = join(dir, "data");
  const execRoot = join(dir, "exec");
  const pidFile = join(dir, "docker.pid");
  // Its own (empty) daemon.json: the machine's could name hosts or a bridge for the default engine.
  const config = join(dir, "daemon.json");
  mkdirSync(dataRoot);
  mkdirSync(execRoot);
  writeFileSync(config, "{}\n");
  const host = `unix://${socket}`;
  let daemon: ReturnType<typeof Bun.spawn> | null = null;

  const docker = async (...args: string[]): Promise<string> => {
    const proc = Bun.spawn(["docker", "-H", host, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`docker ${args[0]} on the second engine exited with ${code}: ${err.trim()}`);
    return out;
  };

  const answers = async (): Promise<boolean> => {
    const proc = Bun.spawn(["docker", "-H", host, "version", "--format", "{{.Server.Version}}"], { stdout: "ignore", stderr: "ignore" });
    return (await proc.exited) === 0;
  };

  const engine: SecondEngine = {
    host,
    async start() {
      if (daemon && daemon.exitCode === null) throw new Error("the second engine is already running");
      const log = Bun.file(join(dir, "dockerd.log"));
      daemon = Bun.spawn(
        [
          "dockerd",
          "--host", host,
          "--data-root", dataRoot,
          "--exec-root", execRoot,
          "--pidfile", pidFile,
          "--config-file", config,
          "--bridge=none",
          "--iptables=false",
          "--ip-masq=false",
          "--ip-forward=false",
        ],
        { stdin: "ignore", stdout: log, stderr: log },
      );
      const deadline = Date.now() + START_MS;
      while (!(await answers())) {
        if (daemon.exitCode !== null) throw new Error(`the second dockerd exited with ${daemon.exitCode}; see ${join(dir, "dockerd.log")}`);
        if (Date.now() > deadline) throw new Error(`the second dockerd did not answer within ${START_MS / 1000} s`);
        await Bun.sleep(100);
      }
    },
    async stop() {
      const running = daemon;
      if (!running || running.exitCode !== null) return;
      running.kill("SIGTERM");
      const exited = await Promise.race([running.exited.then(() => true), Bun.sleep(STOP_MS).then(() => false)]);
      if (!exited) {
        running.kill("SIGKILL");
        await running.exited;
      }
    },
    stopNow() {
      if (!daemon || daemon.exitCode !== null) return;
      daemon.kill("SIGTERM");
      // dockerd removes its pid file as the last thing it does before it exits.
      const waited = Bun.spawnSync(["timeout", String(STOP_MS / 1000), "sh", "-c", `while [ -e '${pidFile}' ]; do sleep 0.05; done`]);
      if (waited.exitCode !== 0) throw new Error(`the second dockerd did not exit within ${STOP_MS / 1000} s`);
    },
    freeze() {
      daemon?.kill("SIGSTOP");
    },
    thaw() {
      daemon?.kill("SIGCONT");
    },
    docker,
    /**
     * `docker save` from the default engine piped into `docker load` here. Measured on the test
     * machine: the bare test image (167 MB) in 4.5 to 5 s, the test workspace image (326 MB) in
     * about 6 s; the faults tests take the bare one. At that cost each test file loads its own
     * rather than sharing a data root between files (which would tie their engines' lives together).
     */
    async loadImage(image) {
      const save = Bun.spawn(["docker", "save", image], { stdout: "pipe", stderr: "pipe" });
      const load = Bun.spawn(["docker", "-H", host, "load", "--quiet"], { stdin: save.stdout, stdout: "ignore", stderr: "pipe" });
      const [saved, loaded, saveErr, loadErr] = await Promise.all([save.exited, load.exited, new Response(save.stderr).text(), new Response(load.stderr).text()]);
      if (saved !== 0 || loaded !== 0) throw new Error(`could not copy ${image} to the second engine: ${saveErr.trim()} ${loadErr.trim()}`);
    },
    async destroy() {
      if (daemon && daemon.exitCode === null) {
        const ids = (await docker("ps", "-aq").catch(() => "")).split("\n").filter(Boolean);
        if (ids.length > 0) await docker("rm", "-f", ...ids).catch(() => undefined);
      }
      await engine.stop();
      // The engine's overlay mounts and its containerd's are gone once it has stopped; anything
      // still mounted under the directory (a crash) is unmounted before the directory goes.
      Bun.spawnSync(["sh", "-c", `grep -o " ${dir}/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stderr: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await engine.start();
  return engine;
}
