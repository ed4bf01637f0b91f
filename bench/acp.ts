/**
 * The ACP engine against the same agent run by hand, and what an ACP session costs the server.
 *
 * opencode (supplied into a real pod by pier.agents from the tests' cache; pods on network `host`
 * so it reaches Pier on 127.0.0.1) answers through Pier's gateway from the fake Anthropic server
 * in this process. Each run starts a new session on the warm pod and takes, interleaved:
 * - through Pier: a chat message sent on the session's WebSocket → its first text_delta event,
 *   for the session's first turn (the agent's start and its ACP session included) and a later one
 *   (the agent already running);
 * - by hand: the same agent started in the same pod with `docker exec -i`, with the engine's own
 *   argv, environment and working directory (copied inside the pod from the engine's process, so
 *   no key is in an argument), driven by a minimal ACP client (the official SDK, as Pier's): spawn
 *   → initialize → session/new → prompt → its first agent_message_chunk, then a second prompt →
 *   its first chunk.
 * Then the server's resident memory with 0, 1 and 5 sessions whose agents are live (each has
 * answered a turn), in rounds.
 * Run: bun bench/acp.ts [runs=5] [rounds=3]   (needs a Docker engine and the tests' opencode cache)
 */
import * as acp from "@agentclientprotocol/sdk";
import { cpus, release, totalmem } from "node:os";
import { startFakeAnthropic } from "../tests/support/fake-anthropic.ts";
import { removeRepoPods, startBenchPier, startChatSession } from "./pier-process.ts";
import { type Row, arg, median, report } from "./terminal-kit.ts";

const runs = arg("runs", 5);
const rounds = arg("rounds", 3);
const API_KEY = "sk-ant-bench-acp-000000000000000000";
const MODEL = "claude-sonnet-4-6";
const ANSWER = "Hello from opencode, streamed through the gateway in pieces.";
/** opencode names its sessions with a request of its own; those are answered apart from the prompts' answers. */
const isTitleRequest = (body: any) => JSON.stringify(body.system ?? "").includes("title") && !JSON.stringify(body.tools ?? []).includes("bash");

/**
 * In the pod: the session's agent as the engine runs it (the process its note names), started
 * again on this stdio with its argv, environment and working directory.
 */
const BY_HAND = [
  'p=$(cat "/tmp/pier-acp-$1-"*.pid | head -n 1)',
  'mapfile -d "" argv < "/proc/$p/cmdline"',
  'mapfile -d "" environment < "/proc/$p/environ"',
  'cd "$(readlink "/proc/$p/cwd")"',
  'exec env -i "${environment[@]}" "${argv[@]}"',
].join("\n");

const fake = await startFakeAnthropic({ apiKey: API_KEY });
fake.scriptWhen(isTitleRequest, ...Array.from({ length: 1000 }, () => ({ text: "Bench" })));
const pier = await startBenchPier("acp", { PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url });
let repoId = "";

/** A chat on Pier's WebSocket: each turn's time from the message sent to its first text_delta, in ms. */
class Chat {
  private socket: WebSocket;
  private waiting: { sent: number; first: number | null; done: (ms: number) => void; fail: (error: Error) => void } | null = null;
  readonly opened: Promise<void>;

  constructor(sessionId: string, cookie: string) {
    this.socket = new WebSocket(`${pier.base.replace("http", "ws")}/api/sessions/${sessionId}/chat`, { headers: { cookie } } as unknown as string[]);
    this.opened = new Promise((resolve) => this.socket.addEventListener("open", () => resolve(), { once: true }));
    this.socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      const turn = this.waiting;
      if (!turn) return;
      if (message.type === "text_delta" && turn.first === null) turn.first = performance.now() - turn.sent;
      if (message.type === "error") turn.fail(new Error(`the turn said: ${message.message}`));
      if (message.type === "turn_end") {
        this.waiting = null;
        if (turn.first === null) turn.fail(new Error("the turn ended without streaming text"));
        else turn.done(turn.first);
      }
    });
  }

  turn(text: string): Promise<number> {
    fake.script({ text: ANSWER });
    return deadline(
      new Promise<number>((done, fail) => {
        this.waiting = { sent: performance.now(), first: null, done, fail };
        this.socket.send(JSON.stringify({ type: "message", text }));
      }),
      300_000,
      "a turn through Pier",
    );
  }

  close(): void {
    this.socket.close();
  }
}

/** The session's agent started by hand in its pod and spoken to by a minimal ACP client: ms to the first chunk of each prompt's answer. */
async function byHand(podId: string, sessionId: string, cwd: string): Promise<{ first: number; later: number }> {
  const started = performance.now();
  const child = Bun.spawn(["docker", "exec", "-i", podId, "bash", "-c", BY_HAND, "by-hand", sessionId], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  let chunkSeen: (() => void) | null = null;
  const input = new WritableStream<Uint8Array>({
    write(chunk) {
      child.stdin.write(chunk);
      child.stdin.flush();
    },
  });
  const connection = acp
    .client({ name: "bench" })
    .onNotification("session/update", ({ params }) => {
      if (params.update.sessionUpdate === "agent_message_chunk") chunkSeen?.();
    })
    .onRequest("session/request_permission", () => Promise.resolve({ outcome: { outcome: "cancelled" as const } }))
    .connect(acp.ndJsonStream(input, child.stdout as ReadableStream<Uint8Array>));
  const { agent } = connection;
  try {
    await agent.request("initialize", { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false }, clientInfo: { name: "bench", version: "1" } });
    const { sessionId: acpSessionId } = await agent.request("session/new", { cwd, mcpServers: [] });
    const prompt = async (text: string, from: number) => {
      fake.script({ text: ANSWER });
      const first = new Promise<number>((resolve) => (chunkSeen = () => ((chunkSeen = null), resolve(performance.now() - from))));
      const answered = agent.request("session/prompt", { sessionId: acpSessionId, prompt: [{ type: "text", text }] });
      const ms = await deadline(first, 300_000, "a prompt by hand");
      await answered;
      return ms;
    };
    const first = await prompt("Say hello.", started);
    const later = await prompt("Say hello again.", performance.now());
    return { first, later };
  } finally {
    connection.close(new Error("The bench is done with it."));
    child.stdin.end();
    await deadline(child.exited, 30_000, "the agent run by hand to end").catch(() => child.kill("SIGKILL"));
  }
}

