/**
 * Pier's end of the terminal holders' socket (HolderHub), spoken to over a real Unix socket the way
 * a holder, or anything else in a pod, could: hellos it must refuse, frames that are not frames,
 * output cut at every byte, and a holder that connects before its terminal asks for it.
 */
import { afterAll, afterEach, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { FrameParser, HolderHub, type HolderStream } from "../../src/terminal/holder/holder-stream.ts";

const dir = mkdtempSync(join(tmpdir(), "pier-holder-hub-"));
const KEY = { repoId: "repo1", userId: "user1" };
const LIVE = new Set(["sessiona", "sessionb", "sessionc"]);
const hubs: HolderHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.closeAll();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frame(type: string, payload: string | Uint8Array = ""): Uint8Array {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
}

function hub(name: string): { hub: HolderHub; path: string } {
  const path = join(dir, `${name}.sock`);
  const made = new HolderHub((key, sessionId) => key.repoId === KEY.repoId && key.userId === KEY.userId && LIVE.has(sessionId));
  made.listen(KEY, path);
  hubs.push(made);
  return { hub: made, path };
}

/** A client of the hub's socket: what it received, and whether the hub closed it. */
async function client(path: string) {
  const received: Uint8Array[] = [];
  let closed = false;
  const socket: Socket<undefined> = await Bun.connect({
    unix: path,
    socket: {
      data: (_s, chunk) => void received.push(new Uint8Array(chunk)),
      close: () => void (closed = true),
    },
  });
  return {
    socket,
    received: () => new TextDecoder().decode(Buffer.concat(received)),
    closed: () => closed,
    async untilClosed(ms = 2000) {
      const deadline = Date.now() + ms;
      while (!closed && Date.now() < deadline) await Bun.sleep(10);
      return closed;
    },
  };
}

describe("the holders' socket", () => {
  test("is a socket anyone in the pod can connect to (the pod mounts only its own directory)", () => {
    const { path } = hub("mode");
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o666);
  });

  test("hands a holder's output to its session's terminal, cut at every byte", async () => {
    const { hub: h, path } = hub("cuts");
    const got: Uint8Array[] = [];
    let stream: HolderStream | null = null;
    h.claim("sessiona", (s) => {
      stream = s;
      s.onOutput((bytes) => got.push(bytes.slice()));
    });
    const c = await client(path);
    const text = "first line\r\n\x1b[31mred\x1b[0m and more";
    const wire = Buffer.concat([frame("H", "sessiona"), frame("O", text.slice(0, 11)), frame("O", text.slice(11))]);
    for (let i = 0; i < wire.length; i++) {
      c.socket.write(wire.subarray(i, i + 1));
      c.socket.flush();
      await Bun.sleep(1);
    }
    const deadline = Date.now() + 2000;
    while (new TextDecoder().decode(Buffer.concat(got)) !== text && Date.now() < deadline) await Bun.sleep(10);
    expect(new TextDecoder().decode(Buffer.concat(got))).toBe(text);
    expect(stream).not.toBeNull();
    c.socket.end();
  });

  test("a sync is asked with S and answered by the holder's Y after the output before it", async () => {
    const { hub: h, path } = hub("sync");
    const streams: HolderStream[] = [];
    h.claim("sessionb", (s) => streams.push(s));
    const c = await client(path);
    c.socket.write(frame("H", "sessionb"));
    while (streams.length === 0) await Bun.sleep(5);
    const seen: string[] = [];
    streams[0]!.onOutput((bytes) => seen.push(new TextDecoder().decode(bytes)));
    const synced = streams[0]!.sync();
    while (!c.received().includes("S")) await Bun.sleep(5);
    c.socket.write(Buffer.concat([frame("O", "before"), frame("Y")]));
    expect(await synced).toBe(true);
    expect(seen.join("")).toBe("before");
    streams[0]!.resume();
    while (!c.received().includes("G")) await Bun.sleep(5);
    c.socket.end();
  });

  test("a size frame says the shell's terminal size, and a wait for a size ends when it is told", async () => {
    const { hub: h, path } = hub("size");
    const streams: HolderStream[] = [];
    h.claim("sessionc", (s) => streams.push(s));
    const c = await client(path);
    const size = (cols: number, rows: number) => frame("W", new Uint8Array([cols >> 8, cols & 255, rows >> 8, rows & 255]));
    c.socket.write(frame("H", "sessionc"));
    while (streams.length === 0) await Bun.sleep(5);
    const stream = streams[0]!;
    // A holder that has told no size yet is taken for one that never tells it.
    expect(stream.tellsSize).toBe(false);
    c.socket.write(size(120, 32));
    const wide = stream.shellHasSize(() => ({ cols: 300, rows: 80 }), 5_000);
    await Bun.sleep(50);
    expect(stream.tellsSize).toBe(true);
    c.socket.write(size(300, 80));
    expect(await wide).toBe(true);
    expect(await stream.shellHasSize(() => ({ cols: 10, rows: 5 }), 100)).toBe(false);
    c.socket.end();
  });

  test("a holder that connects before its terminal asks is kept for it", async () => {
    const { hub: h, path } = hub("early");
    const c = await client(path);
    c.socket.write(Buffer.concat([frame("H", "sessiona"), frame("O", "early bytes")]));
    await Bun.sleep(100);
    const got: string[] = [];
    h.claim("sessiona", (s) => s.onOutput((bytes) => got.push(new TextDecoder().decode(bytes))));
    c.socket.write(frame("O", " and late ones"));
    const deadline = Date.now() + 2000;
    while (!got.join("").includes("late") && Date.now() < deadline) await Bun.sleep(10);
    // What came before the claim waited for the terminal, and comes first.
    expect(got.join("")).toBe("early bytes and late ones");
    c.socket.end();
  });

  const refusals: Array<[string, Uint8Array]> = [
    ["a hello for a session that is not live (or not this pod's person's)", frame("H", "othersession")],
    ["a hello whose session id is not an id", frame("H", "../../etc")],
    ["output before any hello", frame("O", "hijack")],
    ["a frame longer than a holder ever sends", Buffer.from([0x48, 0x7f, 0xff, 0xff, 0xff])],
    ["a hello announcing more than a session id, before any of it", Buffer.from([0x48, 0x00, 0x00, 0x00, 0x41])],
    ["a 1 MiB output frame's header before any hello", Buffer.from([0x4f, 0x00, 0x10, 0x00, 0x00])],
    ["output announcing more than the holder's 64 KiB pieces", Buffer.concat([frame("H", "sessiona"), Buffer.from([0x4f, 0x00, 0x01, 0x00, 0x01])])],
    ["an answer to a sync that carries a payload", Buffer.concat([frame("H", "sessiona"), frame("Y", "x")])],
    ["a second hello", Buffer.concat([frame("H", "sessiona"), frame("H", "sessionb")])],
    ["an HTTP request", new TextEncoder().encode("GET / HTTP/1.1\r\nHost: pier\r\n\r\n")],
    ["an unknown frame after a good hello", Buffer.concat([frame("H", "sessiona"), frame("Z", "what")])],
    ["a size frame of the wrong length", Buffer.concat([frame("H", "sessiona"), frame("W", "toolong")])],
  ];
  for (const [what, bytes] of refusals) {
    test(`closes the connection on ${what}, and nothing reaches a terminal`, async () => {
      const { hub: h, path } = hub(`refuse-${refusals.findIndex(([w]) => w === what)}`);
      const got: string[] = [];
      h.claim("sessiona", (s) => s.onOutput((b) => got.push(new TextDecoder().decode(b))));
      h.claim("othersession", (s) => s.onOutput((b) => got.push(new TextDecoder().decode(b))));
      const c = await client(path);
      c.socket.write(bytes);
      expect(await c.untilClosed()).toBe(true);
      expect(got.join("")).toBe("");
      // The hub still serves the next holder.
      const next = await client(path);
      const taken: HolderStream[] = [];
      h.claim("sessionb", (s) => taken.push(s));
      next.socket.write(frame("H", "sessionb"));
      const deadline = Date.now() + 2000;
      while (taken.length === 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(taken.length).toBe(1);
      next.socket.end();
    });
  }
});

describe("the holders' socket, bounded", () => {
  test("a connection that says no hello within 5 s is closed; a holder that said it is not", async () => {
    const { hub: h, path } = hub("hello-deadline");
    const taken: HolderStream[] = [];
    h.claim("sessiona", (s) => taken.push(s));
    const silent = await client(path);
    const holder = await client(path);
    holder.socket.write(frame("H", "sessiona"));
    expect(await silent.untilClosed(10_000)).toBe(true);
    await Bun.sleep(500);
    expect(holder.closed()).toBe(false);
    expect(taken[0]!.alive).toBe(true);
    holder.socket.end();
  }, 15_000);

  test("a pod gets 128 connections at once, the rest are closed at once and said once in the log; a holder gets in as soon as some go", async () => {
    const { hub: h, path } = hub("cap");
    const logged = spyOn(console, "error").mockImplementation(() => {});
    try {
      const clients = [];
      for (let i = 0; i < 200; i++) clients.push(await client(path));
      await Bun.sleep(200);
      const open = clients.filter((c) => !c.closed());
      expect(open.length).toBe(128);
      // The first ones are the ones kept.
      expect(clients.slice(0, 128).every((c) => !c.closed())).toBe(true);
      expect(logged.mock.calls.length).toBe(1);
      expect(String(logged.mock.calls[0]![0])).toContain("repo1/user1 closed a connection: the pod already has 128 open");

      for (const c of open.slice(0, 10)) c.socket.end();
      await Bun.sleep(100);
      const taken: HolderStream[] = [];
      h.claim("sessionb", (s) => taken.push(s));
      const holder = await client(path);
      holder.socket.write(frame("H", "sessionb"));
      const deadline = Date.now() + 2000;
      while (taken.length === 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(taken.length).toBe(1);
      expect(logged.mock.calls.length).toBe(1);
      for (const c of [...open, holder]) c.socket.end();
    } finally {
      logged.mockRestore();
    }
  });
});

describe("FrameParser", () => {
  test("gives the same frames however the stream is cut", () => {
    const frames = [frame("H", "s1"), frame("O", "a".repeat(70_000)), frame("Y"), frame("O", "tail")];
    const wire = Buffer.concat(frames);
    const expected = [
      ["H", "s1"],
      ["O", "a".repeat(70_000)],
      ["Y", ""],
      ["O", "tail"],
    ];
    for (const cut of [1, 2, 3, 4, 5, 6, 7, 4096, 65_536, 70_004, wire.length]) {
      const parser = new FrameParser(() => 100_000);
      const seen: Array<[string, string]> = [];
      for (let at = 0; at < wire.length; at += cut) {
        const ok = parser.push(wire.subarray(at, at + cut), (type, payload) => {
          seen.push([String.fromCharCode(type), new TextDecoder().decode(payload)]);
          return true;
        });
        expect(ok).toBe(true);
      }
      expect(seen).toEqual(expected as Array<[string, string]>);
    }
  });

  test("refuses a length over its type's longest as soon as the header is in, before any of the payload", () => {
    const longest = (type: number) => (type === 0x4f ? 10 : undefined);
    expect(new FrameParser(longest).push(Buffer.from([0x4f, 0x00, 0x00, 0x00, 0x0a]), () => true)).toBe(true);
    expect(new FrameParser(longest).push(Buffer.from([0x4f, 0x00, 0x00, 0x00, 0x0b]), () => true)).toBe(false);
    // The header cut in two: refused at its last byte.
    const cut = new FrameParser(longest);
    expect(cut.push(Buffer.from([0x4f, 0x00, 0x10]), () => true)).toBe(true);
    expect(cut.push(Buffer.from([0x00, 0x00]), () => true)).toBe(false);
  });

  test("refuses a type it is not told of, whatever its length", () => {
    expect(new FrameParser(() => undefined).push(Buffer.from([0x5a, 0x00, 0x00, 0x00, 0x00]), () => true)).toBe(false);
  });
});
