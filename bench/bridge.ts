/**
 * Keystroke echo in a pod on another Docker engine, whose terminal output comes through its bridge
 * (pier-bridge over the engine's exec stream), against a pod on the local engine, whose holder
 * dials Pier's socket directly: one character typed, its echo seen, KEYS times per run, both
 * through Pier's WebSocket, runs interleaved; each run gives a p50 and a p99. The other engine is
 * a second dockerd of the bench's own on this machine (tests/support/second-engine.ts), so the
 * figure is the bridge's own cost, not a network's.
 * Run: bun bench/bridge.ts [keys=200] [runs=5]   (needs Docker and dockerd)
 */
import { cpus } from "node:os";
import { startSecondEngine } from "../tests/support/second-engine.ts";
import { type Row, type Shell, arg, benchPier, percentile, report } from "./terminal-kit.ts";

const keys = arg("keys", 200);
const runs = arg("runs", 5);

async function echoTimes(shell: Shell): Promise<number[]> {
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

const engine = await startSecondEngine();
// Pods on another engine clone from Pier's /git, so they need a network that reaches Pier.
const pier = await benchPier("bridge", { PIER_POD_NETWORK: "host" });
try {
  await pier.post("/api/config/docker-engines", { name: "second", host: engine.host });
  const remoteRepo = await pier.repo("bridge-remote", { dockerEngine: "second" });
  const local = await pier.viewer((await pier.session()).id);
  const remote = await pier.viewer((await pier.session(undefined, remoteRepo)).id);
  const command = `${keys} single keystrokes at the prompt`;
  const rawIs = "through Pier, a pod on the local engine";
  const p50: Row = { bench: "bridge", measure: "keystroke echo p50, pod on a second engine", command, unit: "ms", better: "extra", pier: [], raw: [], rawIs };
  const p99: Row = { bench: "bridge", measure: "keystroke echo p99, pod on a second engine", command, unit: "ms", better: "extra", pier: [], raw: [], rawIs };
  for (let i = 0; i < runs; i++) {
    const r = await echoTimes(remote);
    const l = await echoTimes(local);
    p50.pier.push(percentile(r, 0.5));
    p50.raw!.push(percentile(l, 0.5));
    p99.pier.push(percentile(r, 0.99));
    p99.raw!.push(percentile(l, 0.99));
  }
  local.close();
  remote.close();
  report(`Keystroke echo through the bridge — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`, [p50, p99]);
} finally {
  await pier.stop();
  await engine.destroy();
}