async function deadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resident memory now, in MiB: the median of five samples a fifth of a second apart. */
async function rss(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(pier.memory().rss);
    await Bun.sleep(200);
  }
  return median(samples);
}

try {
  const started = await startChatSession(pier.base, API_KEY, "bench-acp");
  repoId = started.repoId;
  const { cookie } = started;
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(pier.base + path, { method: body === undefined ? "GET" : "POST", headers: { cookie, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  /** A new session of opencode on the repo's (warm) pod, once active. */
  const acpSession = async () => {
    let session = await call("/api/sessions", { repoId, engine: "acp", agent: "opencode", model: MODEL });
    for (const until = Date.now() + 300_000; session.state !== "active"; await Bun.sleep(50)) {
      if (session.state === "failed" || Date.now() > until) throw new Error(`the session did not start: ${session.error}`);
      session = await call(`/api/sessions/${session.id}`);
    }
    return session as { id: string; podId: string; worktreePath: string };
  };
  const end = (id: string) => call(`/api/sessions/${id}/end`, {});
  // The pier session startChatSession made is not an ACP one; it goes.
  await end(started.sessionId);

  // A warm-up: the pod made, opencode placed in it, its first start on this pod's disk.
  {
    const session = await acpSession();
    const chat = new Chat(session.id, cookie);
    await chat.opened;
    await chat.turn("Warm up.");
    chat.close();
    await end(session.id);
  }

  const rawIs = "by hand: `docker exec -i` of the same opencode in the pod, a minimal ACP client";
  const first: Row = { bench: "acp", measure: "first turn: message → first streamed text (agent start included)", command: "opencode acp, fake Anthropic through the gateway", unit: "ms", better: "extra", pier: [], raw: [], rawIs };
  const later: Row = { bench: "acp", measure: "later turn: message → first streamed text (agent running)", command: "opencode acp, fake Anthropic through the gateway", unit: "ms", better: "extra", pier: [], raw: [], rawIs };
  for (let at = 0; at < runs; at++) {
    const session = await acpSession();
    const chat = new Chat(session.id, cookie);
    await chat.opened;
    first.pier.push(await chat.turn("Say hello."));
    later.pier.push(await chat.turn("Say hello again."));
    chat.close();
    // While the engine's agent is live (its gateway key good), the same agent by hand.
    const hand = await byHand(session.podId, session.id, session.worktreePath);
    first.raw!.push(hand.first);
    later.raw!.push(hand.later);
    await end(session.id);
    console.error(`[acp] run ${at + 1}: through Pier ${first.pier.at(-1)!.toFixed(0)} / ${later.pier.at(-1)!.toFixed(0)} ms, by hand ${hand.first.toFixed(0)} / ${hand.later.toFixed(0)} ms`);
  }

  const memory = (live: number): Row => ({ bench: "acp", measure: `server RSS, ${live} live ACP session${live === 1 ? "" : "s"}`, command: "median of 5 samples", unit: "MiB", better: "lower", pier: [], rawIs: "—" });
  const [none, one, five] = [memory(0), memory(1), memory(5)];
  const perSession: Row = { bench: "acp", measure: "server memory per live ACP session ((5 − 0) / 5)", command: "each round's own", unit: "MiB", better: "lower", pier: [], rawIs: "—" };
  for (let round = 0; round < rounds; round++) {
    const live: string[] = [];
    const openOne = async () => {
      const session = await acpSession();
      const chat = new Chat(session.id, cookie);
      await chat.opened;
      await chat.turn("Say hello.");
      chat.close();
      live.push(session.id);
    };
    none.pier.push(await rss());
    await openOne();
    one.pier.push(await rss());
    for (let i = 0; i < 4; i++) await openOne();
    five.pier.push(await rss());
    perSession.pier.push((five.pier.at(-1)! - none.pier.at(-1)!) / 5);
    for (const id of live) await end(id);
    console.error(`[acp] round ${round + 1}: ${none.pier.at(-1)!.toFixed(1)} → ${one.pier.at(-1)!.toFixed(1)} → ${five.pier.at(-1)!.toFixed(1)} MiB`);
  }

  const machine = `${cpus()[0]?.model} × ${cpus().length}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Linux ${release()}, Bun ${Bun.version}`;
  report(`ACP engine — ${machine}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; peak RSS ${pier.memory().peak.toFixed(1)} MiB`, [first, later, none, one, five, perSession]);
} finally {
  await pier.stop();
  await fake.stop();
  await removeRepoPods(repoId);
}
