/**
 * The session terminal against its limit, a raw `docker exec` with a TTY into the same pod:
 *  - throughput of a ~50 MB stream (base64 of random bytes) to a WebSocket client,
 *  - keystroke echo latency (one character typed, its echo seen), p50 and p99,
 *  - server memory with 50 sessions each with a terminal attached.
 * Run: bun bench/terminal.ts   (needs a Docker engine; uses the suite's test workspace image)
 */
import Docker from "dockerode";
import { cpus } from "node:os";
import type { ClientMessage } from "../src/terminal/protocol.ts";
import { makeRemoteRepo } from "../tests/support/git-fixtures.ts";
import { startBenchPier } from "./pier-process.ts";

const STREAM_BYTES = 50 * 1024 * 1024;
const KEYSTROKES = 200;
const TERMINALS = Number(process.argv[2] ?? 50);
const pier = await startBenchPier("terminal");
const base = pier.base;
const docker = new Docker();
const rssMiB = () => pier.memory().rss;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

let token = "";
async function api(path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A terminal viewer that counts bytes and can wait for a marker. */
class Viewer {
  socket: WebSocket;
  received = 0;
  tail = "";
  private decoder = new TextDecoder();
  private waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  ready: Promise<void>;

  constructor(sessionId: string) {
    this.socket = new WebSocket(`${base.replace("http", "ws")}/api/sessions/${sessionId}/terminal`, {
      headers: { authorization: `Bearer ${token}` },
    } as unknown as string[]);
    this.socket.binaryType = "arraybuffer";
    this.ready = new Promise((resolve) => this.socket.addEventListener("open", () => resolve()));
    this.socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") return;
      const bytes = new Uint8Array(event.data as ArrayBuffer);
      this.received += bytes.length;
      this.tail = (this.tail + this.decoder.decode(bytes, { stream: true })).slice(-4096);
      for (const waiter of [...this.waiters]) {
        if (waiter.pattern.test(this.tail)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  }
  send(data: string) {
    this.socket.send(JSON.stringify({ type: "input", data } satisfies ClientMessage));
  }
  until(pattern: RegExp): Promise<void> {
    if (pattern.test(this.tail)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}

/** The same measurements over a raw `docker exec -it bash` into the pod. */
async function rawExec(podId: string, cwd: string) {
  const exec = await docker.getContainer(podId).exec({
    Cmd: ["bash", "--norc"],
    User: "1000:1000",
    WorkingDir: cwd,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Env: ["TERM=xterm-256color", "PS1=$ "],
  });
  const stream = await exec.start({ hijack: true, stdin: true, Tty: true });
  let tail = "";
  let received = 0;
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  stream.on("data", (chunk: Buffer) => {
    received += chunk.length;
    tail = (tail + chunk.toString("latin1")).slice(-4096);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(tail)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const until = (pattern: RegExp) => (pattern.test(tail) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pattern, resolve })));
  return { send: (s: string) => stream.write(s), until, bytes: () => received, reset: () => (tail = ""), close: () => stream.end() };
}

const streamCommand = `head -c ${Math.round((STREAM_BYTES * 3) / 4)} /dev/urandom | base64; echo done-$((40+2))`;

try {
  await api("/api/setup", { username: "bench", password: "bench password" });
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "bench", password: "bench password" }),
  });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  token = (await (await fetch(`${base}/api/tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) })).json()).token;
  const repo = await api("/api/repos", { url: `file://${makeRemoteRepo("benchterm").path}` });
  const waitActive = async (id: string) => {
    for (;;) {
      const s = await api(`/api/sessions/${id}`);
      if (s.state === "active") return s;
      if (s.state === "failed") throw new Error(s.error);
      await Bun.sleep(20);
    }
  };
  const session = await waitActive((await api("/api/sessions", { repoId: repo.id })).id);

  // Throughput through Pier.
  const viewer = new Viewer(session.id);
  await viewer.ready;
  viewer.socket.send(JSON.stringify({ type: "resize", cols: 200, rows: 50 } satisfies ClientMessage));
  await Bun.sleep(500);
  let started = performance.now();
  const before = viewer.received;
  viewer.send(`${streamCommand}\r`);
  await viewer.until(/done-42/);
  const pierSeconds = (performance.now() - started) / 1000;
  const pierBytes = viewer.received - before;

  // Echo latency through Pier: type one character, wait for it to come back.
  const pierLatency: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    viewer.tail = "";
    started = performance.now();
    viewer.send(ch);
    await viewer.until(new RegExp(ch));
    pierLatency.push(performance.now() - started);
  }
  viewer.send("\x15");

  // The same over a raw docker exec.
  const raw = await rawExec(session.podId, session.worktreePath);
  raw.send("stty cols 200 rows 50\r");
  await Bun.sleep(300);
  raw.reset();
  const rawBefore = raw.bytes();
  started = performance.now();
  raw.send(`${streamCommand}\r`);
  await raw.until(/done-42/);
  const rawSeconds = (performance.now() - started) / 1000;
  const rawBytes = raw.bytes() - rawBefore;
  const rawLatency: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    raw.reset();
    started = performance.now();
    raw.send(ch);
    await raw.until(new RegExp(ch));
    rawLatency.push(performance.now() - started);
  }
  raw.close();
  viewer.socket.close();

  // Memory with many attached terminals: one viewer on each of N sessions.
  const idleRss = rssMiB();
  const viewers: Viewer[] = [];
  for (let i = 0; i < TERMINALS; i++) {
    const s = await waitActive((await api("/api/sessions", { repoId: repo.id })).id);
    const v = new Viewer(s.id);
    await v.ready;
    v.socket.send(JSON.stringify({ type: "resize", cols: 120, rows: 32 }));
    viewers.push(v);
  }
  // Each viewer's snapshot (its prompt) has arrived.
  await Promise.all(viewers.map((v) => v.until(/\$/)));
  await Bun.sleep(1000);
  const attachedRss = rssMiB();
  for (const v of viewers) v.socket.close();

  const mbps = (bytes: number, s: number) => (bytes / 1024 / 1024 / s).toFixed(1);
  console.log(`Session terminal vs raw docker exec — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| measure | through Pier | raw docker exec |");
  console.log("|---|---|---|");
  console.log(`| ${(pierBytes / 1024 / 1024).toFixed(0)} MB base64 stream | ${pierSeconds.toFixed(2)} s (${mbps(pierBytes, pierSeconds)} MB/s) | ${rawSeconds.toFixed(2)} s (${mbps(rawBytes, rawSeconds)} MB/s) |`);
  console.log(`| keystroke echo p50 | ${percentile(pierLatency, 0.5).toFixed(2)} ms | ${percentile(rawLatency, 0.5).toFixed(2)} ms |`);
  console.log(`| keystroke echo p99 | ${percentile(pierLatency, 0.99).toFixed(2)} ms | ${percentile(rawLatency, 0.99).toFixed(2)} ms |`);
  console.log(`\nServer memory (RSS): ${idleRss.toFixed(1)} MiB with 1 session, ${attachedRss.toFixed(1)} MiB with ${TERMINALS + 1} sessions and ${TERMINALS} attached terminals.`);
} finally {
  const pods = await docker.listContainers({ all: true, filters: { label: ["pier.repo"] } });
  await pier.stop();
  for (const pod of pods.filter((p) => p.Names.some((n) => n.includes("benchterm")))) await docker.getContainer(pod.Id).remove({ force: true });
}
