/**
 * Pier's end of the pods' relay sockets (RelayHub), spoken to over real Unix sockets the way a
 * relay, or anything else in a pod, could: a relay in one pod answering an open Pier asked of
 * another pod's relay, data connections naming no open, garbage and oversized frames, a second
 * relay, too many connections. (pier-relay itself, in real pods, is tests/previews/relay.test.ts.)
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RelayHub } from "../../src/previews/relay-hub.ts";
import { DATA, HELLO, ID_BYTES, LIST, FAILED, frame } from "../../src/previews/relay-wire.ts";
import type { PodKey } from "../../src/runtime/runtime.ts";
/** Resolves once `check` holds (looked at every 10 ms); rejects after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still not so after ${ms} ms`);
    await Bun.sleep(10);
  }
}

const dir = mkdtempSync(join(tmpdir(), "pier-relay-hub-"));
const ALICE: PodKey = { repoId: "repo1", userId: "alice" };
const BOB: PodKey = { repoId: "repo1", userId: "bob" };
const hubs: RelayHub[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const hub of hubs.splice(0)) await hub.closeAll();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (value: string) => new TextEncoder().encode(value);
let made = 0;

/** A hub listening for Alice's and Bob's pods, each on its own socket. */
async function twoPods() {
  const hub = new RelayHub();
  hubs.push(hub);
  const n = made++;
  const paths = { alice: join(dir, `alice-${n}.sock`), bob: join(dir, `bob-${n}.sock`) };
  hub.listen(ALICE, paths.alice);
  hub.listen(BOB, paths.bob);
  await until(() => exists(paths.alice) && exists(paths.bob), 2000);
  return { hub, paths };
}

