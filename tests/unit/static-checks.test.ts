import { Glob } from "bun";
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

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

/** The project's source files under `dir`, as paths from the project root. */
function sourceFiles(dir: string): string[] {
  return [...new Glob(`${dir}/**/*.{ts,tsx}`).scanSync({ cwd: root })].sort();
}

/**
 * What a file imports or re-exports by a relative path (types included), each as a path from
 * the project root: `import … from`, `export … from`, `import "…"` and `import("…")`.
 */
function localImports(file: string): string[] {
  const source = readFileSync(join(root, file), "utf8");
  return [...source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']*)["']/g)].map((match) =>
    relative(root, resolve(root, dirname(file), match[1]!)),
  );
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

test("no module under src/ but the web layer imports the web layer (src/http, views)", () => {
  // The entry points put the web layer on top of the domains; nothing else may reach up to it.
  const allowed = (file: string) => inside(file, "src/http") || inside(file, "src/client") || file === "src/main.ts" || file === "src/server.ts";
  const files = sourceFiles("src").filter((file) => !allowed(file));
  expect(files).toContain("src/pier.ts");
  const reachingUp = files.flatMap((file) =>
    localImports(file)
      .filter((target) => inside(target, "src/http") || inside(target, "views"))
      .map((target) => `${file} imports ${target}`),
  );
  expect(reachingUp).toEqual([]);
});

test("src/infra imports nothing outside src/infra (no domain module, no web layer)", () => {
  const files = sourceFiles("src/infra");
  expect(files).toContain("src/infra/db.ts");
  const leaving = files.flatMap((file) =>
    localImports(file)
      .filter((target) => !inside(target, "src/infra"))
      .map((target) => `${file} imports ${target}`),
  );
  expect(leaving).toEqual([]);
});

test("the web layer (src/http, views) never touches the database: every domain is reached through its door on pier", () => {
  const files = [...sourceFiles("src/http"), ...sourceFiles("views")];
  expect(files).toContain("src/http/api/repo-routes.ts");
  const touching = files.flatMap((file) => {
    const source = readFileSync(join(root, file), "utf8");
    const imports = localImports(file)
      .filter((target) => target === "src/infra/db.ts")
      .map((target) => `${file} imports ${target}`);
    const mentions = [...source.matchAll(/\.db\b|\[\s*["'`]db["'`]\s*\]/g)].map((match) => `${file} mentions ${match[0]}`);
    return [...imports, ...mentions];
  });
  expect(touching).toEqual([]);
});

test("no import cycles among src/ and views/ modules (type imports count)", () => {
  // A cycle makes two modules one: neither can be read, changed or loaded without the other.
  const files = [...sourceFiles("src"), ...sourceFiles("views")];
  expect(files).toContain("src/sessions/sessions.ts");
  const known = new Set(files);
  const importsOf = new Map(files.map((file) => [file, localImports(file).filter((target) => known.has(target))]));
  // Depth first: an import of a module still on the path closes a cycle, listed from that module round.
  const done = new Set<string>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string) => {
    path.push(file);
    for (const target of importsOf.get(file)!) {
      const at = path.indexOf(target);
      if (at >= 0) cycles.push([...path.slice(at), target].join(" -> "));
      else if (!done.has(target)) visit(target);
    }
    path.pop();
    done.add(file);
  };
  for (const file of files) if (!done.has(file)) visit(file);
  expect(cycles).toEqual([]);
});

test("every test that starts a Pier closes it for good, so none of its pods or shells runs on after the file", () => {
  // Pods (tmux servers on the local runtime) outlive Pier by design, and a live session's terminal
  // can make one again while it is being removed: only closeForGood (stopForGood for a Pier
  // process, tearDownRuns for the runs' tests) removes what is left of the instance once Pier has
  // stopped. Checked here, by the text of the file, because a leftover found at the end of a run
  // on a shared engine or machine could not be told apart from another run's or traced to the
  // file that left it. A helper that starts one (startAcpTestPier) is a file too.
  const startsPier = /\b(?:startTestPier|startPierProcess)\(/;
  const closesForGood = /\b(?:closeForGood|stopForGood|tearDownRuns)\(/;
  const files = sourceFiles("tests").filter((file) => startsPier.test(readFileSync(join(root, file), "utf8")));
  expect(files).toContain("tests/support/acp-engine.ts");
  expect(files).toContain("tests/faults/pier-sigkill-acp.test.ts");
  expect(files).toContain("tests/environments/local-runtime-environment.test.ts");
  const leaving = files.filter((file) => !closesForGood.test(readFileSync(join(root, file), "utf8")));
  expect(leaving).toEqual([]);
});
