/**
 * Bulk throughput: a SIZE MB stream (base64 of random bytes) to a viewer that reads everything,
 * through Pier and through a raw `docker exec -it` into the same pod, runs interleaved. The rate is
 * the bytes the viewer received over the time from typing the command to its end marker.
 * Run: bun bench/terminal-bulk.ts [mb=50] [runs=5]   (needs a Docker engine)
 */
import { cpus } from "node:os";
import { type Row, type Shell, arg, benchPier, rawShell, report, settle } from "./terminal-kit.ts";

const mb = arg("mb", 50);
const runs = arg("runs", 5);
const command = `head -c ${Math.round((mb * 1024 * 1024 * 3) / 4)} /dev/urandom | base64; echo end-$((40+2))`;

async function throughput(shell: Shell): Promise<{ rate: number; bytes: number }> {
  shell.reset();
  const before = shell.received;
  const started = performance.now();
  shell.send(`${command}\r`);
  await shell.until(/end-42\r\n/);
  const seconds = (performance.now() - started) / 1000;
  const bytes = shell.received - before;
  return { rate: bytes / 1024 / 1024 / seconds, bytes };
}

const pier = await benchPier("bulk");
try {
  const session = await pier.session();
  const viewer = await pier.viewer(session.id);
  const raw = await rawShell(session.podId, session.worktreePath);
  const rate: Row = { bench: "bulk", measure: `${mb} MB stream, rate at the viewer`, command, unit: "MB/s", better: "higher", pier: [], raw: [], note: "target ≥ 0.9" };
  const share: Row = { bench: "bulk", measure: "bytes received of the raw run's", command, unit: "%", better: "higher", pier: [] };
  for (let i = 0; i < runs; i++) {
    await settle(session.podId);
    const p = await throughput(viewer);
    await settle(session.podId);
    const r = await throughput(raw);
    rate.pier.push(p.rate);
    rate.raw!.push(r.rate);
    share.pier.push((100 * p.bytes) / r.bytes);
  }
  viewer.close();
  raw.close();
  report(`Terminal bulk throughput — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`, [rate, share]);
} finally {
  await pier.stop();
}
