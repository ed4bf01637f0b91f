/**
 * Web app previews (issue 26): a Bun static server in a real pod on network `none`, reached
 * through Pier's preview listener (PIER_PREVIEW_PORT) and the pod's relay, against `curl` run
 * inside the same pod on 127.0.0.1, runs interleaved:
 *   - latency: REQUESTS sequential 1 KiB GETs on one kept-alive connection (node:http, as a
 *     browser's connection would be, admitted with a real grant), p50 and p99, against one curl
 *     process fetching the same URL REQUESTS times on one connection (`-w %{time_total}`);
 *   - throughput: STREAMS downloads of MB at once, aggregate MB/s from the first request to the
 *     last byte, against `curl --parallel --parallel-max STREAMS` of the same inside the pod.
 * Both are also taken with curl on this machine as the client through the preview, so the
 * client is the same program on both sides and what is left is Pier's. Where the CPU goes for
 * the downloads is told too: seconds per GB carried of Pier, of the splicers it started for large
 * answers (its children), of the pod's relay and of the app (the app's also inside the pod), read from /proc.
 * Run: bun bench/preview.ts [runs=5] [requests=1000] [mb=50] [streams=20]   (needs a Docker engine)
 */
import Docker from "dockerode";
import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { cpus } from "node:os";
import { PassThrough } from "node:stream";
import { childrenCpuSeconds, cpuSeconds } from "./pier-process.ts";
import { type Row, arg, benchPier, median, percentile, report } from "./terminal-kit.ts";

const runs = arg("runs", 5);
const requests = arg("requests", 1000);
const mb = arg("mb", 50);
const streams = arg("streams", 20);
const APP_PORT = 4100;
const IN_POD = `http://127.0.0.1:${APP_PORT}`;
const MiB = 1024 * 1024;

/** The app: the same bytes for every request, 1 KiB or MB, as a static server serves a file it has read. */
const APP_SCRIPT = `
const small = Buffer.alloc(1024, 120);
const big = Buffer.alloc(${mb * MiB}, 121);
const kind = { "content-type": "application/octet-stream" };
Bun.serve({
  port: ${APP_PORT},
  idleTimeout: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/1k") return new Response(small, { headers: kind });
    if (path === "/big") return new Response(big, { headers: kind });
    return new Response("not here", { status: 404 });
  },
});
`;

const docker = new Docker();

/** A command in the pod as its user, by one `docker exec`: its stdout, or it throws with its stderr. */
async function inPod(podId: string, command: string[]): Promise<string> {
  const exec = await docker.getContainer(podId).exec({ Cmd: command, User: "1000:1000", AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  err.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise((resolve) => stream.once("end", resolve).once("close", resolve));
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw new Error(`${command[0]} in the pod exited ${ExitCode}: ${stderr.trim()}`);
  return stdout;
}

/** A GET through the preview listener with the preview's Host: its status, headers and body length. */
function get(listenerPort: number, host: string, path: string, headers: Record<string, string>, agent: Agent | false) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; bytes: number }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: listenerPort, path, agent, headers: { host, ...headers } });
    req.once("error", reject);
    req.once("response", (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.once("end", () => resolve({ status: res.statusCode!, headers: res.headers, bytes }));
      res.once("error", reject);
    });
    req.end();
  });
}

