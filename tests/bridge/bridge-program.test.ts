/**
 * pier-bridge (src/bridge/pier-bridge.c) on this machine with Pier's end of it (BridgeLink), the
 * bridge built the way Pier builds it and once more with AddressSanitizer and UBSan (a read or
 * write past a buffer ends it), started as Pier starts it (a runtime's spawn: its stdio is the
 * stream). Pier's sockets here are plain servers standing in for the services socket (an echo),
 * the holders' (a flood) and the relay's. It carries bytes exactly both ways with half-closes
 * passed on, a flood nobody reads holds back only its own stream (and waits at its source, not in
 * Pier's memory), past MAX_STREAMS a connection is refused at once, and it exits when its stdin
 * closes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { type Server, type Socket, createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BridgeBuild } from "../../src/bridge/bridge-build.ts";
import { BridgeLink } from "../../src/bridge/bridge-link.ts";
import { MAX_STREAMS, type StreamName } from "../../src/bridge/bridge-wire.ts";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";

const SOURCE = join(import.meta.dir, "..", "..", "src", "bridge", "pier-bridge.c");
const work = mkdtempSync(join(tmpdir(), "pier-bridge-program-"));
const reports = join(work, "reports");
const pierDir = join(work, "pier");
const FLOOD = 16 * 1024 * 1024;
const flood = randomBytes(FLOOD);
let sanitized: string;
let servers: Server[] = [];
/** The connections Pier's stand-in sockets have open now. */
const open = new Set<Socket>();
/** The flood's server side, to see where its bytes wait. */
let floodSource: Socket | null = null;

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function serve(name: StreamName, handler: (socket: Socket) => void): Promise<void> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    socket.on("error", () => {});
    handler(socket);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(join(pierDir, `${name}.sock`), resolve));
}

async function startBridge(dir: string): Promise<{ link: BridgeLink; refusals: string[] }> {
  const runtime = new LocalRuntime();
  const process = await runtime.spawn({ id: "local", image: "" }, [sanitized, "serve", dir], { cwd: "/", env: { ASAN_OPTIONS: `log_path=${reports}/asan:detect_leaks=0` } });
  const refusals: string[] = [];
  const link = new BridgeLink(process, { socketOf: (name) => join(pierDir, `${name}.sock`), refused: (why) => refusals.push(why) });
  expect(await link.hello).toBe(true);
  return { link, refusals };
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path, allowHalfOpen: true }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the socket sends until its end. */
function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    socket.once("end", () => resolve(Buffer.concat(chunks)));
    socket.once("error", reject);
  });
}

/** One round trip through the echo: `bytes` sent, the same come back. */
async function echoes(socket: Socket, bytes: Uint8Array): Promise<boolean> {
  const back: Buffer[] = [];
  let got = 0;
  const done = new Promise<void>((resolve) => {
    const take = (chunk: Buffer) => {
      back.push(chunk);
      got += chunk.length;
      if (got >= bytes.length) {
        socket.off("data", take);
        resolve();
      }
    };
    socket.on("data", take);
  });
  socket.write(bytes);
  await done;
  return Buffer.concat(back).equals(Buffer.from(bytes));
}

beforeAll(async () => {
  const built = await new BridgeBuild({ toolsDir: join(work, "tools") }).binary();
  expect(built).toBeTruthy();
  expect(Bun.spawnSync([built!, "version"]).stdout.toString()).toBe("pier-bridge 1\n");
  sanitized = join(work, "pier-bridge-sanitized");
  const compile = Bun.spawnSync(["gcc", "-g", "-O1", "-fsanitize=address,undefined", "-fsanitize-undefined-trap-on-error", "-o", sanitized, SOURCE], { stderr: "pipe" });
  expect(compile.exitCode, compile.stderr.toString()).toBe(0);
  mkdirSync(reports);
  mkdirSync(pierDir);
  await serve("services", (socket) => socket.pipe(socket));
  await serve("relay", (socket) => socket.pipe(socket));
  await serve("holder", (socket) => {
    floodSource = socket;
    socket.end(flood);
  });
}, 120_000);

afterAll(() => {
  for (const server of servers) server.close();
  servers = [];
  rmSync(work, { recursive: true, force: true });
});

