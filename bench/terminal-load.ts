/**
 * Load, in the manner of Coder's scale tests: N sessions on one Pier, PER_POD to a person (each
 * person has their own pod, as on a team's Pier), a viewer on each terminal,
 * every terminal printing ~40 KB/s (a 4000-character line every 0.1 s, from a bash loop that forks
 * nothing) while its viewer types into it (a key and its erase, 5 a second) for SECONDS. Reports
 * the share of the printed bytes each viewer received, the sockets the server closed, the time the
 * last line took to arrive, and the server's memory per terminal (peak RSS during the run less its
 * RSS before the sessions, over N).
 * Run: bun bench/terminal-load.ts [n=20] [seconds=30] [perpod=25]   (needs a Docker engine)
 */
import { cpus } from "node:os";
import { type Row, type Viewer, arg, benchPier, report } from "./terminal-kit.ts";

const n = arg("n", 20);
const seconds = arg("seconds", 30);
const LINE = 4000;
const TICKS = Math.round(seconds * 10);
/** What each terminal prints: TICKS lines of LINE characters and CR LF. */
const intended = TICKS * (LINE + 2);
const command = `s=$(head -c ${(LINE * 3) / 4} /dev/urandom | base64 -w 0); for ((i=0;i<${TICKS};i++)); do printf '%s\\n' "$s"; read -r -t 0.1 _; done; echo load-$((40+2))`;
/** Sessions are started this many at a time. */
const STARTING = 4;
/** Sessions per person, so per pod. */
const PER_POD = arg("perpod", 25);

const pier = await benchPier("load");
const sampler: { peak: number; timer?: ReturnType<typeof setInterval> } = { peak: 0 };
try {
  // Each pod holds PER_POD sessions: room for each one's tmux pane, holder, shell and loop.
  await pier.configure({ podPidsLimit: Math.max(1024, PER_POD * 8), podCpus: cpus().length });
  const people: string[] = [];
  for (let i = 0; i * PER_POD < n; i++) people.push(i === 0 ? pier.token : await pier.person(`bench${i}`));
  const idle = pier.memory().rss;
  const sessions: Array<{ id: string }> = [];
  for (let i = 0; i < n; i += STARTING) {
    const batch = Array.from({ length: Math.min(STARTING, n - i) }, (_, j) => pier.session(people[Math.floor((i + j) / PER_POD)]));
    sessions.push(...(await Promise.all(batch)));
  }
  const viewers: Viewer[] = [];
  for (let i = 0; i < n; i += 20) viewers.push(...(await Promise.all(sessions.slice(i, i + 20).map((s) => pier.viewer(s.id)))));
  const attached = pier.memory().rss;
  sampler.peak = attached;
  sampler.timer = setInterval(() => (sampler.peak = Math.max(sampler.peak, pier.memory().rss)), 250);

  const started = performance.now();
  const results = await Promise.all(
    viewers.map(async (viewer, index) => {
      const before = viewer.received;
      viewer.reset();
      viewer.send(`${command}\r`);
      let key = 0;
      // Staggered, so the keys of all terminals are not typed in the same instant.
      const typing = setTimeout(
        () => (typingTimers[index] = setInterval(() => viewer.socket.readyState === WebSocket.OPEN && viewer.send(key++ % 2 ? "\x7f" : "k"), 200)),
        (index * 200) / n,
      );
      const typingTimers: Array<ReturnType<typeof setInterval>> = [];
      const finished = await viewer.until(/load-42\r\n/, (seconds + 60) * 1000).then(
        () => (performance.now() - started) / 1000,
        () => null,
      );
      clearTimeout(typing);
      for (const timer of typingTimers) clearInterval(timer);
      return { delivered: Math.min(100, (100 * (viewer.received - before)) / intended), finished, disconnected: viewer.closedByServer };
    }),
  );
  clearInterval(sampler.timer);
  const peak = sampler.peak;
  for (const viewer of viewers) viewer.close();

  const finished = results.flatMap((r) => (r.finished === null ? [] : [r.finished]));
  const label = `${n} terminals (${PER_POD} a pod) × ${seconds} s`;
  const rows: Row[] = [
    { bench: "load", measure: `${label}: bytes delivered of intended, per terminal`, command: `~40 KB/s each; ${(intended / 1024).toFixed(0)} KB intended`, unit: "%", better: "higher", pier: results.map((r) => r.delivered), note: "target ≥ 95 % at 500" },
    { bench: "load", measure: `${label}: last line at the viewer after`, command: `loop of ${seconds} s`, unit: "s", better: "lower", pier: finished.length ? finished : [Number.NaN], note: `${results.length - finished.length} never finished` },
    { bench: "load", measure: `${label}: sockets closed by the server`, command: "", unit: "", better: "lower", pier: [results.filter((r) => r.disconnected).length], note: "target 0" },
    { bench: "load", measure: `${label}: server memory per terminal`, command: `RSS ${idle.toFixed(0)} MiB idle, ${attached.toFixed(0)} attached, ${peak.toFixed(0)} peak`, unit: "MiB", better: "lower", pier: [(peak - idle) / n], note: "target ≤ 3 MiB" },
  ];
  report(`Terminal load — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`, rows);
} finally {
  clearInterval(sampler.timer);
  await pier.stop();
}
