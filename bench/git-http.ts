/**
 * A repo's mirror read over Pier's smart HTTP (/git/<repo id>.git, `git http-backend` behind Pier)
 * against the same mirror read from its bind mount, as a pod on Pier's own engine reads it today:
 * a fresh bare clone in a real pod (network `host`, so it reaches Pier on 127.0.0.1) fetches every
 * branch of a repository of MB of incompressible blobs over COMMITS commits, the way a person's
 * clone fetches its origin/* (`git fetch <mirror> +refs/heads/*:refs/remotes/origin/*`). Over HTTP
 * the pod's git gets its credential from the pod's own credential helper, as it will on another
 * engine. Runs interleaved; the time is taken inside the pod, so no `docker exec` is in it. Pier's
 * CPU per fetch is told too (git http-backend and the upload-pack it runs are its children, and
 * counted apart).
 * Run: bun bench/git-http.ts [runs=5] [mb=100] [commits=20]   (needs a Docker engine)
 */
import Docker from "dockerode";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { cpuSeconds, removeRepoPods, startBenchPier } from "./pier-process.ts";
import { type Row, arg, median, report } from "./terminal-kit.ts";

const runs = arg("runs", 5);
const mb = arg("mb", 100);
const commits = arg("commits", 20);

const docker = new Docker();

