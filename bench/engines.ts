/**
 * A pod on another Docker engine against one on the local engine, in the same run: a warm
 * session's start (POST /api/sessions → active, the person's pod already running) and keystroke
 * echo through Pier's WebSocket (one character typed, its echo seen, KEYS times per run; p50 and
 * p99 of each run). The other engine is a second dockerd of the bench's own on this machine
 * (tests/support/second-engine.ts), so the figures are what the engine's routing, the pod's files
 * written through the engine and the bridge cost, not a network. Pods use host networking: a pod
 * on another engine clones from Pier's /git on 127.0.0.1. Runs interleave the two engines.
 * Run: bun bench/engines.ts [runs=5] [keys=200]   (needs Docker and dockerd)
 */
import { cpus } from "node:os";
import { startSecondEngine } from "../tests/support/second-engine.ts";
import { benchApi, removeRepoPods, sessionUntilActive } from "./pier-process.ts";
import { type Row, arg, benchPier, echoTimes, percentile, report } from "./terminal-kit.ts";

const runs = arg("runs", 5);
const keys = arg("keys", 200);

const engine = await startSecondEngine();
const pier = await benchPier("engines", { PIER_POD_NETWORK: "host" });
let localRepo = "";
try {
  const api = benchApi(pier.base);
  await pier.post("/api/config/docker-engines", { name: "second", host: engine.host });
  localRepo = await pier.repo("engines-local");
  const remoteRepo = await pier.repo("engines-remote", { dockerEngine: "second" });
  // The pods made and the clones there: every start measured after is a warm one.
  const local = await pier.viewer((await pier.session(undefined, localRepo)).id);
  const remote = await pier.viewer((await pier.session(undefined, remoteRepo)).id);
  const warmStart = async (repoId: string) => {
    const { id, active } = await sessionUntilActive(api, pier.token, repoId);
    await api(`/api/sessions/${id}/end`, { method: "POST", token: pier.token });
    return active;
  };

  const rawIs = "through Pier, a pod on the local engine";
  const start: Row = { bench: "engines", measure: "warm session start, pod on a second engine", command: "POST /api/sessions → active", unit: "ms", better: "extra", pier: [], raw: [], rawIs };
  const p50: Row = { bench: "engines", measure: "keystroke echo p50, pod on a second engine", command: `${keys} single keystrokes at the prompt`, unit: "ms", better: "extra", pier: [], raw: [], rawIs };
  const p99: Row = { ...p50, measure: "keystroke echo p99, pod on a second engine", pier: [], raw: [] };
  for (let i = 0; i < runs; i++) {
    start.pier.push(await warmStart(remoteRepo));
    start.raw!.push(await warmStart(localRepo));
    const r = await echoTimes(remote, keys);
    const l = await echoTimes(local, keys);
    p50.pier.push(percentile(r, 0.5));
    p50.raw!.push(percentile(l, 0.5));
    p99.pier.push(percentile(r, 0.99));
    p99.raw!.push(percentile(l, 0.99));
  }
  local.close();
  remote.close();
  report(`A pod on a second engine against the local one — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`, [start, p50, p99]);
} finally {
  await pier.stop();
  // Pods outlive Pier by design; the bench's go with it (those on the second engine with that engine).
  if (localRepo) await removeRepoPods(localRepo);
  await engine.destroy();
}
