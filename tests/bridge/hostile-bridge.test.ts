/**
 * Pier's end of a bridge (BridgeLink) against a process that is not a real bridge: whatever runs
 * in a pod as root could stand in for it. Started as Pier starts a bridge (a runtime's spawn), it
 * writes a crafted stream of frames: none of them may make Pier allocate what a header announces,
 * open more than MAX_STREAMS connections to its sockets, connect to a socket it does not have, or
 * take more than a window of a stream. Each is refused with a reason, the process's stdin closed,
 * every connection it had made to Pier's sockets closed, and Pier's sockets go on serving.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type Server, type Socket, createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BridgeLink } from "../../src/bridge/bridge-link.ts";
import { DATA, MAX_STREAMS, OPEN, STREAM_NAMES, VERSION_LINE, WINDOW, streamFrame } from "../../src/bridge/bridge-wire.ts";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";

const work = mkdtempSync(join(tmpdir(), "pier-hostile-bridge-"));
const pierDir = join(work, "pier");
const servers: Server[] = [];
/** Connections Pier's stand-in sockets have open now, and have had in all. */
const open = new Set<Socket>();
let accepted = 0;

/** A stand-in for a pod's process: writes the file's bytes to its stdout, then waits for its stdin to close. */
const PEER = `
process.stdout.write(require("node:fs").readFileSync(process.argv.at(-1)));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

function frame(type: number, payload: Uint8Array): Buffer {
  const bytes = Buffer.alloc(5 + payload.length);
  bytes[0] = type;
  bytes.writeUInt32BE(payload.length, 1);
  bytes.set(payload, 5);
  return bytes;
}
const hello = frame(0x48, Buffer.from(VERSION_LINE));
const opening = (id: number, name: string) => Buffer.from(streamFrame(OPEN, id, Buffer.from(name)));

let peers = 0;
async function peer(bytes: Buffer): Promise<{ refusals: string[]; link: BridgeLink }> {
  const said = join(work, `peer-${++peers}`);
  writeFileSync(said, bytes);
  const process = await new LocalRuntime().spawn({ id: "local", image: "" }, ["bun", "-e", PEER, said], { cwd: "/" });
  const refusals: string[] = [];
  const link = new BridgeLink(process, { socketOf: (name) => join(pierDir, `${name}.sock`), refused: (why) => refusals.push(why) });
  // The process exits once Pier has closed its stdin: that it exits says Pier ended it.
  await Promise.race([link.exited, Bun.sleep(15_000)]);
  return { refusals, link };
}

async function noneOpen(): Promise<number> {
  for (let tries = 0; tries < 100 && open.size > 0; tries++) await Bun.sleep(20);
  return open.size;
}

beforeAll(async () => {
  mkdirSync(pierDir);
  for (const name of STREAM_NAMES) {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      accepted++;
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => {});
      socket.pipe(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(join(pierDir, `${name}.sock`), resolve));
  }
});

afterAll(() => {
  for (const server of servers) server.close();
  rmSync(work, { recursive: true, force: true });
});

describe("a hostile bridge", () => {
  test("one that does not start with a bridge's hello is ended before any frame of it is taken", async () => {
    const { refusals, link } = await peer(Buffer.concat([frame(0x48, Buffer.from("pier-bridge 9")), opening(1, "services")]));
    expect(refusals).toEqual(["it did not start with a bridge's hello"]);
    expect(link.alive).toBe(false);
    expect(accepted).toBe(0);
  }, 30_000);

  test("a header announcing 4 GiB is refused from the header alone", async () => {
    const huge = Buffer.from([DATA, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
    const { refusals } = await peer(Buffer.concat([hello, opening(1, "services"), huge]));
    expect(refusals).toEqual(["it sent something that is not a bridge's frame"]);
    expect(await noneOpen()).toBe(0);
  }, 30_000);

  test("a stream on a socket Pier does not have, an id used again, or data on an id never opened ends it", async () => {
    expect((await peer(Buffer.concat([hello, opening(1, "../pier.db")]))).refusals).toEqual(["it opened a stream on a socket Pier does not have"]);
    expect((await peer(Buffer.concat([hello, opening(5, "services"), opening(5, "holder")]))).refusals).toEqual(["it opened stream 5 again"]);
    expect((await peer(Buffer.concat([hello, Buffer.from(streamFrame(DATA, 7, Buffer.from("x")))]))).refusals).toEqual(["it sent something that is not a bridge's frame"]);
    expect(await noneOpen()).toBe(0);
  }, 30_000);

  test(`more than ${MAX_STREAMS} streams at once ends it, with no more than ${MAX_STREAMS} connections made to Pier's sockets, all closed`, async () => {
    const before = accepted;
    const opens = Array.from({ length: MAX_STREAMS + 50 }, (_, i) => opening(i + 1, STREAM_NAMES[i % 3]!));
    const { refusals } = await peer(Buffer.concat([hello, ...opens]));
    expect(refusals).toEqual([`it opened more than ${MAX_STREAMS} streams`]);
    expect(accepted - before).toBeLessThanOrEqual(MAX_STREAMS);
    expect(await noneOpen()).toBe(0);
  }, 30_000);

  test("data past a stream's window ends it: Pier never holds more than a window of a stream", async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const frames = Array.from({ length: WINDOW / chunk.length + 1 }, () => Buffer.from(streamFrame(DATA, 1, chunk)));
    const { refusals } = await peer(Buffer.concat([hello, opening(1, "services"), ...frames]));
    expect(refusals).toEqual(["it sent past a stream's window"]);
    expect(await noneOpen()).toBe(0);
  }, 30_000);

  test("after all that, Pier's sockets still serve", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ path: join(pierDir, "services.sock") }, () => socket.write("still here"));
      socket.once("data", (chunk: Buffer) => {
        socket.destroy();
        resolve(chunk.toString());
      });
      socket.once("error", reject);
    });
    expect(answer).toBe("still here");
  });
});
