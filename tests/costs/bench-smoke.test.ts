/** bench/costs.ts with tiny sizes, so the benchmark cannot rot; its timings are not judged here. */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("bench/costs.ts seeds, starts Pier, times every request and prints its table", async () => {
  const bench = Bun.spawn(["bun", "bench/costs.ts", "30", "300", "2"], { cwd: join(import.meta.dir, "..", ".."), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(bench.stdout).text(), new Response(bench.stderr).text(), bench.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out).toContain("Dashboard, history and costs with 30 sessions and 300 ledger rows");
  expect(out).toContain("| request | p50 | p99 | size |");
  for (const row of ["| Dashboard |", "| History page, first page |", "| History page, words in title or branch |", "| Costs page, this month (default) |"]) expect(out).toContain(row);
  for (const row of ["Costs page, this month (default)", "GET /api/costs?groupBy=session", "CSV export by session (with titles)"]) expect(out).toMatch(new RegExp(`\\| ${row.replace(/[?()]/g, "\\$&")} \\| [\\d.]+ ms \\| [\\d.]+ ms \\|`));
}, 120_000);
