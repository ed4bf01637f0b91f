/**
 * The terminal benches with tiny sizes, so they cannot rot; their figures are not judged here
 * (speed is the benches' business), only that each runs, measures both sides and prints its rows.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

async function runBench(argv: string[]): Promise<string> {
  const bench = Bun.spawn(["bun", ...argv], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(bench.stdout).text(), new Response(bench.stderr).text(), bench.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}: ${err}`);
  return out;
}

/** A table row: the measure, then a number with its unit in the Pier column (and the raw one when asked). */
const row = (measure: string, raw: boolean) =>
  new RegExp(`\\| ${measure.replace(/[()+*?]/g, "\\$&")} \\| .*? \\| \\d+ \\| -?[\\d.]+ \\S* \\([^)]*\\) \\| ${raw ? "[\\d.]+ \\S* \\(" : "—"}`);

describe("terminal benches at tiny sizes", () => {
  test("flood: a 1 MB print and Ctrl+C in a flood, through Pier and raw", async () => {
    const out = await runBench(["bench/terminal-flood.ts", "sizes=1", "runs=1"]);
    expect(out).toMatch(row("1 MB printed → prompt", true));
    expect(out).toMatch(row("Ctrl+C in a flood → prompt", true));
  }, 180_000);

  test("bulk: a 1 MB stream's rate, through Pier and raw", async () => {
    const out = await runBench(["bench/terminal-bulk.ts", "mb=1", "runs=1"]);
    expect(out).toMatch(row("1 MB stream, rate at the viewer", true));
    expect(out).toMatch(/bytes received of the raw run's \| .*? \| 1 \| (9\d|1\d\d)(\.\d+)? %/);
  }, 180_000);

  test("echo: keystroke echo p50 and p99, through Pier and raw", async () => {
    const out = await runBench(["bench/terminal.ts", "keys=5", "runs=1"]);
    expect(out).toMatch(row("keystroke echo p50", true));
    expect(out).toMatch(row("keystroke echo p99", true));
  }, 180_000);

  test("load: two terminals for two seconds (one a pod), every byte delivered, none closed", async () => {
    const out = await runBench(["bench/terminal-load.ts", "n=2", "seconds=2", "perpod=1"]);
    expect(out).toMatch(/2 terminals \(1 a pod\) × 2 s: bytes delivered of intended, per terminal \| [^|]* \| 2 \| 100 % \(100–100\)/);
    expect(out).toMatch(/sockets closed by the server \| [^|]* \| 1 \| 0\.00 /);
    expect(out).toMatch(row("2 terminals (1 a pod) × 2 s: server memory per terminal", false));
  }, 180_000);

  test("bun run bench writes its section to the results file, keeping other runs' sections", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pier-bench-results-"));
    const out = join(dir, "RESULTS.md");
    try {
      await runBench(["bench/run.ts", "label=first", "only=echo", `out=${out}`, "echo.keys=3", "echo.runs=1"]);
      await runBench(["bench/run.ts", "label=second", "only=echo", `out=${out}`, "echo.keys=3", "echo.runs=1"]);
      await runBench(["bench/run.ts", "label=first", "only=echo", `out=${out}`, "echo.keys=4", "echo.runs=1"]);
      const text = readFileSync(out, "utf8");
      expect(text.match(/^## /gm)).toHaveLength(2);
      expect(text).toContain("## second");
      expect(text).toMatch(/## first[\s\S]*Machine: .+ × \d+, [\d.]+ GiB RAM[\s\S]*`bun bench\/terminal.ts keys=4 runs=1`/);
      expect(text).toMatch(row("keystroke echo p50", true));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
