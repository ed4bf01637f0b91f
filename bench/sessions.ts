/**
 * Time from POST /api/sessions to `active`: on a warm pod (already running) and on a cold pod
 * (no container yet, image present), median of N runs each, plus the server's peak memory.
 * Uses the Docker runtime with the suite's test workspace image and a local bare repository.
 * Run: bun bench/sessions.ts [runs]   (needs a Docker engine)
 */
import Docker from "dockerode";
import { cpus } from "node:os";
import { makeRemoteRepo } from "../tests/support/git-fixtures.ts";
import { startBenchPier } from "./pier-process.ts";

const runs = Number(process.argv[2] ?? 10);
const pier = await startBenchPier("sessions");
const base = pier.base;

async function api(path: string, init: RequestInit & { token?: string } = {}): Promise<any> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(base + path, { ...init, headers });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const docker = new Docker();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  await api("/api/setup", { method: "POST", body: JSON.stringify({ username: "bench", password: "bench password" }) });
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "bench", password: "bench password" }),
  });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const tokenRes = await fetch(`${base}/api/tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) });
  const { token } = (await tokenRes.json()) as { token: string };
  const repo = await api("/api/repos", { method: "POST", token, body: JSON.stringify({ url: `file://${makeRemoteRepo("bench").path}` }) });

  const oneSession = async (): Promise<number> => {
    const started = performance.now();
    const session = await api("/api/sessions", { method: "POST", token, body: JSON.stringify({ repoId: repo.id }) });
    for (;;) {
      const now = await api(`/api/sessions/${session.id}`, { token });
      if (now.state === "active") break;
      if (now.state === "failed") throw new Error(now.error);
      await Bun.sleep(2);
    }
    const ms = performance.now() - started;
    await api(`/api/sessions/${session.id}/end`, { method: "POST", token });
    return ms;
  };
  const removePod = async () => {
    const pods = await docker.listContainers({ all: true, filters: { label: [`pier.repo=${repo.id}`] } });
    for (const pod of pods) await docker.getContainer(pod.Id).remove({ force: true });
  };

  await oneSession(); // creates the pod and the clone
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) warm.push(await oneSession());
  const cold: number[] = [];
  for (let i = 0; i < runs; i++) {
    await removePod();
    cold.push(await oneSession());
  }
  await removePod();

  console.log(`POST /api/sessions → active, ${runs} runs each — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, Docker ${(await docker.version()).Version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log("| case | median | min | max |");
  console.log("|---|---|---|---|");
  for (const [name, xs] of [["warm pod (running)", warm], ["cold pod (container created, image present)", cold]] as const) {
    console.log(`| ${name} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`);
  }
  console.log(`\nPeak server memory (VmHWM) over the whole run: ${pier.memory().peak.toFixed(1)} MiB`);
} finally {
  await pier.stop();
}
