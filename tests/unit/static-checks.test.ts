import { expect, test } from "bun:test";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

async function run(cmd: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(cmd, { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: out + err };
}

test("the TypeScript typecheck passes", async () => {
  const { code, output } = await run(["bun", "x", "tsc", "--noEmit"]);
  expect(output).toBe("");
  expect(code).toBe(0);
}, 120_000);

test("xss-scan finds no unescaped user content in the views", async () => {
  const { code, output } = await run(["bun", "x", "xss-scan"]);
  expect(output).toContain("No XSS vulnerabilities found");
  expect(code).toBe(0);
}, 120_000);
