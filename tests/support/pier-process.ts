import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { settings } from "../../src/settings/tables.ts";
import { TEST_CACHE } from "./claude-code.ts";
import { endTmuxServers, removeInstanceFromEngine } from "./pier.ts";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * Pier as its own process (`bun src/main.ts`, as `bun start` runs it), for the tests that signal
 * it: SIGKILL cannot be sent to a Pier running inside the test's own process. It listens on one
 * port across restarts, as a real one does, so what pods were told of it stays true.
 */
export interface PierProcess {
  url: string;
  dataDir: string;
  /** fetch relative to the server's URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Sends the signal and waits for the process to end; its exit code (signal deaths as 128 + n). */
  signal(signal: "SIGTERM" | "SIGKILL"): Promise<number>;
  /** Everything it wrote to stderr so far, for a failing test's message. */
  stderr(): string;
  process: Subprocess;
}

/** The environment a test Pier process runs with, `env` adding or overriding. */
export function pierProcessEnv(dataDir: string, port: number, env: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    PIER_HOST: "127.0.0.1",
    PIER_PORT: String(port),
    PIER_PREVIEW_PORT: "0",
    PIER_DATA_DIR: dataDir,
    PIER_RUNTIME: "local",
    PIER_TOOLS_DIR: TEST_CACHE,
    ...env,
  };
}

export async function startPierProcess(dataDir: string, port: number, env: Record<string, string> = {}): Promise<PierProcess> {
  const child = Bun.spawn(["bun", "src/main.ts"], { cwd: ROOT, env: pierProcessEnv(dataDir, port, env), stdout: "pipe", stderr: "pipe" });
  let err = "";
  void (async () => {
    const errors = child.stderr.getReader();
    for (let read = await errors.read(); !read.done; read = await errors.read()) err += new TextDecoder().decode(read.value);
  })();
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("Pier is ready at ")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Pier exited before it was ready: ${out}${err}`);
    out += new TextDecoder().decode(value);
  }
  // Its further output is read and let go, so a full pipe never blocks it.
  void (async () => {
    while (!(await reader.read()).done);
  })();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    dataDir,
    process: child,
    fetch: (path, init) => fetch(url + path, { redirect: "manual", ...init }),
    async signal(signal) {
      child.kill(signal);
      return await child.exited;
    },
    stderr: () => err,
  };
}

/**
 * Stops a test Pier process for good, as closeForGood closes one in the test's own process: its
 * pods (or, on the local runtime, its tmux servers) outlive it by design, so once it has stopped
 * (nothing makes one again) whatever of its instance is on the engine or this machine goes, the
 * instance read from the database it leaves in its data dir.
 */
export async function stopForGood(pier: PierProcess): Promise<void> {
  await pier.signal("SIGTERM");
  const instance = instanceOf(pier.dataDir);
  if (!instance) return;
  // Which runtime it ran on is not asked: each finds nothing of the other's.
  endTmuxServers(instance);
  removeInstanceFromEngine(instance);
}

/** The id a stopped Pier labels its containers with, from its database (none before its first start). */
function instanceOf(dataDir: string): string | null {
  const file = join(dataDir, "pier.db");
  if (!existsSync(file)) return null;
  const sqlite = new Database(file, { readonly: true });
  try {
    return drizzle({ client: sqlite }).select().from(settings).where(eq(settings.key, "instanceId")).get()?.value ?? null;
  } finally {
    sqlite.close();
  }
}

/** A port nothing listens on now, for a Pier that keeps it across restarts. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