/** Pier's door to the preview, as a signed-in browser opens it: the grant's URL on the preview origin, once the app listens. */
async function grantUrl(base: string, cookie: string, sessionId: string): Promise<URL> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${base}/sessions/${sessionId}/ports/${APP_PORT}`, { headers: { cookie }, redirect: "manual" });
    if (res.status === 302) return new URL(res.headers.get("location")!);
    if (Date.now() > deadline) throw new Error(`the preview did not open: ${res.status} ${await res.text()}`);
    await Bun.sleep(200);
  }
}

/** Sequential GETs of 1 KiB on one kept-alive connection through the preview: each one's time, ms. */
async function previewLatency(port: number, host: string, cookie: string): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const answer = await get(port, host, "/1k", { cookie }, agent);
      times.push(performance.now() - started);
      if (answer.status !== 200 || answer.bytes !== 1024) throw new Error(`GET /1k through the preview: ${answer.status}, ${answer.bytes} bytes`);
    }
  } finally {
    agent.destroy();
  }
  return times;
}

/** The same GETs by one curl process (which keeps its connection for every URL), each one's time_total, ms. */
async function curlLatency(run: (argv: string[]) => Promise<string>, url: string, extra: string[] = []): Promise<number[]> {
  const argv = ["curl", "-sS", "--fail", ...extra, "-w", "%{time_total}\\n", ...Array.from({ length: requests }, () => ["-o", "/dev/null", url]).flat()];
  const times = (await run(argv)).trim().split("\n").map((s) => Number(s) * 1000);
  if (times.length !== requests || times.some((t) => !Number.isFinite(t))) throw new Error(`curl gave ${times.length} times for ${requests} requests`);
  return times;
}

/** STREAMS downloads at once through the preview, each on its own connection: aggregate MB/s. */
async function previewThroughput(port: number, host: string, cookie: string): Promise<number> {
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: streams }, () => get(port, host, "/big", { cookie }, false)));
  const seconds = (performance.now() - started) / 1000;
  const bytes = answers.reduce((sum, a) => sum + a.bytes, 0);
  if (bytes !== streams * mb * MiB) throw new Error(`through the preview: ${bytes} bytes of ${streams * mb * MiB}`);
  return bytes / MiB / seconds;
}

/** The same downloads by `curl --parallel`, timed by the shell around it: aggregate MB/s. */
async function curlThroughput(run: (argv: string[]) => Promise<string>, url: string, extra: string[] = []): Promise<number> {
  const downloads = Array.from({ length: streams }, () => ["-o", "/dev/null", url]).flat();
  const script = 's=$(date +%s%N); curl -sS --fail --parallel --parallel-max "$0" -w "%{size_download}\\n" "$@"; e=$(date +%s%N); echo "ns $((e - s))"';
  const lines = (await run(["bash", "-c", script, String(streams), ...extra, ...downloads])).trim().split("\n");
  const ns = Number(lines.pop()!.slice(3));
  const bytes = lines.reduce((sum, line) => sum + Number(line), 0);
  if (bytes !== streams * mb * MiB) throw new Error(`curl --parallel: ${bytes} bytes of ${streams * mb * MiB}`);
  return bytes / MiB / (ns / 1e9);
}

/** The host's process id of the pod's process whose command line starts with `command`. */
async function podProcess(podId: string, command: RegExp): Promise<number> {
  const top = (await docker.getContainer(podId).top({ ps_args: "-eo pid,args" })) as { Processes: string[][] };
  const found = top.Processes.find(([, args]) => command.test(args ?? ""));
  if (!found) throw new Error(`no process ${command} in the pod`);
  return Number(found[0]);
}

/** What `work` cost each process, in CPU seconds per GB of `gigabytes`. */
async function cpuPerGb(pids: number[], gigabytes: number, work: () => Promise<number>, children?: number): Promise<{ result: number; perGb: number[]; childrenPerGb: number }> {
  const before = pids.map(cpuSeconds);
  const childrenBefore = children ? childrenCpuSeconds(children) : 0;
  const result = await work();
  // Children count once reaped: a moment for the last splicers' exits to be taken.
  if (children) await Bun.sleep(200);
  return {
    result,
    perGb: pids.map((pid, i) => (cpuSeconds(pid) - before[i]!) / gigabytes),
    childrenPerGb: children ? (childrenCpuSeconds(children) - childrenBefore) / gigabytes : 0,
  };
}

/** A command on this machine (curl through the preview): its stdout. */
async function here(argv: string[]): Promise<string> {
  const child = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${argv[0]} exited ${code}: ${stderr.trim()}`);
  return stdout;
}

