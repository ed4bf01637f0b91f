/**
 * bench/sessions.ts with one run of each case, so it cannot rot; its figures are not judged here
 * (speed is the bench's business), only that it measures each case to the prompt and that the
 * server's trace of each start (PIER_TRACE) comes through, from Pier and from the pod's script.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

test("the sessions bench times warm and cold starts to active, first screen and prompt, and prints where the time went", async () => {
  const bench = Bun.spawn(["bun", "bench/sessions.ts", "1"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(bench.stdout).text(), new Response(bench.stderr).text(), bench.exited]);
  expect(code, err).toBe(0);
  for (const name of ["warm pod (running)", "cold pod (container created, image present)"]) {
    for (const to of ["active", "first screen", "prompt"]) expect(out).toMatch(new RegExp(`\\| ${name.replace(/[()]/g, "\\$&")} \\| ${to} \\| \\d+ ms \\|`));
  }
  const [warm = "", cold = ""] = out.split("Where the time goes, ").slice(1);
  for (const step of ["mirror: fetch", "pod: ensure", "docker: exec bash", "worktree: clone-fetch", "worktree: worktree-add", "active", "terminal: tmux and holder"]) {
    expect(warm).toMatch(new RegExp(`\\| ${step} \\| [\\d.]+ ms \\| [\\d.]+ ms \\|`));
  }
  expect(cold).toMatch(/\| docker: create pod \| [\d.]+ ms \| [\d.]+ ms \|/);
}, 300_000);
