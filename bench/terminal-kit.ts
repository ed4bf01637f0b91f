/**
 * What the terminal benches share: a Pier of its own (Docker runtime, the suite's test workspace
 * image, pods without network) with a signed-in bench user and a repository, terminal viewers over
 * Pier's WebSocket, a raw `docker exec -it` shell into the same pod to compare against, and the
 * rows every bench reports (printed as a table, and written as JSON for bench/run.ts when
 * PIER_BENCH_JSON names a file).
 *
 * Traffic goes only to 127.0.0.1 (Pier) and through the Docker socket. Every wait has a deadline.
 */
import Docker from "dockerode";
import { appendFileSync } from "node:fs";
import type { ClientMessage } from "../src/terminal/protocol.ts";
import { makeRemoteRepo } from "../tests/support/git-fixtures.ts";
import { removeRepoPods, startBenchPier } from "./pier-process.ts";

/** A prompt no command line typed in a bench can contain: PS1 expands $((6*7)) to 42. */
export const PROMPT = /P42> $/;
export const SET_PROMPT = "PS1='P$((6*7))> '";
export const COLS = 200;
export const ROWS = 50;

/** A shell the bench types into and reads from: a Pier viewer or a raw docker exec. */
export interface Shell {
  /** Bytes received so far. */
  received: number;
  send(data: string): void;
  /** Forgets the text seen so far, so `until` only matches what comes next. */
  reset(): void;
  /** Resolves once the text since the last reset matches; rejects after the deadline. */
  until(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once `bytes` more have arrived. */
  untilBytes(bytes: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Keeps the last few KB as latin1 text (the patterns are ASCII) and wakes waiters. */
class Tail {
  text = "";
  received = 0;
  private waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  add(bytes: Uint8Array): void {
    this.received += bytes.length;
    const last = bytes.length > 4096 ? bytes.subarray(bytes.length - 4096) : bytes;
    this.text = (this.text + Buffer.from(last.buffer, last.byteOffset, last.byteLength).toString("latin1")).slice(-4096);
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  wait(test: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { test, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(this.text.slice(-200))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

/** A terminal viewer on Pier's WebSocket that reads everything as fast as it comes. */
export class Viewer implements Shell {
  socket: WebSocket;
  closedByServer = false;
  private tail = new Tail();
  private closing = false;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(base: string, token: string, sessionId: string) {
    this.socket = new WebSocket(`${base.replace("http", "ws")}/api/sessions/${sessionId}/terminal`, {
      headers: { authorization: `Bearer ${token}` },
    } as unknown as string[]);
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener("open", () => resolve());
      this.socket.addEventListener("error", () => reject(new Error("the terminal socket failed")));
    });
    this.closed = new Promise((resolve) =>
      this.socket.addEventListener("close", () => {
        if (!this.closing) this.closedByServer = true;
        resolve();
      }),
    );
    this.socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") this.tail.add(new Uint8Array(event.data as ArrayBuffer));
    });
  }

  get received(): number {
    return this.tail.received;
  }

  message(message: ClientMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  send(data: string): void {
    this.message({ type: "input", data });
  }

  reset(): void {
    this.tail.text = "";
  }

  until(pattern: RegExp, timeoutMs = 120_000): Promise<void> {
    return this.tail.wait(() => pattern.test(this.tail.text), String(pattern), timeoutMs);
  }

  untilBytes(bytes: number, timeoutMs = 120_000): Promise<void> {
    const target = this.tail.received + bytes;
    return this.tail.wait(() => this.tail.received >= target, `${bytes} bytes`, timeoutMs);
  }

  close(): void {
    this.closing = true;
    this.socket.close();
  }
}

/** A raw `docker exec -it bash` into the pod: the limit the terminal is compared against. */
export async function rawShell(podId: string, cwd: string): Promise<Shell> {
  const docker = new Docker();
  const exec = await docker.getContainer(podId).exec({
    Cmd: ["bash", "--norc", "--noprofile"],
    User: "1000:1000",
    WorkingDir: cwd,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Env: ["TERM=xterm-256color"],
  });
  const stream = await exec.start({ hijack: true, stdin: true, Tty: true });
  await exec.resize({ w: COLS, h: ROWS }).catch(() => undefined);
  const tail = new Tail();
  stream.on("data", (chunk: Buffer) => tail.add(chunk));
  const shell: Shell = {
    get received() {
      return tail.received;
    },
    send: (data) => void stream.write(data),
    reset: () => void (tail.text = ""),
    until: (pattern, timeoutMs = 120_000) => tail.wait(() => pattern.test(tail.text), String(pattern), timeoutMs),
    untilBytes: (bytes, timeoutMs = 120_000) => {
      const target = tail.received + bytes;
      return tail.wait(() => tail.received >= target, `${bytes} bytes`, timeoutMs);
    },
    close: () => void stream.end(),
  };
  await preparePrompt(shell);
  return shell;
}

/** A pod whose CPU use stays below this share of one core for SETTLE_SAMPLE_MS is idle. */
const IDLE_SHARE = 0.03;
const SETTLE_SAMPLE_MS = 200;

/**
 * Waits until the pod's processes are idle (at most `timeoutMs`) and returns the CPU time they used
 * meanwhile, in seconds: runs start from a quiet pod, so one run's leftover work (tmux bringing its
 * screen up to date after Pier's viewer already has the prompt) is not charged to the next, and is
 * reported on its own.
 */
export async function settle(podId: string, timeoutMs = 20_000): Promise<number> {
  const container = new Docker().getContainer(podId);
  const used = async () => {
    const stats = (await container.stats({ stream: false, "one-shot": true } as { stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } };
    return stats.cpu_stats.cpu_usage.total_usage / 1e9;
  };
  const started = performance.now();
  const first = await used();
  let last = first;
  for (;;) {
    await Bun.sleep(SETTLE_SAMPLE_MS);
    const now = await used();
    const busy = now - last;
    last = now;
    if (busy < (SETTLE_SAMPLE_MS / 1000) * IDLE_SHARE || performance.now() - started > timeoutMs) return last - first - busy;
  }
}

/** Sets the bench prompt and waits for it. */
export async function preparePrompt(shell: Shell): Promise<void> {
  // A shell still starting on a busy machine may lose the first line: ask again, a few times.
  for (let attempt = 1; ; attempt++) {
    shell.send(`stty cols ${COLS} rows ${ROWS}; ${SET_PROMPT}\r`);
    try {
      await shell.until(PROMPT, 15_000);
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  shell.reset();
}

/** A bench's own Pier (with `env` over startBenchPier's) with a signed-in user and a repository; `session()` starts one and waits until it is active. */
export async function benchPier(name: string, env: Record<string, string> = {}) {
  const pier = await startBenchPier(name, env);
  const base = pier.base;
  let token = "";
  let cookie = "";
  const api = async (path: string, body?: unknown, as = token): Promise<any> => {
    const res = await fetch(base + path, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", ...(as ? { authorization: `Bearer ${as}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  let repoId = "";
  try {
    await api("/api/setup", { username: "bench", password: "bench password" });
    const login = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bench", password: "bench password" }),
    });
    cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
    const made = await fetch(`${base}/api/tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) });
    token = ((await made.json()) as { token: string }).token;
    repoId = (await api("/api/repos", { url: `file://${makeRemoteRepo(`bench-${name}`).path}` })).id;
  } catch (error) {
    await pier.stop();
    throw error;
  }

  return {
    base,
    pid: pier.pid,
    memory: () => pier.memory(),
    get token() {
      return token;
    },
    /** The bench user's sign-in cookie (`name=value`), for what only a browser's sign-in opens (a preview's grant). */
    get cookie() {
      return cookie;
    },
    /** Changes Pier's settings (as the bench user, an admin). */
    async configure(settings: Record<string, unknown>): Promise<void> {
      const res = await fetch(`${base}/api/settings`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(settings),
      });
      if (!res.ok) throw new Error(`/api/settings: ${res.status} ${await res.text()}`);
    },
    /** Another person (a member) with their own API token: their sessions get a pod of their own. */
    async person(username: string): Promise<string> {
      await api("/api/users", { username, password: `${username} password`, role: "member" });
      const login = await fetch(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password: `${username} password` }),
      });
      const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
      const made = await fetch(`${base}/api/tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) });
      return ((await made.json()) as { token: string }).token;
    },
    /** Another repository, registered with `settings` (a pinned Docker engine, say); its id, for `session`. */
    async repo(name: string, settings: Record<string, unknown> = {}): Promise<string> {
      const id = (await api("/api/repos", { url: `file://${makeRemoteRepo(`bench-${name}`).path}` })).id as string;
      const res = await fetch(`${base}/api/repos/${id}`, { method: "PATCH", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(settings) });
      if (!res.ok) throw new Error(`/api/repos/${id}: ${res.status} ${await res.text()}`);
      return id;
    },
    /** Sends `body` to an admin's API path as the bench user (an admin). */
    post: (path: string, body: unknown) => api(path, body),
    /** A new session on the repository (the bench's own, or `repo`; as `as`, a person's token, the bench user by default), once active: { id, podId, worktreePath }. */
    async session(as = token, repo = repoId): Promise<{ id: string; podId: string; worktreePath: string }> {
      const { id } = await api("/api/sessions", { repoId: repo }, as);
      const deadline = Date.now() + 300_000;
      for (;;) {
        const s = await api(`/api/sessions/${id}`, undefined, as);
        if (s.state === "active") return s;
        if (s.state === "failed") throw new Error(s.error);
        if (Date.now() > deadline) throw new Error(`session ${id} did not become active`);
        await Bun.sleep(20);
      }
    },
    /** A viewer of the session's terminal at the bench size, with the bench prompt set. */
    async viewer(sessionId: string, prompt = true): Promise<Viewer> {
      const viewer = new Viewer(base, token, sessionId);
      await viewer.opened;
      viewer.message({ type: "resize", cols: COLS, rows: ROWS });
      // The snapshot comes first; what is typed before it would be in it, not after it.
      await viewer.untilBytes(1, 30_000);
      if (prompt) await preparePrompt(viewer);
      return viewer;
    },
    async stop(): Promise<void> {
      await pier.stop();
      if (repoId) await removeRepoPods(repoId);
    },
  };
}

/** One measured quantity through Pier, and over the raw exec when there is one. */
export interface Row {
  bench: string;
  measure: string;
  command: string;
  unit: string;
  /** "lower" for times, "higher" for rates: how the ratio against raw is taken; "extra" for latencies, said as Pier's added time. */
  better: "lower" | "higher" | "extra";
  pier: number[];
  raw?: number[];
  /** Said in place of a ratio (a target, a note). */
  note?: string;
  /** What the raw column is, when it is not a `docker exec -it` into the pod (the previews' curl inside the pod). */
  rawIs?: string;
  /** What the measured column is, when it is not Pier (the floor bench's bare hop). */
  pierIs?: string;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const spread = (xs: number[], unit: string) => `${fmt(median(xs))} ${unit} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;

/** Pier's median against raw's, as a fraction of raw's speed (1 = as fast as raw). */
export function ratio(row: Row): string {
  if (!row.raw?.length) return row.note ?? "";
  const pier = median(row.pier);
  const raw = median(row.raw);
  const note = row.note ? `; ${row.note}` : "";
  if (row.better === "extra") return `${pier >= raw ? "+" : "−"}${Math.abs(pier - raw).toFixed(2)} ${row.unit}${note}`;
  const r = row.better === "lower" ? raw / pier : pier / raw;
  return `${r.toFixed(2)} of raw${note}`;
}

/** The rows as Markdown tables, median (min–max) of the runs: one table for each run of rows whose columns are the same things. */
export function table(rows: Row[]): string {
  const tables: string[][] = [];
  let header: string | null = null;
  for (const row of rows) {
    const against = `| ${row.pierIs ?? "through Pier"} | ${row.rawIs ?? "raw docker exec -it"} |`;
    if (against !== header) {
      header = against;
      tables.push([`| bench | measure | command | runs ${against} ratio |`, "|---|---|---|---|---|---|---|"]);
    }
    const raw = row.raw?.length ? spread(row.raw, row.unit) : "—";
    tables.at(-1)!.push(`| ${row.bench} | ${row.measure} | \`${row.command.replaceAll("|", "\\|")}\` | ${row.pier.length} | ${spread(row.pier, row.unit)} | ${raw} | ${ratio(row)} |`);
  }
  return tables.map((lines) => lines.join("\n")).join("\n\n");
}

/** Prints the rows and hands them to bench/run.ts when it asked for them. */
export function report(title: string, rows: Row[]): void {
  console.log(`${title}\n\n${table(rows)}\n`);
  const out = process.env.PIER_BENCH_JSON;
  if (out) appendFileSync(out, JSON.stringify(rows) + "\n");
}

/** A number from the command line (`name=value`), or the default. */
export function arg(name: string, fallback: number): number {
  const found = process.argv.slice(2).find((a) => a.startsWith(`${name}=`));
  const value = found ? Number(found.slice(name.length + 1)) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** Keystroke echo: `keys` single characters typed at the prompt, each timed until its echo is seen; the line is thrown away after. */
export async function echoTimes(shell: Shell, keys: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < keys; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    shell.reset();
    const started = performance.now();
    shell.send(ch);
    await shell.until(new RegExp(ch), 10_000);
    times.push(performance.now() - started);
  }
  // Ctrl+U: the typed line is thrown away.
  shell.reset();
  shell.send("\x15");
  await Bun.sleep(50);
  return times;
}
