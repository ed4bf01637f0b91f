/**
 * `bun run test`: provisions what Pier's suite needs, runs it, and ends with one line
 * "N passed, N failed" taken from the suite's own JUnit report.
 *
 * The suite uses real parts: a Docker engine, mmdebstrap (to build images with no registry),
 * Debian's Chromium, the asciinema client, tmux (for the local runtime's terminals) and musl's C
 * compiler (Pier builds its static programs for pods, pier-pty and pier-ask). On Debian, as root, missing ones are installed
 * with apt-get and a Docker engine is started for the run (and stopped after it). Anywhere
 * else the script stops with one sentence saying what is missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const say = (line: string) => console.error(`[test] ${line}`);

/** Debian package → how to tell it is there. */
const NEEDS: Array<{ pkg: string; present: () => boolean }> = [
  { pkg: "git", present: () => onPath("git") },
  // The local runtime runs session shells in tmux on this machine.
  { pkg: "tmux", present: () => onPath("tmux") },
  { pkg: "docker.io", present: () => onPath("dockerd") || dockerAnswers() },
  { pkg: "mmdebstrap", present: () => onPath("mmdebstrap") },
  { pkg: "chromium", present: () => existsSync(process.env.PIER_CHROMIUM ?? "/usr/bin/chromium") },
  { pkg: "asciinema", present: () => onPath("asciinema") },
  // Pier compiles its terminal holder (src/terminal/holder/pier-pty.c) and its socket client (src/pods/pier-ask.c) into static programs with it.
  { pkg: "musl-tools", present: () => onPath("musl-gcc") },
  { pkg: "gcc", present: () => onPath("gcc") },
];

function onPath(command: string): boolean {
  return Bun.which(command) !== null;
}

function run(cmd: string[], quiet = true): boolean {
  const result = Bun.spawnSync(cmd, { stdout: quiet ? "ignore" : "inherit", stderr: quiet ? "ignore" : "inherit" });
  return result.exitCode === 0;
}

function dockerAnswers(): boolean {
  return onPath("docker") && run(["docker", "info", "--format", "{{.ServerVersion}}"]);
}

function installMissing(): void {
  const missing = NEEDS.filter((need) => !need.present()).map((need) => need.pkg);
  if (missing.length === 0) return;
  const isDebian = existsSync("/etc/debian_version") && onPath("apt-get");
  const isRoot = process.getuid?.() === 0;
  if (!isDebian || !isRoot) {
    say(
      `Pier's tests need these missing packages: ${missing.join(", ")}; ` +
        (isDebian ? `install them as root with: apt-get install -y ${missing.join(" ")}` : "install them, or run the suite on Debian as root."),
    );
    process.exit(2);
  }
  say(`installing ${missing.join(", ")} with apt-get (once per machine)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const ok =
    Bun.spawnSync(["apt-get", "update", "-qq"], { stdout: "ignore", stderr: "inherit", env }).exitCode === 0 &&
    Bun.spawnSync(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing], { stdout: "ignore", stderr: "inherit", env })
      .exitCode === 0;
  if (!ok) {
    say(`apt-get could not install ${missing.join(", ")}; the suite cannot run without them.`);
    process.exit(2);
  }
}

/** Starts dockerd for this run when no engine answers; returns its process to stop afterwards. */
async function ensureDocker(): Promise<Bun.Subprocess | null> {
  if (dockerAnswers()) return null;
  if (!onPath("dockerd") || process.getuid?.() !== 0) {
    say("Pier's tests need a running Docker engine; start dockerd (or run the suite as root so it can start one).");
    process.exit(2);
  }
  const log = join(tmpdir(), "pier-test-dockerd.log");
  say(`starting a Docker engine for this run (log: ${log})…`);
  const dockerd = Bun.spawn(["dockerd"], { stdout: Bun.file(log), stderr: Bun.file(log) });
  for (let i = 0; i < 60; i++) {
    if (dockerAnswers()) return dockerd;
    if (dockerd.exitCode !== null) break;
    await Bun.sleep(1000);
  }
  say(`the Docker engine did not come up; see ${log}.`);
  dockerd.kill();
  process.exit(2);
}

async function stopDocker(dockerd: Bun.Subprocess | null): Promise<void> {
  if (!dockerd) return;
  dockerd.kill("SIGTERM");
  await Promise.race([dockerd.exited, Bun.sleep(20_000)]);
}

/** Counts from Bun's JUnit report: the top-level <testsuites> element carries the totals. */
function readCounts(reportPath: string): { passed: number; failed: number; skipped: number } | null {
  if (!existsSync(reportPath)) return null;
  const head = readFileSync(reportPath, "utf8").match(/<testsuites\b[^>]*>/)?.[0];
  if (!head) return null;
  const attr = (name: string) => Number(head.match(new RegExp(`\\b${name}="(\\d+)"`))?.[1] ?? 0);
  const total = attr("tests");
  const failed = attr("failures");
  const skipped = attr("skipped");
  return { passed: total - failed - skipped, failed, skipped };
}

installMissing();
if (Bun.spawnSync(["bun", "install", "--frozen-lockfile"], { cwd: root, stdout: "ignore", stderr: "inherit" }).exitCode !== 0) {
  say("bun install failed; the dependencies in bun.lock could not be installed.");
  process.exit(2);
}
const dockerd = await ensureDocker();
const reportDir = mkdtempSync(join(tmpdir(), "pier-test-report-"));
const report = join(reportDir, "junit.xml");
// The suite gets a home of its own: the local runtime's login shells read their user's dotfiles,
// and this machine's (a slow or half-broken shell profile, say) must not decide what they do.
const home = mkdtempSync(join(tmpdir(), "pier-test-home-"));
let exitCode = 1;
try {
  const suite = Bun.spawn(["bun", "test", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)], {
    cwd: root,
    env: { ...process.env, HOME: home },
    stdout: "inherit",
    stderr: "inherit",
  });
  exitCode = await suite.exited;
} finally {
  await stopDocker(dockerd);
  rmSync(home, { recursive: true, force: true });
}
const counts = readCounts(report);
rmSync(reportDir, { recursive: true, force: true });
if (!counts) {
  say("the suite wrote no report, so there is nothing to count; see the output above.");
  process.exit(exitCode || 1);
}
if (exitCode !== 0 && counts.failed === 0) {
  say(`bun test exited with ${exitCode} although no test failed: an error outside a test (see above).`);
}
console.log(`${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ""}`);
process.exit(exitCode);
