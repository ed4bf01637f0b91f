/**
 * PreviewPorts without a relay, on the local runtime (this machine is the "pod", its
 * /proc/net read with `cat` as in a pod): one entry per port though a server listens on IPv4 and
 * IPv6 apart, the repository's label and app mark, Pier's own port left out, a change published
 * once, a relay's list preferred to looking, and looking every few seconds only while watched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Server, createServer } from "node:net";
import { EventBus } from "../../src/infra/events.ts";
import { type ListeningPort, PreviewPorts } from "../../src/previews/ports.ts";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";
import type { ExecOptions, Pod, PodKey } from "../../src/runtime/runtime.ts";
import { until } from "../support/until.ts";

const key: PodKey = { repoId: "repo", userId: "user" };

function listen(port: number, host: string, options: { ipv6Only?: boolean } = {}): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen({ port, host, ...options }, () => resolve(server));
  });
}

describe("PreviewPorts on this machine, without a relay", () => {
  const bus = new EventBus();
  const published: ListeningPort[][] = [];
  /** Each command the ports ran on the "pod", to see when it looks. */
  const looks: string[][] = [];
  class CountingRuntime extends LocalRuntime {
    override exec(pod: Pod, command: string[], options: ExecOptions) {
      looks.push(command);
      return super.exec(pod, command, options);
    }
  }
  const runtime = new CountingRuntime();
  let pier: Server;
  let app: Server;
  let appOn6: Server;
  let appPort: number;
  let pierPort: number;
  const ports = new PreviewPorts({
    bus,
    labelsOf: () => [{ port: appPort, label: "Web app", app: true }],
    podOf: async () => ({ runtime, pod: { id: "local", image: "local" }, cwd: "/", gitConfig: "/dev/null" }),
    ownPorts: () => [pierPort],
  });

  beforeAll(async () => {
    bus.subscribe("preview.ports", "repo/user", ({ ports }) => published.push(ports));
    pier = await listen(0, "127.0.0.1");
    pierPort = (pier.address() as { port: number }).port;
    app = await listen(0, "0.0.0.0");
    appPort = (app.address() as { port: number }).port;
    // The same port on IPv6 too, apart (where this machine has IPv6).
    appOn6 = await listen(appPort, "::", { ipv6Only: true }).catch(() => app);
  });

  afterAll(() => {
    for (const server of new Set([pier, app, appOn6])) server.close();
  });

  test("a server is listed once, with the repository's label; Pier's own port is not", async () => {
    const listed = await ports.list(key);
    expect(listed.filter((port) => port.port === appPort)).toEqual([{ port: appPort, label: "Web app", process: null, pid: null, sessionId: null, app: true }]);
    expect(listed.some((port) => port.port === pierPort)).toBe(false);
    expect(await ports.listens(key, appPort)).toBe(true);
    expect(await ports.listens(key, pierPort)).toBe(false);
    expect(looks).toEqual([["cat", "/proc/net/tcp", "/proc/net/tcp6"]]);
    // The list learned by looking was published, once.
    expect(published).toHaveLength(1);
    expect(published[0]).toEqual(listed);
  });

  test("a look of the last two seconds answers the next list; nothing is looked at while nobody watches", async () => {
    await ports.list(key);
    expect(looks).toHaveLength(1);
    await Bun.sleep(3_500);
    expect(looks).toHaveLength(1);
  });

  test("while watched, a new server is published within a few seconds, and the looking stops with the last watcher", async () => {
    const first = ports.watch(key);
    const second = ports.watch(key);
    const late = await listen(0, "127.0.0.1");
    const latePort = (late.address() as { port: number }).port;
    try {
      const told = await until("the new server published", async () => published.at(-1), (ports) => ports?.some((port) => port.port === latePort) === true, 10_000);
      expect(told!.find((port) => port.port === latePort)).toMatchObject({ label: null, process: null, app: false });
    } finally {
      late.close();
    }
    first();
    first();
    const looked = looks.length;
    await until("the server's end published", async () => published.at(-1), (ports) => ports?.some((port) => port.port === latePort) === false, 10_000);
    second();
    const stopped = looks.length;
    expect(stopped).toBeGreaterThan(looked);
    await Bun.sleep(3_500);
    expect(looks).toHaveLength(stopped);
  }, 30_000);

  test("a relay's list is the list while it is connected, with its processes; when it goes, the pod is looked at again", async () => {
    const before = looks.length;
    const relayList = [
      { port: appPort, address: "::", pid: 42, sessionId: "s1", name: "vite" },
      { port: appPort, address: "0.0.0.0", pid: null, sessionId: null, name: null },
    ];
    ports.update(key, relayList);
    expect(await ports.list(key)).toEqual([{ port: appPort, label: "Web app", process: "vite", pid: 42, sessionId: "s1", app: true }]);
    expect(published.at(-1)).toEqual(await ports.list(key));
    // The same list again is no change: nothing is published.
    const count = published.length;
    ports.update(key, [...relayList].reverse());
    expect(published).toHaveLength(count);
    expect(looks).toHaveLength(before);
    ports.update(key, null);
    expect((await ports.list(key)).find((port) => port.port === appPort)?.process).toBeNull();
    expect(looks).toHaveLength(before + 1);
  });
});
