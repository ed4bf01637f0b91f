/**
 * A chat tool round trip: from the agent's tool_call event to its tool_result event at a
 * WebSocket client, for each file tool and a short command, median/min/max of N calls each.
 * That is the time Pier spends running the tool in the session's worktree (in the pod) plus
 * storing and broadcasting both events. The Messages API is the suite's local stand-in.
 * Run: bun bench/chat-tools.ts [runs]   (needs a Docker engine; uses the suite's test workspace image)
 */
import Docker from "dockerode";
import { cpus } from "node:os";
import { ChatClient } from "../tests/support/chat-client.ts";
import { startFakeAnthropic } from "../tests/support/fake-anthropic.ts";
import { removeRepoPods, startBenchPier, startChatSession } from "./pier-process.ts";

const runs = Number(process.argv[2] ?? 20);
const API_KEY = "sk-bench-0000000000000000";
const TOOLS: Array<[string, (i: number) => Record<string, unknown>]> = [
  ["read_file", () => ({ path: "README.md" })],
  ["write_file", (i) => ({ path: `notes/bench-${i}.txt`, content: `line ${i}\n`.repeat(50) })],
  ["edit_file", (i) => ({ path: `notes/bench-${i}.txt`, old_string: `line ${i}\nline ${i}\nline ${i}\n`.repeat(16) + `line ${i}\nline ${i}\n`, new_string: "edited\n" })],
  ["list_files", () => ({ pattern: "**/*.txt" })],
  ["search", () => ({ pattern: "widgets" })],
  ["bash", () => ({ command: "echo hello" })],
];

const api = await startFakeAnthropic({ apiKey: API_KEY });
const pier = await startBenchPier("chat-tools", { ANTHROPIC_BASE_URL: api.url });
const docker = new Docker();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let repoId = "";
try {
  const started = await startChatSession(pier.base, API_KEY, "benchtools");
  repoId = started.repoId;
  const chat = await ChatClient.connect(pier.base, started.sessionId, { cookie: started.cookie });

  const times = new Map<string, number[]>(TOOLS.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, input] of TOOLS) {
      api.script({ toolUse: { name, input: input(i) } }, { text: "done" });
      const from = chat.events.length;
      let calledAt = 0;
      let resultAt = 0;
      const stamp = (event: MessageEvent) => {
        const type = JSON.parse(String(event.data)).type;
        if (type === "tool_call") calledAt = performance.now();
        if (type === "tool_result") resultAt = performance.now();
      };
      const socket = (chat as unknown as { socket: WebSocket }).socket;
      socket.addEventListener("message", stamp);
      await chat.turn(`use ${name}`);
      socket.removeEventListener("message", stamp);
      const result = chat.events.slice(from).find((e) => e.type === "tool_result");
      if (!result || result.isError) throw new Error(`${name} failed: ${JSON.stringify(result)}`);
      times.get(name)!.push(resultAt - calledAt);
    }
  }
  chat.close();

  console.log(`Chat tool round trip (tool_call → tool_result at the client), ${runs} calls each — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, Docker ${(await docker.version()).Version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| tool | median | min | max |");
  console.log("|---|---|---|---|");
  for (const [name, xs] of times) {
    console.log(`| ${name} | ${median(xs).toFixed(1)} ms | ${Math.min(...xs).toFixed(1)} ms | ${Math.max(...xs).toFixed(1)} ms |`);
  }
} finally {
  await pier.stop();
  await api.stop();
  await removeRepoPods(repoId);
}