describe("pier-bridge and Pier's end of it", () => {
  test("makes its directory and sockets for every user, carries 8 MB exactly each way with the half-close passed on, and exits when its stdin closes", async () => {
    const dir = join(work, "pod-carry");
    const { link, refusals } = await startBridge(dir);
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o755);
      for (const name of ["services", "holder", "relay"]) expect(statSync(join(dir, `${name}.sock`)).mode & 0o777).toBe(0o666);
      const sent = randomBytes(8 * 1024 * 1024);
      const socket = await connect(join(dir, "services.sock"));
      const back = readAll(socket);
      socket.end(sent);
      expect(sha(await back)).toBe(sha(sent));
      const relay = await connect(join(dir, "relay.sock"));
      expect(await echoes(relay, Buffer.from("through the relay's socket"))).toBe(true);
      relay.destroy();
      for (let tries = 0; tries < 100 && link.open > 0; tries++) await Bun.sleep(20);
      expect(link.open).toBe(0);
      expect(refusals).toEqual([]);
    } finally {
      link.close();
    }
    await link.exited;
    expect(link.alive).toBe(false);
    expect(readdirSync("/proc").some((pid) => /^\d+$/.test(pid) && cmdline(pid).includes(dir))).toBe(false);
    expect(sanitizerReports()).toEqual([]);
  }, 60_000);

  test("a 16 MB flood nobody reads waits at its source, not in Pier or the bridge, while another stream echoes; read later, it arrives exactly", async () => {
    const dir = join(work, "pod-flood");
    const { link, refusals } = await startBridge(dir);
    try {
      const reader = await connect(join(dir, "holder.sock"));
      reader.pause();
      const echo = await connect(join(dir, "services.sock"));
      for (let i = 0; i < 200; i++) expect(await echoes(echo, randomBytes(1 + (i % 300)))).toBe(true);
      // What left the source is bounded by the window and the kernels' socket buffers (a few hundred KiB each), nowhere near all of it.
      for (let tries = 0; tries < 100 && !floodSource; tries++) await Bun.sleep(20);
      expect(floodSource!.writableLength).toBeGreaterThan(FLOOD - 4 * 1024 * 1024);
      const got = readAll(reader);
      reader.resume();
      expect(sha(await got)).toBe(sha(flood));
      echo.destroy();
      reader.destroy();
      expect(refusals).toEqual([]);
    } finally {
      link.close();
      floodSource = null;
    }
    await link.exited;
    expect(sanitizerReports()).toEqual([]);
  }, 60_000);

  test(`past ${MAX_STREAMS} open streams a connection is closed at once; once one ends, the next is carried`, async () => {
    const dir = join(work, "pod-many");
    const { link, refusals } = await startBridge(dir);
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < MAX_STREAMS; i++) {
        const socket = await connect(join(dir, "services.sock"));
        sockets.push(socket);
        expect(await echoes(socket, Buffer.from(`stream ${i}`))).toBe(true);
      }
      expect(link.open).toBe(MAX_STREAMS);
      expect(await carried(join(dir, "services.sock"))).toBe(false);
      sockets.shift()!.destroy();
      let again = false;
      for (let tries = 0; tries < 100 && !again; tries++) {
        again = await carried(join(dir, "services.sock"));
        if (!again) await Bun.sleep(20);
      }
      expect(again).toBe(true);
      expect(refusals).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      link.close();
    }
    await link.exited;
    for (let tries = 0; tries < 100 && open.size > 0; tries++) await Bun.sleep(20);
    expect(open.size).toBe(0);
    expect(sanitizerReports()).toEqual([]);
  }, 60_000);
});

/** Whether a new connection is carried (its bytes echo), rather than closed at once (as it connects, or just after). */
function carried(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path, allowHalfOpen: true }, () => socket.write("again"));
    socket.once("data", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("end", () => resolve(false));
    socket.once("error", () => resolve(false));
  });
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1");
  } catch {
    return "";
  }
}

function sanitizerReports(): string[] {
  return existsSync(reports) ? readdirSync(reports).map((name) => readFileSync(join(reports, name), "utf8")) : [];
}
