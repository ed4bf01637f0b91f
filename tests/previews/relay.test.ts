/**
 * Previews' way into a pod, on real Docker pods with network `none`: Pier's relay (pier-relay.c)
 * is started as the pod comes up, says which ports listen there (and which session's process
 * holds each), and carries TCP connections to them byte for byte, both ways, half-closes
 * included. A port nothing listens on says so; Bob's pod has its own relay, which cannot reach
 * Alice's servers; a pod's connections are bounded; a relay killed in the pod is started again
 * by the next dial; a restarted Pier gets the same relay back without starting another.
 *
 * The servers in the pod are Bun scripts (the test image has Bun, not Node or Python), started
 * with the session's PIER_SESSION_ID as its terminal would give them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createCipheriv, createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RelayPort } from "../../src/previews/relay-wire.ts";
import type { Relays } from "../../src/previews/relays.ts";
import type { PodKey } from "../../src/runtime/runtime.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const SIZE = 20 * 1024 * 1024;
/** The same 20 MB the download server in the pod makes: an AES-CTR keystream, so no run of it repeats. */
const PATTERN = createCipheriv("aes-128-ctr", Buffer.alloc(16, 1), Buffer.alloc(16, 2)).update(Buffer.alloc(SIZE));
const ECHO = 4001;
/** Listens on Bun's default address, `::`: in a pod without IPv6 only 127.0.0.1 reaches it. */
const HASH = 4002;
const DOWNLOAD = 4003;
const SERVERS = `
const net = require("net"), crypto = require("crypto");
const pattern = crypto.createCipheriv("aes-128-ctr", Buffer.alloc(16, 1), Buffer.alloc(16, 2)).update(Buffer.alloc(${SIZE}));
net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(${ECHO}, "127.0.0.1");
net.createServer({ allowHalfOpen: true }, (s) => {
  const hash = crypto.createHash("sha256");
  let n = 0;
  s.on("data", (d) => { hash.update(d); n += d.length; });
  s.on("end", () => s.end(n + " " + hash.digest("hex") + "\\n"));
}).listen(${HASH});
net.createServer((s) => s.end(pattern)).listen(${DOWNLOAD}, "0.0.0.0");
`;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Everything the stream carries until the app ends it. */
function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<Buffer>((resolve, reject) => {
    socket.once("end", () => resolve(Buffer.concat(chunks)));
    socket.once("error", reject);
  });
  socket.resume();
  return ended;
}

async function failure(promise: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { status: number; code: string; message: string };
  }
  throw new Error("it did not fail");
}

async function eventually<T>(what: string, read: () => T | Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await Bun.sleep(50);
  }
}

