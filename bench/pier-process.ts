import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerTestEnv } from "../tests/support/workspace-image.ts";

/**
 * Pier as its own process for a benchmark, the way `bun start` runs it: Docker runtime, the
 * suite's test workspace image, pods without network, local repositories allowed.
 */
export async function startBenchPier(name: string, extraEnv: Record<string, string> = {}) {
  const dockerEnv = await dockerTestEnv();
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  const dataDir = mkdtempSync(join(tmpdir(), `pier-bench-${name}-`));
  const server = Bun.spawn(["bun", "src/main.ts"], {
    cwd: join(import.meta.dir, ".."),
    env: {
      ...process.env,
      PIER_PORT: String(port),
      PIER_HOST: "127.0.0.1",
      PIER_DATA_DIR: dataDir,
      ...dockerEnv,
      ...extraEnv,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400 && !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); i++) await Bun.sleep(25);
  return {
    base,
    /** Resident memory now, and its peak so far, in MiB. */
    memory() {
      const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
      const kib = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))![1]);
      return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
    },
    async stop() {
      server.kill("SIGTERM");
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