function exists(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** A connection to a relay socket: what it received, and whether the hub closed it. */
async function dialIn(path: string) {
  const socket = connect(path);
  sockets.push(socket);
  socket.on("error", () => {});
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("close", () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closed: () => closed,
    untilClosed: (ms = 2000) => until(() => closed, ms).then(() => true, () => false),
  };
}

/** A relay as pier-relay behaves: hello first, then the opens Pier asks of it. */
async function fakeRelay(path: string, hello = "pier-relay 1") {
  const connection = await dialIn(path);
  connection.socket.write(frame(HELLO, text(hello)));
  return {
    ...connection,
    /** The opens asked so far: id and port. */
    opens(): Array<{ id: Uint8Array; port: number }> {
      const bytes = connection.received();
      const found: Array<{ id: Uint8Array; port: number }> = [];
      for (let at = 0; at + 5 <= bytes.length; ) {
        const length = bytes.readUInt32BE(at + 1);
        if (bytes[at] === 0x43 && at + 5 + length <= bytes.length) found.push({ id: bytes.subarray(at + 5, at + 5 + ID_BYTES), port: bytes.readUInt16BE(at + 5 + ID_BYTES) });
        at += 5 + length;
      }
      return found;
    },
    async nextOpen(count = 1) {
      await until(() => this.opens().length >= count, 2000);
      return this.opens()[count - 1]!;
    },
    fail(id: Uint8Array, reason: string) {
      connection.socket.write(frame(FAILED, Buffer.concat([id, text(reason)])));
    },
  };
}

function failure(promise: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  return promise.then(
    () => {
      throw new Error("it did not fail");
    },
    (error) => error,
  );
}

describe("opens", () => {
  test("a data connection carrying the open's id becomes the stream, with its first bytes, both ways, half-closed", async () => {
    const { hub, paths } = await twoPods();
    const relay = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    const dialled = hub.open(ALICE, 3000);
    const open = await relay.nextOpen();
    expect(open.port).toBe(3000);
    const data = await dialIn(paths.alice);
    // The app's first bytes in the same write as the id: they must reach the reader, first.
    data.socket.write(Buffer.concat([frame(DATA, open.id), text("greeting ")]));
    const stream = await dialled;
    const read: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => read.push(chunk));
    const ended = new Promise((resolve) => stream.on("end", resolve));
    stream.resume();
    data.socket.end("and the rest");
    await ended;
    expect(Buffer.concat(read).toString()).toBe("greeting and the rest");
    // The app's side has ended; Pier's side can still send.
    stream.end("from Pier");
    await data.untilClosed();
    expect(data.received().toString()).toBe("from Pier");
    // Counted for /metrics: the id, then both ways.
    expect(hub.traffic()).toEqual({ connections: 0, bytes: 21 + "greeting and the rest".length + "from Pier".length });
  });

  test("an open the relay could not make says why, with the right code", async () => {
    const { hub, paths } = await twoPods();
    const relay = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    const cases: Array<[string, number, string]> = [
      ["refused", 502, "port_not_listening"],
      ["busy", 503, "relay_busy"],
      ["timeout", 504, "port_timeout"],
      ["unreachable Address not available", 502, "port_unreachable"],
    ];
    for (const [index, [reason, status, code]] of cases.entries()) {
      const dialled = failure(hub.open(ALICE, 4000 + index));
      relay.fail((await relay.nextOpen(index + 1)).id, reason);
      expect(await dialled).toMatchObject({ status, code });
    }
    expect((await failure(hub.open(BOB, 3000))).code).toBe("relay_unavailable");
  });

  test("an open Pier asked of Bob's relay cannot be answered from Alice's pod, and Bob's relay still answers it", async () => {
    const { hub, paths } = await twoPods();
    const bob = await fakeRelay(paths.bob);
    await fakeRelay(paths.alice);
    await hub.whenConnected(BOB, 2000);
    let settled = false;
    const dialled = hub.open(BOB, 3000).finally(() => (settled = true));
    const open = await bob.nextOpen();
    // Alice's pod somehow has the id: her socket is not Bob's, so the connection is refused.
    const fromAlice = await dialIn(paths.alice);
    fromAlice.socket.write(frame(DATA, open.id));
    expect(await fromAlice.untilClosed()).toBe(true);
    expect(settled).toBe(false);
    const fromBob = await dialIn(paths.bob);
    fromBob.socket.write(frame(DATA, open.id));
    const stream = await dialled;
    stream.end("to bob");
    await Bun.sleep(50);
    expect(fromBob.received().toString()).toBe("to bob");
  });

  test("an id is taken once: a second data connection with it, or one with an id nobody asked for, is closed", async () => {
    const { hub, paths } = await twoPods();
    const relay = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    const dialled = hub.open(ALICE, 3000);
    const open = await relay.nextOpen();
    const first = await dialIn(paths.alice);
    first.socket.write(frame(DATA, open.id));
    await dialled;
    const again = await dialIn(paths.alice);
    again.socket.write(frame(DATA, open.id));
    expect(await again.untilClosed()).toBe(true);
    const made = await dialIn(paths.alice);
    made.socket.write(frame(DATA, new Uint8Array(ID_BYTES).fill(7)));
    expect(await made.untilClosed()).toBe(true);
    expect(first.closed()).toBe(false);
  });

  test("at most 32 opens wait for a relay at once, and 128 connections are open or opening", async () => {
    const { hub, paths } = await twoPods();
    const relay = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    const waiting = Array.from({ length: 32 }, (_, i) => hub.open(ALICE, 3000 + i).catch((error) => error));
    expect(await failure(hub.open(ALICE, 5000))).toMatchObject({ status: 503, code: "relay_busy" });
    await relay.nextOpen(32);
    for (const open of relay.opens()) (await dialIn(paths.alice)).socket.write(frame(DATA, open.id));
    await Promise.all(waiting);
    for (let i = 32; i < 128; i++) {
      const dialled = hub.open(ALICE, 3000);
      const open = await relay.nextOpen(i + 1);
      (await dialIn(paths.alice)).socket.write(frame(DATA, open.id));
      await dialled;
    }
    expect(hub.traffic().connections).toBe(128);
    expect(await failure(hub.open(ALICE, 3000))).toMatchObject({ status: 503, code: "relay_busy" });
  }, 20_000);

  test("when the relay goes, the opens it had not answered fail at once as relay_unavailable", async () => {
    const { hub, paths } = await twoPods();
    const relay = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    const dialled = failure(hub.open(ALICE, 3000));
    await relay.nextOpen();
    relay.socket.destroy();
    expect(await dialled).toMatchObject({ status: 503, code: "relay_unavailable" });
    expect(hub.connected(ALICE)).toBe(false);
  });
});