describe("the preview relay in real pods", () => {
  // Kept across the restart below (a test Pier removes a data dir only when it made it).
  const dataDir = mkdtempSync(join(tmpdir(), "pier-relay-"));
  let pier: TestPier;
  let repoId: string;
  let alice: SessionJson;
  let bob: SessionJson;
  const keyOf = (session: SessionJson): PodKey => ({ repoId, userId: session.userId });
  const relays = (): Relays => pier.pier.relays!;
  const inPod = (session: SessionJson, script: string, args: string[] = [], env: Record<string, string> = {}) =>
    pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script, ...args], { cwd: session.worktreePath, timeoutMs: 20_000, env });
  const relayPids = async (session: SessionJson) => (await inPod(session, "pgrep -x pier-relay || true")).stdout.trim().split("\n").filter(Boolean);

  beforeAll(async () => {
    pier = await startTestPier(await dockerTestEnv(), dataDir);
    const admin = await setUpAdmin(pier);
    await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie: admin }));
    const bobCookie = await signIn(pier, "bob", "bob password");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("relay").path}`, "relay");
    alice = await activeSession(pier, admin, { repoId });
    bob = await activeSession(pier, bobCookie, { repoId });
    expect(alice.podId).not.toBe(bob.podId);
    const started = await inPod(alice, 'setsid bun -e "$0" </dev/null >/tmp/servers.log 2>&1 & echo started', [SERVERS], { PIER_SESSION_ID: alice.id });
    expect(started.stdout).toContain("started");
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the relay starts with the pod and says, within seconds, which ports listen and which session's process holds each", async () => {
    const listed = await eventually(
      "Alice's ports",
      () => relays().ports(keyOf(alice)),
      (ports) => [ECHO, HASH, DOWNLOAD].every((port) => ports?.some((p) => p.port === port)),
    );
    const ours = listed!.filter((p) => [ECHO, HASH, DOWNLOAD].includes(p.port)).sort((a, b) => a.port - b.port);
    expect(ours.map(({ port, address }) => ({ port, address }))).toEqual([
      { port: ECHO, address: "127.0.0.1" },
      { port: HASH, address: "::" },
      { port: DOWNLOAD, address: "0.0.0.0" },
    ]);
    for (const port of ours) {
      expect(port).toMatchObject({ sessionId: alice.id, name: "bun" } satisfies Partial<RelayPort>);
      expect(port.pid).toBeGreaterThan(1);
    }
    expect(relays().ports(keyOf(bob))?.some((p) => p.port === ECHO)).toBe(false);
    expect(await relayPids(alice)).toHaveLength(1);
  }, 30_000);

  test("20 MB both ways at once through an echo server come back byte for byte", async () => {
    const stream = await relays().dial(keyOf(alice), ECHO);
    const back = readAll(stream);
    stream.end(PATTERN);
    const received = await back;
    expect(received.length).toBe(SIZE);
    expect(sha256(received)).toBe(sha256(PATTERN));
  }, 60_000);

  test("20 MB up to a server on ::, which answers only after the end of its input: the half-close reaches it", async () => {
    const stream = await relays().dial(keyOf(alice), HASH);
    const answer = readAll(stream);
    stream.end(PATTERN);
    expect((await answer).toString()).toBe(`${SIZE} ${sha256(PATTERN)}\n`);
  }, 60_000);

  test("20 MB down from a server on 0.0.0.0, byte for byte", async () => {
    const stream = await relays().dial(keyOf(alice), DOWNLOAD);
    const received = await readAll(stream);
    stream.end();
    expect(received.length).toBe(SIZE);
    expect(sha256(received)).toBe(sha256(PATTERN));
  }, 60_000);

  test("a port nothing listens on says so; a port outside 1–65535 is refused before anything is asked", async () => {
    expect(await failure(relays().dial(keyOf(alice), 4999))).toMatchObject({ status: 502, code: "port_not_listening", message: "Nothing is listening on port 4999 in your pod." });
    for (const port of [0, 65536, 1.5]) expect(await failure(relays().dial(keyOf(alice), port))).toMatchObject({ status: 400, code: "invalid_port" });
  }, 30_000);

  test("Bob's dial goes to his own pod's relay: Alice's servers are not his to reach", async () => {
    expect(await failure(relays().dial(keyOf(bob), ECHO))).toMatchObject({ code: "port_not_listening" });
    const stream = await relays().dial(keyOf(alice), ECHO);
    const back = readAll(stream);
    stream.end("still Alice's");
    expect((await back).toString()).toBe("still Alice's");
  }, 30_000);

  test("a pod has at most 128 connections open through its relay; the 129th is refused until one closes", async () => {
    const open: Socket[] = [];
    try {
      for (let i = 0; i < 128; i++) open.push(await relays().dial(keyOf(alice), ECHO));
      expect(await failure(relays().dial(keyOf(alice), ECHO))).toMatchObject({ status: 503, code: "relay_busy" });
      // Bob's pod is counted apart.
      expect(await failure(relays().dial(keyOf(bob), ECHO))).toMatchObject({ code: "port_not_listening" });
      // Every one of them still carries its own bytes.
      const echoes = open.map((stream, i) => {
        const back = readAll(stream);
        stream.end(`connection ${i}`);
        return back.then((bytes) => bytes.toString());
      });
      expect(await Promise.all(echoes)).toEqual(open.map((_, i) => `connection ${i}`));
      const again = await eventually("a dial after they closed", () => relays().dial(keyOf(alice), ECHO).then(() => "dialled", (error) => error.code), (said) => said === "dialled");
      expect(again).toBe("dialled");
    } finally {
      for (const stream of open) stream.destroy();
    }
  }, 60_000);

  test("a relay killed in the pod is started again by the next dial", async () => {
    const [before] = await relayPids(alice);
    await inPod(alice, `kill ${before}`);
    await eventually("the relay gone", () => relays().ports(keyOf(alice)), (ports) => ports === null);
    const stream = await relays().dial(keyOf(alice), ECHO);
    const back = readAll(stream);
    stream.end("after a restart of the relay");
    expect((await back).toString()).toBe("after a restart of the relay");
    const after = await relayPids(alice);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
  }, 30_000);

  test("Pier restarted on the same data dir gets the same relay back within about a second, without starting another", async () => {
    const [before] = await relayPids(alice);
    await pier.close();
    // Alice's relay now knocks every 250 ms at a socket nobody listens on.
    await Bun.sleep(1000);
    const restarting = performance.now();
    pier = await startTestPier(await dockerTestEnv(), dataDir);
    const listening = performance.now();
    await eventually("the relay back", () => relays().ports(keyOf(alice)), (ports) => ports !== null);
    console.error(`[relay] back ${Math.round(performance.now() - listening)} ms after the restarted Pier listened (${Math.round(listening - restarting)} ms to start it)`);
    expect(await relayPids(alice)).toEqual([before!]);
    const stream = await relays().dial(keyOf(alice), DOWNLOAD);
    const received = await readAll(stream);
    stream.end();
    expect(sha256(received)).toBe(sha256(PATTERN));
  }, 120_000);
});
