/**
 * `bun run bench`: runs the terminal benches and the previews' one after another, each as its own
 * process with its own Pier (bench/terminal-flood.ts, terminal-bulk.ts, terminal.ts for keystroke
 * echo, terminal-load.ts, preview.ts, and preview-floor.ts: what any preview with one hop can reach here),
 * and writes their rows to bench/RESULTS.md under a heading naming the run, with the machine, the
 * date and the commit. A run with the same label replaces its section; other sections are kept (so
 * a "before" and an "after" sit side by side).
 * Run: bun run bench [label=latest] [only=flood,bulk,echo,load,preview,floor] [out=bench/RESULTS.md] [-- args per bench: flood.runs=3 …]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { type Row, table } from "./terminal-kit.ts";

const BENCHES = {
  flood: "bench/terminal-flood.ts",
  bulk: "bench/terminal-bulk.ts",
  echo: "bench/terminal.ts",
  load: "bench/terminal-load.ts",
  preview: "bench/preview.ts",
  floor: "bench/preview-floor.ts",
} as const;
type Name = keyof typeof BENCHES;

const root = join(import.meta.dir, "..");
const options = new Map(process.argv.slice(2).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] as const));
const label = options.get("label") ?? "latest";
const out = options.get("out") ?? join(root, "bench", "RESULTS.md");
const only = (options.get("only")?.split(",") ?? Object.keys(BENCHES)) as Name[];
for (const name of only) if (!(name in BENCHES)) throw new Error(`Unknown bench ${name}; choose from ${Object.keys(BENCHES).join(", ")}.`);
/** `flood.runs=3` → `runs=3` for bench/terminal-flood.ts. */
const argsFor = (name: Name) => [...options].filter(([k]) => k.startsWith(`${name}.`)).map(([k, v]) => `${k.slice(name.length + 1)}=${v}`);

const dir = mkdtempSync(join(tmpdir(), "pier-bench-run-"));
const rows: Row[] = [];
const commands: string[] = [];
const failures: string[] = [];
try {
  for (const name of only) {
    const json = join(dir, `${name}.jsonl`);
    const argv = ["bun", BENCHES[name], ...argsFor(name)];
    commands.push(argv.join(" "));
    console.error(`[bench] ${argv.join(" ")}`);
    const child = Bun.spawn(argv, { cwd: root, env: { ...process.env, PIER_BENCH_JSON: json }, stdout: "inherit", stderr: "inherit" });
    const code = await child.exited;
    if (code !== 0 || !existsSync(json)) {
      failures.push(`${argv.join(" ")} exited with ${code}`);
      continue;
    }
    for (const line of readFileSync(json, "utf8").trim().split("\n")) rows.push(...(JSON.parse(line) as Row[]));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const docker = await new Docker().version().then((v) => v.Version, () => "unknown");
const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: root }).stdout.toString().trim() || "unknown";
const section = [
  `## ${label}`,
  "",
  `Machine: ${cpus()[0]?.model} × ${cpus().length}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Linux ${release()}, Docker ${docker}, Bun ${Bun.version}. ` +
    `Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. Commit: ${commit}.`,
  "",
  `Commands: ${commands.map((c) => `\`${c}\``).join(", ")}.`,
  "",
  "Median (min–max) of the runs; the raw column is the same work without Pier, measured in the same run, interleaved with Pier's: a `docker exec -it` into the same pod for the terminal, `curl` on 127.0.0.1 inside the pod for previews.",
  "",
  table(rows),
  ...(failures.length ? ["", `Failed: ${failures.join("; ")}.`] : []),
  "",
].join("\n");

const HEAD = "# Terminal benchmarks\n\nWritten by `bun run bench` (bench/run.ts). Each section is one run; a new run with the same label replaces it.\n\n";
const previous = existsSync(out) ? readFileSync(out, "utf8") : HEAD;
const sections = previous.split(/^(?=## )/m);
const head = sections[0]!.startsWith("## ") ? HEAD : sections.shift()!;
const kept = sections.filter((s) => s.split("\n")[0] !== `## ${label}`);
writeFileSync(out, head + [...kept, section].map((s) => s.trimEnd() + "\n").join("\n"));
console.error(`[bench] wrote ${out}`);
process.exit(failures.length ? 1 : 0);
