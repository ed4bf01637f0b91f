/**
 * The latency Pier adds to the chat stream: from a text delta leaving a local Messages API
 * server (SSE) to the matching text_delta event reaching a WebSocket client, p50 and p99.
 * The API server and the client run in this process, so both times come from one clock.
 * Run: bun bench/chat.ts [deltas]   (needs a Docker engine; uses the suite's test workspace image)
 */
import { cpus } from "node:os";
import { removeRepoPods, startBenchPier, startChatSession } from "./pier-process.ts";

const DELTAS = Number(process.argv[2] ?? 500);
const GAP_MS = 4;
const sentAt = new Map<number, number>();

/** A minimal Messages API: one streamed answer of DELTAS numbered text pieces, GAP_MS apart. */
const api = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const body = (await request.json()) as { model: string };
    const encoder = new TextEncoder();
    const stream = new ReadableStream({
      async start(controller) {
        const send = (event: string, data: unknown) => controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        send("message_start", {
          type: "message_start",
          message: { id: "msg_bench", type: "message", role: "assistant", model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } },
        });
        send("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
        for (let i = 0; i < DELTAS; i++) {
          sentAt.set(i, performance.now());
          send("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `<${i}>` } });
          await Bun.sleep(GAP_MS);
        }
        send("content_block_stop", { type: "content_block_stop", index: 0 });
        send("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: DELTAS } });
        send("message_stop", { type: "message_stop" });
        controller.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  },
});

const pier = await startBenchPier("chat", { ANTHROPIC_BASE_URL: `http://127.0.0.1:${api.port}` });
let repoId = "";
try {
  const started = await startChatSession(pier.base, "sk-bench-0000000000000000", "benchchat");
  repoId = started.repoId;
  const auth = { cookie: started.cookie };
  const session = { id: started.sessionId };

  const latencies: number[] = [];
  const socket = new WebSocket(`${pier.base.replace("http", "ws")}/api/sessions/${session.id}/chat`, { headers: auth } as unknown as string[]);
  const done = new Promise<void>((resolve) => {
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      if (message.type === "text_delta") {
        const arrived = performance.now();
        for (const match of String(message.text).matchAll(/<(\d+)>/g)) latencies.push(arrived - sentAt.get(Number(match[1]))!);
      }
      if (message.type === "turn_end") resolve();
    });
  });
  await new Promise((resolve) => socket.addEventListener("open", resolve));
  socket.send(JSON.stringify({ type: "message", text: "stream please" }));
  await done;
  socket.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
  console.log(`Chat stream latency, ${latencies.length} deltas ${GAP_MS} ms apart — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| delta leaves the API server → event reaches the WebSocket client | value |");
  console.log("|---|---|");
  console.log(`| p50 | ${at(0.5).toFixed(2)} ms |`);
  console.log(`| p99 | ${at(0.99).toFixed(2)} ms |`);
  console.log(`| max | ${sorted.at(-1)!.toFixed(2)} ms |`);
} finally {
  await pier.stop();
  api.stop(true);
  await removeRepoPods(repoId);
}
