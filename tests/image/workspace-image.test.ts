/**
 * The test workspace image (tests/support/workspace-image.ts) does what Pier needs of a pod:
 * it runs as `pier` (uid 1000), has git and tmux, gives passwordless sudo, and the pod user can
 * commit in a host directory bind-mounted at the same absolute path, as Pier's worktrees are.
 *
 * Every container runs with --network none and is removed after; they carry a label so
 * afterAll can remove any that a timed-out test left behind.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chownSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTestWorkspaceImage } from "../support/workspace-image.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const LABEL = `org.pier.test=workspace-image-${process.pid}`;

let image = "";
const hostDirs: string[] = [];

beforeAll(async () => {
  image = await ensureTestWorkspaceImage();
}, 10 * MINUTE);

afterAll(() => {
  const leftovers = Bun.spawnSync(["docker", "ps", "-aq", "--filter", `label=${LABEL}`]).stdout.toString().split(/\s+/);
  const ids = leftovers.filter(Boolean);
  if (ids.length > 0) Bun.spawnSync(["docker", "rm", "-f", ...ids], { stdout: "ignore", stderr: "ignore" });
  for (const dir of hostDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

type Result = { code: number; stdout: string; stderr: string };

/** Runs `script` in a login bash in a fresh pod-like container, as Pier's pods run: --init, uid 1000. */
async function inPod(script: string, dockerArgs: string[] = []): Promise<Result> {
  const proc = Bun.spawn(
    [
      "docker", "run", "--rm",
      "--pull", "never", // never reach for a registry if the tag is somehow missing
      "--network", "none",
      "--init",
      "--user", "1000:1000",
      "--label", LABEL,
      ...dockerArgs,
      image,
      "bash", "-lc", script,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout: stdout.trim(), stderr: stderr.trim() };
}

/** Like inPod, but the script must succeed; returns its stdout. */
async function inPodOk(script: string, dockerArgs: string[] = []): Promise<string> {
  const result = await inPod(script, dockerArgs);
  if (result.code !== 0) throw new Error(`exit ${result.code} from: ${script}\n${result.stderr}`);
  return result.stdout;
}

test("the image is labelled as the test workspace and starts with sleep infinity", async () => {
  const [info] = JSON.parse(await new Response(Bun.spawn(["docker", "image", "inspect", image]).stdout).text());
  expect(info.Config.Labels?.["org.pier.workspace"]).toBe("test");
  expect(info.Config.Cmd).toEqual(["sleep", "infinity"]);
  expect(info.Config.User).toBe("pier");
});

test("the pod user is pier, uid 1000, at home in /home/pier", async () => {
  const out = await inPodOk('id -u; id -un; id -g; echo "$HOME"; pwd; echo "$LANG $TERM"');
  expect(out.split("\n")).toEqual(["1000", "pier", "1000", "/home/pier", "/home/pier", "C.UTF-8 xterm-256color"]);
});

test("git, tmux and ripgrep are there, and tmux can start a server", async () => {
  const out = await inPodOk(
    "git --version && tmux -V && rg --version | head -1 && " +
      // Pier runs shells in tmux sessions; prove a detached session really starts and runs.
      "tmux new-session -d -s probe 'echo ran > /tmp/probe; sleep 30' && sleep 1 && " +
      "tmux has-session -t probe && cat /tmp/probe && tmux kill-server",
  );
  expect(out).toMatch(/^git version \d/m);
  expect(out).toMatch(/^tmux \d/m);
  expect(out).toMatch(/^ripgrep \d/m);
  expect(out).toMatch(/^ran$/m);
});

test("passwordless sudo works", async () => {
  expect(await inPodOk("sudo -n true && sudo -n id -u")).toBe("0");
});

test("sudo cannot work under no-new-privileges", async () => {
  // no-new-privileges makes the kernel ignore the setuid bit on /usr/bin/sudo, so sudo keeps
  // running as uid 1000 and refuses. Pods started with that option get no root at all,
  // whatever the sudoers file says.
  const result = await inPod("sudo -n true", ["--security-opt", "no-new-privileges"]);
  console.error(`[workspace-image] sudo under no-new-privileges: exit ${result.code}: ${result.stderr}`);
  expect(result.code).not.toBe(0);
});

test("the pod user commits in a host directory bind-mounted at the same path", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pier-workspace-mount-"));
  hostDirs.push(dir);
  chownSync(dir, 1000, 1000);

  const script = [
    "set -e",
    `cd '${dir}'`,
    "git init -q -b main",
    "git config user.name Pier && git config user.email pier@example.invalid",
    "echo hello > hello.txt",
    "git add hello.txt && git commit -q -m 'from the pod'",
    "pwd",
  ].join("\n");
  expect(await inPodOk(script, ["-v", `${dir}:${dir}`])).toBe(dir);

  // The commit is there from the host side, owned by uid 1000. The host user is another uid,
  // so git on the host needs safe.directory to accept a repository it does not own.
  expect(statSync(join(dir, "hello.txt")).uid).toBe(1000);
  const log = Bun.spawnSync(["git", "-c", `safe.directory=${dir}`, "-C", dir, "log", "--format=%s"]);
  expect(log.exitCode).toBe(0);
  expect(log.stdout.toString().trim()).toBe("from the pod");
});
