/**
 * Keystroke echo: one character typed, its echo seen, KEYS times per run, through Pier and through a
 * raw `docker exec -it` into the same pod, runs interleaved; each run gives a p50 and a p99.
 * (Bulk throughput is bench/terminal-bulk.ts, floods bench/terminal-flood.ts, many terminals
 * bench/terminal-load.ts; `bun run bench` runs them all.)
 * Run: bun bench/terminal.ts [keys=200] [runs=5]   (needs a Docker engine)
 */
import { cpus } from "node:os";
import { type Row, arg, benchPier, echoTimes, percentile, rawShell, report } from "./terminal-kit.ts";

const keys = arg("keys", 200);
const runs = arg("runs", 5);

const pier = await benchPier("echo");
try {
  const session = await pier.session();
  const viewer = await pier.viewer(session.id);
  const raw = await rawShell(session.podId, session.worktreePath);
  const command = `${keys} single keystrokes at the prompt`;
  const p50: Row = { bench: "echo", measure: "keystroke echo p50", command, unit: "ms", better: "extra", pier: [], raw: [], note: "target extra ≤ 1 ms" };
  const p99: Row = { bench: "echo", measure: "keystroke echo p99", command, unit: "ms", better: "extra", pier: [], raw: [], note: "target extra ≤ 5 ms" };
  for (let i = 0; i < runs; i++) {
    const p = await echoTimes(viewer, keys);
    const r = await echoTimes(raw, keys);
    p50.pier.push(percentile(p, 0.5));
    p50.raw!.push(percentile(r, 0.5));
    p99.pier.push(percentile(p, 0.99));
    p99.raw!.push(percentile(r, 0.99));
  }
  viewer.close();
  raw.close();
  report(`Terminal keystroke echo — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`, [p50, p99]);
} finally {
  await pier.stop();
}
