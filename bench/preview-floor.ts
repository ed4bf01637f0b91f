/**
 * The floor of issue 26's throughput target on this machine: what any preview design that puts
 * one process between the browser and the app can reach, measured without Pier, pods or Docker.
 * A Bun app serves MB from memory on 127.0.0.1; `curl --parallel` fetches STREAMS × MB from it
 * directly, and through one bare hop: a listener of this bench that reads the request head,
 * forwards it to the app and hands both connections to Pier's own splicer (`pier-relay splice`,
 * the kernel's splice(2), no byte in user space), runs interleaved. Pier's preview has that hop
 * and the pod's relay besides, so its ratio to inside the pod cannot beat this one's to direct.
 * Also told: the whole machine's CPU per GB carried and how busy its cores were (/proc/stat).
 * Run: bun bench/preview-floor.ts [runs=5] [mb=50] [streams=20]
 */
import { readFileSync } from "node:fs";
import { type Socket, connect, createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { RelayBuild } from "../src/previews/relay-build.ts";
import { Splicer } from "../src/previews/splicer.ts";
import { type Row, arg, report } from "./terminal-kit.ts";

const runs = arg("runs", 5);
const mb = arg("mb", 50);
const streams = arg("streams", 20);
const MiB = 1024 * 1024;

const APP = `const big = Buffer.alloc(${mb * MiB}, 121);
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch: () => new Response(big, { headers: { "content-type": "application/octet-stream" } }) });
console.log(server.port);`;

/** The machine's busy and total CPU time so far, in seconds (all cores). */
function machineCpu(): { busy: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1, 8).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq!;
  return { busy: busy / 100, total: (busy + idle! + iowait!) / 100 };
}

/** `curl --parallel` of STREAMS downloads of `url`: aggregate MB/s, the machine's CPU seconds per GB, and the share of its cores that were busy. */
async function download(url: string): Promise<{ rate: number; cpuPerGb: number; busy: number }> {
  const before = machineCpu();
  const started = performance.now();
  const child = Bun.spawn(["curl", "-sS", "--fail", "--parallel", "--parallel-max", String(streams), "-w", "%{size_download}\n", ...Array.from({ length: streams }, () => ["-o", "/dev/null", url]).flat()], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const seconds = (performance.now() - started) / 1000;
  const after = machineCpu();
  if (code !== 0) throw new Error(`curl exited ${code}: ${err.trim()}`);
  const bytes = out.trim().split("\n").reduce((sum, line) => sum + Number(line), 0);
  if (bytes !== streams * mb * MiB) throw new Error(`curl --parallel: ${bytes} bytes of ${streams * mb * MiB}`);
  const gigabytes = bytes / 1024 / MiB;
  return { rate: bytes / MiB / seconds, cpuPerGb: (after.busy - before.busy) / gigabytes, busy: (after.busy - before.busy) / (after.total - before.total) };
}

/** The one hop: each connection's request head goes to the app, then the splicer carries the answer back. */
function oneHop(splicer: Splicer, appPort: number): Promise<{ port: number; close(): void }> {
  const server = createServer((browser: Socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes("\r\n\r\n")) return;
      browser.off("data", onData);
      // As Pier asks it of the app for a spliced answer: the app's end of the answer ends the splice.
      head = Buffer.from(head.toString("latin1").replace(/\r\n\r\n$/, "\r\nConnection: close\r\n\r\n"), "latin1");
      browser.pause();
      const app = connect(appPort, "127.0.0.1", () => {
        app.pause();
        app.write(head, () => void splicer.carry(Buffer.alloc(0), browser, app).done);
      });
    };
    browser.on("data", onData);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as { port: number }).port, close: () => server.close() })));
}

const build = new RelayBuild({ toolsDir: process.env.PIER_TOOLS_DIR ?? `${tmpdir()}/pier-bench-tools` });
const splicer = new Splicer({ binary: () => build.binary() });
if (!(await splicer.whenReady())) throw new Error("the splicer (pier-relay splice) could not be built here");
const app = Bun.spawn(["bun", "-e", APP], { stdout: "pipe", stderr: "inherit" });
const appPort = await portSaid(app.stdout);
const hop = await oneHop(splicer, appPort);

/** The port the app prints on its first line. */
async function portSaid(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.getReader();
  let said = "";
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    said += new TextDecoder().decode(read.value);
    if (said.includes("\n")) return Number(said.split("\n")[0]);
  }
  throw new Error(`the app did not say its port (exited ${await app.exited})`);
}

try {
  const command = `${streams} × ${mb} MB at once`;
  const rawIs = "direct (curl to the app)";
  const pierIs = "through one bare hop (Pier's splicer alone)";
  const rate: Row = { bench: "preview-floor", measure: `${mb} MB downloads, aggregate`, command, unit: "MB/s", better: "higher", pier: [], raw: [], rawIs, pierIs };
  const ratio: Row = { bench: "preview-floor", measure: `${mb} MB downloads, each run's own ratio`, command, unit: "of direct", better: "higher", pier: [], rawIs, pierIs, note: "issue 26's target for the whole preview: ≥ 0.8" };
  const cpu: Row = { bench: "preview-floor", measure: "the machine's CPU per GB carried", command, unit: "s/GB", better: "lower", pier: [], raw: [], rawIs, pierIs };
  const busy: Row = { bench: "preview-floor", measure: "share of the cores busy", command, unit: "", better: "lower", pier: [], raw: [], rawIs, pierIs };
  await download(`http://127.0.0.1:${hop.port}/big`);
  await download(`http://127.0.0.1:${appPort}/big`);
  for (let i = 0; i < runs; i++) {
    console.error(`[preview-floor] run ${i + 1} of ${runs}`);
    const through = await download(`http://127.0.0.1:${hop.port}/big`);
    const direct = await download(`http://127.0.0.1:${appPort}/big`);
    rate.pier.push(through.rate);
    rate.raw!.push(direct.rate);
    ratio.pier.push(through.rate / direct.rate);
    cpu.pier.push(through.cpuPerGb);
    cpu.raw!.push(direct.cpuPerGb);
    busy.pier.push(through.busy);
    busy.raw!.push(direct.busy);
  }
  report(`The floor of any preview with one hop — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`, [rate, ratio, cpu, busy]);
} finally {
  hop.close();
  app.kill();
}
