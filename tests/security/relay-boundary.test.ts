/**
 * The preview relay's socket attacked from inside a pod, on real Docker pods: anything in Alice's
 * pod (the repository's code, say) can connect to her relay.sock and say anything, pretend to be a
 * second relay, or open hundreds of connections. Each is closed, the pod's own relay carries on,
 * Bob's pod is not affected, and Alice's pod cannot even see Bob's socket.
 * (The same, frame by frame, against RelayHub alone: tests/unit/relay-hub.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { frame, HELLO } from "../../src/previews/relay-wire.ts";
import type { PodKey } from "../../src/runtime/runtime.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const ECHO = 4001;
const ECHO_SERVER = `require("net").createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(${ECHO}, "127.0.0.1");`;

/** In the pod: connects to $SOCK, writes $BYTES (base64), and says whether Pier closed it within 3 s and what it sent back. */
const SAY = `
const s = require("net").connect(process.env.SOCK);
let got = Buffer.alloc(0);
s.on("data", (d) => (got = Buffer.concat([got, d])));
s.on("error", () => {});
s.on("connect", () => s.write(Buffer.from(process.env.BYTES, "base64")));
s.on("close", () => { console.log("closed " + got.toString("hex")); process.exit(0); });
setTimeout(() => { console.log("still open"); process.exit(0); }, 3000);
`;

/** In the pod: opens 300 connections to $SOCK that say nothing; how many are open after 1 s, and after 7 s. */
const FLOOD = `
const net = require("net");
// A connection refused at once may close without ever saying it connected.
const open = new Set();
for (let i = 0; i < 300; i++) {
  const s = net.connect(process.env.SOCK);
  let closed = false;
  s.on("connect", () => closed || open.add(s));
  s.on("close", () => { closed = true; open.delete(s); });
  s.on("error", () => {});
}
setTimeout(() => {
  console.log("after 1 s: " + open.size);
  setTimeout(() => { console.log("after 7 s: " + open.size); process.exit(0); }, 6000);
}, 1000);
`;

describe("the relay socket, attacked from a pod", () => {
  let pier: TestPier;
  let repoId: string;
  let alice: SessionJson;
  let bob: SessionJson;
  const keyOf = (session: SessionJson): PodKey => ({ repoId, userId: session.userId });
  const socketOf = (session: SessionJson) => `${pier.dataDir}/pods/${repoId}/${session.userId}/relay.sock`;
  const inPod = (session: SessionJson, script: string, env: Record<string, string> = {}) =>
    pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bun", "-e", script], { cwd: session.worktreePath, timeoutMs: 30_000, env });
  const say = async (session: SessionJson, bytes: Uint8Array) =>
    (await inPod(session, SAY, { SOCK: socketOf(session), BYTES: Buffer.from(bytes).toString("base64") })).stdout.trim();
  const echoes = async (session: SessionJson, text: string) => {
    const stream = await pier.pier.relays!.dial(keyOf(session), ECHO);
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => stream.once("end", resolve));
    // Paused as dial hands it over: a "data" listener alone does not start it.
    stream.resume();
    stream.end(text);
    await ended;
    return Buffer.concat(chunks).toString();
  };

  beforeAll(async () => {
    pier = await startTestPier(await dockerTestEnv());
    const admin = await setUpAdmin(pier);
    await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie: admin }));
    const bobCookie = await signIn(pier, "bob", "bob password");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("relay-attack").path}`, "relay-attack");
    alice = await activeSession(pier, admin, { repoId });
    bob = await activeSession(pier, bobCookie, { repoId });
    for (const session of [alice, bob]) {
      await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", 'setsid bun -e "$0" </dev/null >/dev/null 2>&1 &', ECHO_SERVER], { cwd: "/", timeoutMs: 10_000 });
    }
    for (const session of [alice, bob]) {
      for (let tries = 0; !pier.pier.relays!.ports(keyOf(session))?.some((p) => p.port === ECHO); tries++) {
        if (tries > 200) throw new Error("the echo server did not come up");
        await Bun.sleep(50);
      }
    }
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
  }, 60_000);

  test.each([
    ["an HTTP request", new TextEncoder().encode("GET / HTTP/1.1\r\nHost: pier\r\n\r\n")],
    ["a header announcing 4 GiB", Uint8Array.from([HELLO, 0xff, 0xff, 0xff, 0xff])],
    ["a hello that is not a relay's", frame(HELLO, new TextEncoder().encode("pier-pty 1"))],
    ["a data connection naming an open nobody asked for", frame(0x44, new Uint8Array(16).fill(9))],
  ])("%s is closed at once, with nothing said back, and Alice's relay carries on", async (_, bytes) => {
    expect(await say(alice, bytes)).toBe("closed");
    expect(await echoes(alice, "alice still served")).toBe("alice still served");
  }, 30_000);

  test("a second relay in Alice's pod is told to exit, and hers keeps the pod", async () => {
    expect(await say(alice, frame(HELLO, new TextEncoder().encode("pier-relay 1")))).toBe("closed 5800000000");
    expect(await echoes(alice, "the first relay still")).toBe("the first relay still");
  }, 30_000);

  test("300 silent connections from Alice's pod: at most 128 are held beside her relay, for 5 s; Bob's pod is served meanwhile, and Alice's again after", async () => {
    const flood = inPod(alice, FLOOD, { SOCK: socketOf(alice) });
    await Bun.sleep(1500);
    expect(await echoes(bob, "bob unaffected")).toBe("bob unaffected");
    const said = (await flood).stdout;
    const held = Number(/after 1 s: (\d+)/.exec(said)?.[1]);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(128);
    expect(said).toContain("after 7 s: 0");
    expect(await echoes(alice, "alice served again")).toBe("alice served again");
  }, 60_000);

  test("Alice's pod cannot see Bob's relay socket", async () => {
    const looked = await pier.pier.runtime.exec({ id: alice.podId!, image: "" }, ["bash", "-c", `test -S ${socketOf(bob)} && echo reachable || echo unreachable`], { cwd: "/", timeoutMs: 10_000 });
    expect(looked.stdout.trim()).toBe("unreachable");
  }, 30_000);
});