const pier = await benchPier("preview");
try {
  const session = await pier.session();
  const podShell = (argv: string[]) => inPod(session.podId, argv);
  await podShell(["bash", "-c", 'setsid bun -e "$0" </dev/null >/tmp/app.log 2>&1 & echo started', APP_SCRIPT]);

  // A signed-in browser opening the preview: Pier's 302 to the grant, the grant's 302 with the origin's cookie.
  const grant = await grantUrl(pier.base, pier.cookie, session.id);
  const host = grant.host;
  const listenerPort = Number(grant.port);
  const redeemed = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
    request({ host: "127.0.0.1", port: listenerPort, path: grant.pathname + grant.search, agent: false, headers: { host } }, (res) => {
      res.resume();
      res.statusCode === 302 ? resolve(res.headers) : reject(new Error(`the grant was refused: ${res.statusCode}`));
    }).end();
  });
  const cookie = redeemed["set-cookie"]!.map((line) => line.split(";")[0]!).find((pair) => pair.startsWith("pier_preview="))!;
  const [relayPid, appPid] = [await podProcess(session.podId, /pier-relay start/), await podProcess(session.podId, /^bun -e/)];
  const gigabytes = (streams * mb) / 1024;
  const throughHost = (path: string) => [`http://127.0.0.1:${listenerPort}${path}`, ["-H", `Host: ${host}`, "-H", `Cookie: ${cookie}`]] as const;

  // Warm: the app's first answers, the relay's first connections, the JIT on every side.
  await previewLatency(listenerPort, host, cookie);
  await curlLatency(podShell, `${IN_POD}/1k`);

  const latencyCommand = `${requests} sequential GETs of 1 KiB, one kept-alive connection`;
  const throughputCommand = `${streams} × ${mb} MB at once`;
  const rawIs = "inside the pod (curl on 127.0.0.1)";
  const row = (measure: string, command: string, unit: string, better: Row["better"], note?: string): Row => ({ bench: "preview", measure, command, unit, better, pier: [], raw: [], note, rawIs });
  const p50 = row("1 KiB GET p50 (node:http client)", latencyCommand, "ms", "extra");
  const p99 = row("1 KiB GET p99 (node:http client)", latencyCommand, "ms", "extra");
  const curlP50 = row("1 KiB GET p50 (curl client)", latencyCommand, "ms", "extra");
  const curlP99 = row("1 KiB GET p99 (curl client)", latencyCommand, "ms", "extra");
  const rate = row(`${mb} MB downloads, aggregate (node:http client)`, throughputCommand, "MB/s", "higher", "target ≥ 0.8");
  const curlRate = row(`${mb} MB downloads, aggregate (curl client)`, throughputCommand, "MB/s", "higher", "target ≥ 0.8");
  // Each run's own ratio: runs sharing the machine with other work move both sides together, which a ratio of medians hides.
  const ratioRow = (client: string): Row => ({ bench: "preview", measure: `${mb} MB downloads, each run's own ratio (${client} client)`, command: throughputCommand, unit: "of inside the pod", better: "higher", pier: [], note: "target ≥ 0.8", rawIs });
  const rateRatio = ratioRow("node:http");
  const curlRateRatio = ratioRow("curl");
  const cpuRow = (whose: string, raw: boolean): Row => ({ bench: "preview", measure: `CPU per GB carried, ${whose} (curl client)`, command: throughputCommand, unit: "s/GB", better: "lower", pier: [], raw: raw ? [] : undefined, rawIs });
  const pierCpu = cpuRow("Pier", false);
  const splicerCpu = cpuRow("Pier's splicers", false);
  const relayCpu = cpuRow("the pod's relay", false);
  const appCpu = cpuRow("the app", true);

  for (let i = 0; i < runs; i++) {
    console.error(`[preview] run ${i + 1} of ${runs}`);
    const viaNode = await previewLatency(listenerPort, host, cookie);
    const [smallUrl, smallArgs] = throughHost("/1k");
    const viaCurl = await curlLatency(here, smallUrl, [...smallArgs]);
    const inside = await curlLatency(podShell, `${IN_POD}/1k`);
    p50.pier.push(percentile(viaNode, 0.5));
    p99.pier.push(percentile(viaNode, 0.99));
    curlP50.pier.push(percentile(viaCurl, 0.5));
    curlP99.pier.push(percentile(viaCurl, 0.99));
    for (const r of [p50, curlP50]) r.raw!.push(percentile(inside, 0.5));
    for (const r of [p99, curlP99]) r.raw!.push(percentile(inside, 0.99));

    rate.pier.push(await previewThroughput(listenerPort, host, cookie));
    const [bigUrl, bigArgs] = throughHost("/big");
    const through = await cpuPerGb([pier.pid, relayPid, appPid], gigabytes, () => curlThroughput(here, bigUrl, [...bigArgs]), pier.pid);
    curlRate.pier.push(through.result);
    pierCpu.pier.push(through.perGb[0]!);
    splicerCpu.pier.push(through.childrenPerGb);
    relayCpu.pier.push(through.perGb[1]!);
    appCpu.pier.push(through.perGb[2]!);
    const insidePod = await cpuPerGb([appPid], gigabytes, () => curlThroughput(podShell, `${IN_POD}/big`));
    const insideRate = insidePod.result;
    appCpu.raw!.push(insidePod.perGb[0]!);
    rate.raw!.push(insideRate);
    curlRate.raw!.push(insideRate);
    rateRatio.pier.push(rate.pier.at(-1)! / insideRate);
    curlRateRatio.pier.push(curlRate.pier.at(-1)! / insideRate);
  }
  report(
    `Web app previews — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}; peak server memory ${pier.memory().peak.toFixed(0)} MiB`,
    [p50, p99, curlP50, curlP99, rate, curlRate, rateRatio, curlRateRatio, pierCpu, splicerCpu, relayCpu, appCpu],
  );
  console.error(`[preview] medians: added p50 ${(median(p50.pier) - median(p50.raw!)).toFixed(2)} ms, throughput ${(median(rate.pier) / median(rate.raw!)).toFixed(2)} of inside the pod`);
} finally {
  await pier.stop();
}
