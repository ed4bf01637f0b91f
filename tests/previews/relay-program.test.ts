/**
 * pier-relay (src/previews/pier-relay.c) on this machine, built the way Pier builds it and once
 * more with AddressSanitizer and UBSan, so that any read or write past a buffer, in the byte
 * pumping or in reading /proc, ends the relay (ASan writes its report to a file; UBSan traps, as
 * its report would go to the daemon's stderr, which is /dev/null): it carries 20 MB each way through
 * its spliced pipes, carries one large answer in its splice mode (Pier's splicer), lists the ports listening here with their processes, takes a frame it does
 * not know as the end of that connection (and connects again), and exits when told.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RelayBuild } from "../../src/previews/relay-build.ts";
import { RelayHub } from "../../src/previews/relay-hub.ts";
import { Splicer } from "../../src/previews/splicer.ts";
import { frame } from "../../src/previews/relay-wire.ts";

const SOURCE = join(import.meta.dir, "..", "..", "src", "previews", "pier-relay.c");
const work = mkdtempSync(join(tmpdir(), "pier-relay-program-"));
const reports = join(work, "reports");
let sanitized: string;

/** Starts the sanitized relay on `path`; returns its pid (it runs as a daemon: found by its socket path). */
async function startRelay(path: string): Promise<number> {
  const started = Bun.spawn([sanitized, "start", path], {
    env: { ...process.env, ASAN_OPTIONS: `log_path=${reports}/asan:detect_leaks=0` },
    stderr: "pipe",
  });
  expect(await started.exited).toBe(0);
  for (let tries = 0; tries < 100; tries++) {
    const pid = readdirSync("/proc").find((name) => /^\d+$/.test(name) && cmdline(name).includes(path));
    if (pid) return Number(pid);
    await Bun.sleep(20);
  }
  throw new Error("the relay is not running");
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1");
  } catch {
    return "";
  }
}

function running(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
}

async function untilGone(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 100 && running(pid); tries++) await Bun.sleep(20);
  return !running(pid);
}

function sanitizerReports(): string[] {
  return existsSync(reports) ? readdirSync(reports).map((name) => readFileSync(join(reports, name), "utf8")) : [];
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  const built = await new RelayBuild({ toolsDir: join(work, "tools") }).binary();
  expect(built).toBeTruthy();
  expect(Bun.spawnSync([built!, "version"]).stdout.toString()).toBe("pier-relay 1\n");
  sanitized = join(work, "pier-relay-sanitized");
  const compile = Bun.spawnSync(["gcc", "-g", "-O1", "-fsanitize=address,undefined", "-fsanitize-undefined-trap-on-error", "-o", sanitized, SOURCE], { stderr: "pipe" });
  expect(compile.exitCode, compile.stderr.toString()).toBe(0);
  Bun.spawnSync(["mkdir", "-p", reports]);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("pier-relay under sanitizers", () => {
  test("carries 20 MB each way at once, lists this machine's listening ports with their processes, and exits when told", async () => {
    const hub = new RelayHub();
    const key = { repoId: "repo", userId: "user" };
    const path = join(work, "carry.sock");
    hub.listen(key, path);
    const echo = createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
    const port = await listen(echo);
    let pid = 0;
    try {
      await Bun.sleep(100);
      pid = await startRelay(path);
      expect(await hub.whenConnected(key, 5000)).toBe(true);
      for (let tries = 0; tries < 100 && !hub.ports(key)?.some((p) => p.port === port); tries++) await Bun.sleep(50);
      expect(hub.ports(key)?.find((p) => p.port === port)).toMatchObject({ port, address: "127.0.0.1", pid: process.pid });

      const sent = randomBytes(20 * 1024 * 1024);
      const stream: Socket = await hub.open(key, port);
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise((resolve) => stream.once("end", resolve));
      stream.resume();
      stream.end(sent);
      await ended;
      expect(createHash("sha256").update(Buffer.concat(chunks)).digest("hex")).toBe(createHash("sha256").update(sent).digest("hex"));
      expect(await hub.open(key, 1).catch((error) => error.code)).toBe("port_not_listening");
      expect(running(pid)).toBe(true);
    } finally {
      await hub.closeAll();
      echo.close();
    }
    // Pier gone: the relay keeps knocking; a fake Pier on the same path tells it to exit.
    const told = createServer((socket) => socket.write(frame(0x58)));
    await new Promise<void>((resolve) => told.listen(path, resolve));
    try {
      expect(await untilGone(pid)).toBe(true);
    } finally {
      told.close();
      if (running(pid)) process.kill(pid);
    }
    expect(sanitizerReports()).toEqual([]);
  }, 60_000);

  test("a frame it does not know from Pier ends that connection; it connects again within a second, and exits when told", async () => {
    const path = join(work, "garbage.sock");
    const hellos: number[] = [];
    let answered = 0;
    const pier = createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => {
        hellos.push(Date.now());
        socket.write(answered++ === 0 ? frame(0x5a, new Uint8Array(3)) : frame(0x58));
      });
    });
    await new Promise<void>((resolve) => pier.listen(path, resolve));
    const pid = await startRelay(path);
    try {
      expect(await untilGone(pid)).toBe(true);
      expect(hellos).toHaveLength(2);
      expect(hellos[1]! - hellos[0]!).toBeLessThan(1000);
    } finally {
      pier.close();
      if (running(pid)) process.kill(pid);
    }
    expect(sanitizerReports()).toEqual([]);
  }, 30_000);

  test("splice mode writes Pier's head, then 20 MB from the app to the browser byte for byte, and counts them", async () => {
    const body = randomBytes(20 * 1024 * 1024);
    const head = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 20971520\r\nConnection: close\r\n\r\n");
    const app = createServer((socket) => socket.end(body));
    const received: Buffer[] = [];
    let browserEnded!: () => void;
    const ended = new Promise<void>((resolve) => (browserEnded = resolve));
    const browser = createServer((socket) => {
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.once("end", browserEnded);
    });
    const [appPort, browserPort] = await Promise.all([listen(app), listen(browser)]);
    const connected = (port: number) => new Promise<Socket>((resolve) => { const socket: Socket = connect(port, "127.0.0.1", () => resolve(socket)); });
    try {
      const [toApp, toBrowser] = await Promise.all([connected(appPort), connected(browserPort)]);
      const splicer = new Splicer({ binary: async () => sanitized });
      expect(await splicer.whenReady()).toBe(true);
      process.env.ASAN_OPTIONS = `log_path=${reports}/asan:detect_leaks=0`;
      const answer = splicer.carry(head, toBrowser, toApp);
      expect(await answer.done).toEqual({ bytes: head.length + body.length, whole: true });
      await ended;
      const got = Buffer.concat(received);
      expect(got.subarray(0, head.length).toString()).toBe(head.toString());
      expect(createHash("sha256").update(got.subarray(head.length)).digest("hex")).toBe(createHash("sha256").update(body).digest("hex"));
    } finally {
      delete process.env.ASAN_OPTIONS;
      app.close();
      browser.close();
    }
    expect(sanitizerReports()).toEqual([]);
  }, 60_000);
});