function git(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: "Bench", GIT_AUTHOR_EMAIL: "b@example.com", GIT_COMMITTER_NAME: "Bench", GIT_COMMITTER_EMAIL: "b@example.com" };
  const done = Bun.spawnSync(["git", ...args], { cwd, env });
  if (done.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${done.stderr.toString()}`);
  return done.stdout.toString().trim();
}

/**
 * A bare repository of `mb` MB of random bytes (which no compression shrinks) over `commits`
 * commits on main, each adding one file and rewriting a small one, and a branch off the middle.
 */
function bigRemote(): string {
  const root = mkdtempSync(join(tmpdir(), "pier-bench-git-http-"));
  chmodSync(root, 0o755);
  const bare = join(root, "big.git");
  const work = join(root, "work");
  git(root, "init", "--quiet", "--bare", "--initial-branch=main", bare);
  git(root, "init", "--quiet", "--initial-branch=main", work);
  const each = Math.floor((mb * 1024 * 1024) / commits);
  for (let at = 0; at < commits; at++) {
    mkdirSync(join(work, "blobs"), { recursive: true });
    writeFileSync(join(work, "blobs", `blob-${at}.bin`), randomBytes(each));
    writeFileSync(join(work, "CHANGES.md"), `change ${at}\n`);
    git(work, "add", ".");
    git(work, "commit", "--quiet", "-m", `Blob ${at}`);
    if (at === Math.floor(commits / 2)) git(work, "branch", "feature/half");
  }
  git(work, "push", "--quiet", bare, "main", "feature/half");
  Bun.spawnSync(["chmod", "-R", "a+rX", root]);
  return bare;
}

/** A script in the pod as its user: its stdout, or it throws with its stderr. */
async function inPod(podId: string, script: string): Promise<string> {
  const child = Bun.spawn(["docker", "exec", podId, "bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`in the pod (exit ${code}): ${stderr.trim()}`);
  return stdout;
}

/** Fetches every branch from `source` into a new bare clone in the pod; the seconds it took, timed there. */
async function fetchInto(podId: string, source: string, config: string, env = ""): Promise<number> {
  const dir = `/tmp/bench-clone-${crypto.randomUUID()}`;
  const out = await inPod(
    podId,
    [
      `git init --quiet --bare ${dir}`,
      "start=$(date +%s.%N)",
      `${env} GIT_TERMINAL_PROMPT=0 git -C ${dir} ${config} fetch --quiet --no-tags ${source} '+refs/heads/*:refs/remotes/origin/*'`,
      "end=$(date +%s.%N)",
      `objects=$(git -C ${dir} count-objects -v | sed -n 's/^size-pack: //p')`,
      `rm -rf ${dir}`,
      'echo "$start $end $objects"',
    ].join(" && "),
  );
  const [start, end, packKib] = out.trim().split(" ").map(Number);
  if (!(packKib! > mb * 1024 * 0.9)) throw new Error(`the clone holds ${packKib} KiB, not the ${mb} MB fetched`);
  return end! - start!;
}

console.error(`[git-http] making a ${mb} MB repository over ${commits} commits…`);
const remote = bigRemote();
const pier = await startBenchPier("git-http", { PIER_POD_NETWORK: "host" });
let repoId = "";
try {
  const call = async (path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(pier.base + path, { method: body === undefined ? "GET" : "POST", headers: { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  await call("/api/setup", { username: "bench", password: "bench password" });
  const login = await fetch(`${pier.base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bench", password: "bench password" }) });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  repoId = (await call("/api/repos", { url: `file://${remote}`, name: "big" }, { cookie })).id;
  let session = await call("/api/sessions", { repoId }, { cookie });
  for (const deadline = Date.now() + 600_000; session.state !== "active"; await Bun.sleep(100)) {
    if (session.state === "failed" || Date.now() > deadline) throw new Error(`the session did not start: ${session.error}`);
    session = await call(`/api/sessions/${session.id}`, undefined, { cookie });
  }
  // Where the pod sees the mirror and its services directory: its bind mounts.
  const mounts = ((await docker.getContainer(session.podId).inspect()).Mounts ?? []).map((mount) => mount.Destination);
  const mirror = mounts.find((path) => path.endsWith(`/mirrors/${repoId}.git`))!;
  const services = mounts.find((path) => /\/pods\/[^/]+\/[^/]+$/.test(path))!;
  const helper = `${services}/git-credential-pier`;
  const overHttp = `${pier.base}/git/${repoId}.git`;

  const fetchTime: Row = { bench: "git-http", measure: `${mb} MB repository (${commits} commits, 2 branches) into a fresh clone`, command: "git fetch <mirror> +refs/heads/*:refs/remotes/origin/*", unit: "s", better: "lower", pier: [], raw: [], rawIs: "from the bind-mounted mirror" };
  const rate: Row = { bench: "git-http", measure: "fetch rate", command: `${mb} MB`, unit: "MB/s", better: "higher", pier: [], raw: [], rawIs: "from the bind-mounted mirror" };
  const pierCpu: Row = { bench: "git-http", measure: "CPU of Pier's own process per fetch", command: "Bun, not its git children", unit: "s", better: "lower", pier: [], rawIs: "from the bind-mounted mirror" };
  for (let at = 0; at < runs; at++) {
    const cpuBefore = cpuSeconds(pier.pid);
    const http = await fetchInto(session.podId, overHttp, `-c credential.helper=${helper}`);
    pierCpu.pier.push(cpuSeconds(pier.pid) - cpuBefore);
    // With the git config Pier's own commands in the pod use (the mirror is the server's, not the pod user's).
    const mounted = await fetchInto(session.podId, mirror, "", `GIT_CONFIG_GLOBAL=${services}/gitconfig`);
    fetchTime.pier.push(http);
    fetchTime.raw!.push(mounted);
    rate.pier.push(mb / http);
    rate.raw!.push(mb / mounted);
    console.error(`[git-http] run ${at + 1}: over HTTP ${http.toFixed(2)} s, from the mount ${mounted.toFixed(2)} s`);
  }
  report(`The mirror over smart HTTP — ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}; peak server memory ${pier.memory().peak.toFixed(0)} MiB`, [fetchTime, rate, pierCpu]);
  console.error(`[git-http] medians: over HTTP ${median(fetchTime.pier).toFixed(2)} s, from the mount ${median(fetchTime.raw!).toFixed(2)} s`);
} finally {
  await pier.stop();
  if (repoId) await removeRepoPods(repoId);
  rmSync(join(remote, ".."), { recursive: true, force: true });
}
