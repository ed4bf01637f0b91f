/**
 * Start-up time and memory of `bun src/main.ts`: from spawning the process to the first 200 from
 * /healthz, on a fresh data dir (first run: creates the database and key) and on a warm one.
 * Run: bun bench/startup.ts [runs]. Prints a Markdown table with the machine and the date.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const runs = Number(process.argv[2] ?? 10);

async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

async function startOnce(dataDir: string): Promise<{ ms: number; rssMiB: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = Bun.spawn(["bun", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, PIER_PORT: String(port), PIER_PREVIEW_PORT: "0", PIER_HOST: "127.0.0.1", PIER_DATA_DIR: dataDir, PIER_RUNTIME: "local" },
    stdout: "ignore",
    stderr: "inherit",
  });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (performance.now() - started > 30_000) throw new Error("Pier did not answer /healthz within 30 s");
      await Bun.sleep(5);
    }
    const ms = performance.now() - started;
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    const rssKiB = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    return { ms, rssMiB: rssKiB / 1024 };
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const cold: number[] = [];
const warm: number[] = [];
const rss: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), "pier-bench-"));
  try {
    cold.push((await startOnce(dir)).ms);
    const again = await startOnce(dir);
    warm.push(again.ms);
    rss.push(again.rssMiB);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`Pier start-up, ${runs} runs — ${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log("| measure | median | max |");
console.log("|---|---|---|");
console.log(`| spawn → /healthz 200, fresh data dir | ${median(cold).toFixed(0)} ms | ${Math.max(...cold).toFixed(0)} ms |`);
console.log(`| spawn → /healthz 200, existing data dir | ${median(warm).toFixed(0)} ms | ${Math.max(...warm).toFixed(0)} ms |`);
console.log(`| resident memory once ready | ${median(rss).toFixed(1)} MiB | ${Math.max(...rss).toFixed(1)} MiB |`);
