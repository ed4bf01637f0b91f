import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

test("`bun src/main.ts` serves Pier, prints its URL and stops cleanly on SIGTERM", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-cli-"));
  const child = Bun.spawn(["bun", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, PIER_PORT: "0", PIER_PREVIEW_PORT: "0", PIER_HOST: "127.0.0.1", PIER_DATA_DIR: dataDir, PIER_RUNTIME: "local" },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = child.stdout.getReader();
    let out = "";
    while (!/http:\/\/\S+:\d+/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    const url = out.match(/(http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    expect(url).toBeDefined();
    expect(out).toContain("runtime: local");
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toMatchObject({ ok: true, db: "ok", runtime: "local" });
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  } finally {
    child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a bad environment value stops start-up with one sentence naming the variable", async () => {
  const child = Bun.spawn(["bun", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, PIER_RUNTIME: "kubernetes", PIER_PORT: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await child.exited).toBe(1);
  const err = await new Response(child.stderr).text();
  expect(err.trim()).toBe('Pier cannot start: PIER_RUNTIME must be one of auto, docker, local, not "kubernetes".');
});