describe("the listening ports", () => {
  test("each list is told to listeners, and null when the relay goes", async () => {
    const { hub, paths } = await twoPods();
    const told: Array<[string, unknown]> = [];
    hub.onPorts((key, ports) => told.push([key.userId, ports]));
    const relay = await fakeRelay(paths.alice);
    relay.socket.write(frame(LIST, text("3000\t127.0.0.1\t42\tsess1\tbun\n")));
    await until(() => hub.ports(ALICE) !== null, 2000);
    expect(hub.ports(ALICE)).toEqual([{ port: 3000, address: "127.0.0.1", pid: 42, sessionId: "sess1", name: "bun" }]);
    expect(hub.ports(BOB)).toBeNull();
    relay.socket.destroy();
    await until(() => told.length === 2, 2000);
    expect(told).toEqual([
      ["alice", [{ port: 3000, address: "127.0.0.1", pid: 42, sessionId: "sess1", name: "bun" }]],
      ["alice", null],
    ]);
  });
});

describe("what a pod can throw at its relay socket", () => {
  test.each([
    ["an HTTP request", text("GET / HTTP/1.1\r\nHost: pier\r\n\r\n")],
    ["a hello that is not a relay's", frame(HELLO, text("pier-pty 1"))],
    ["a hello longer than 64 bytes", frame(HELLO, text(`pier-relay 1${" ".repeat(60)}`))],
    ["a list before any hello", frame(LIST, text(""))],
  ])("%s first: closed, and the relay already connected carries on", async (_, bytes) => {
    const { hub, paths } = await twoPods();
    const relay = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    const intruder = await dialIn(paths.alice);
    intruder.socket.write(bytes);
    expect(await intruder.untilClosed()).toBe(true);
    expect(relay.closed()).toBe(false);
    expect(hub.connected(ALICE)).toBe(true);
  });

  test.each([
    ["a list announcing more than 64 KiB", Uint8Array.from([LIST, 0, 1, 0, 1])],
    ["a list that does not parse", frame(LIST, text("3000\tlocalhost\t\t\t\n"))],
    ["an unknown frame", frame(0x5a, text("zz"))],
    ["a data frame on the control connection", frame(DATA, new Uint8Array(ID_BYTES))],
  ])("%s from the connected relay: its connection is closed and the pod has no relay until one says hello again", async (_, bytes) => {
    const { hub, paths } = await twoPods();
    const relay = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    relay.socket.write(bytes);
    expect(await relay.untilClosed()).toBe(true);
    expect(hub.connected(ALICE)).toBe(false);
    await fakeRelay(paths.alice);
    expect(await hub.whenConnected(ALICE, 2000)).toBe(true);
  });

  test("a second relay, or one of another version, is told to exit (X) and the first keeps the pod", async () => {
    const { hub, paths } = await twoPods();
    const first = await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    for (const hello of ["pier-relay 1", "pier-relay 2"]) {
      const other = await fakeRelay(paths.alice, hello);
      expect(await other.untilClosed()).toBe(true);
      expect([...other.received()]).toEqual([0x58, 0, 0, 0, 0]);
    }
    const old = await fakeRelay(paths.bob, "pier-relay 2");
    expect(await old.untilClosed()).toBe(true);
    expect([...old.received()]).toEqual([0x58, 0, 0, 0, 0]);
    expect(hub.connected(BOB)).toBe(false);
    expect(first.closed()).toBe(false);
    expect(hub.connected(ALICE)).toBe(true);
  });

  test("a connection that says nothing is closed after 5 s", async () => {
    const { paths } = await twoPods();
    const silent = await dialIn(paths.alice);
    await Bun.sleep(4000);
    expect(silent.closed()).toBe(false);
    expect(await silent.untilClosed(3000)).toBe(true);
  }, 15_000);

  test("past 129 open connections a pod's next one is closed at once; Bob's pod is not counted with Alice's", async () => {
    const { hub, paths } = await twoPods();
    await fakeRelay(paths.alice);
    await hub.whenConnected(ALICE, 2000);
    const held = [];
    for (let i = 0; i < 128; i++) held.push(await dialIn(paths.alice));
    const extra = await dialIn(paths.alice);
    expect(await extra.untilClosed()).toBe(true);
    expect(held.some((connection) => connection.closed())).toBe(false);
    await fakeRelay(paths.bob);
    expect(await hub.whenConnected(BOB, 2000)).toBe(true);
  }, 20_000);
});
