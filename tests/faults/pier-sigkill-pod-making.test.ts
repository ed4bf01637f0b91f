/**
 * Fault: Pier is killed with SIGKILL while it is making two people's pods (here two repos of one
 * person: a pod is per repo and person), each from the repository's devcontainer (a Dockerfile
 * whose user `dev` has uid 1001, remoteUser `dev`, an onCreateCommand that notes each run in the
 * container's /tmp), then started once again on the same data dir and port:
 *
 * - one pod is cut off the moment its container is created (the engine's create event), before
 *   Pier has made `dev` the pod user or written down what the pod was made from;
 * - the other is cut off in the middle of its onCreateCommand (its first run sleeps), which goes
 *   on in the container after Pier is gone.
 *
 * Held, once Pier is back: both sessions come up active, and in each the terminal is `dev`'s
 * (uid 1000, its own HOME) in the session's worktree, git works there, the worktree is writable,
 * Pier's helpers (gh wrapper, git's credential helper) are there, and onCreateCommand ran exactly
 * once in the pod's container, with nothing of a cut-off run still going; one container per pod.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitFiles, makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";
import { setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess } from "../support/pier-process.ts";
import { type SessionJson, addRepo, startSession, waitForState } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { until } from "../support/until.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";

/** Each run of onCreateCommand notes itself here, in the container's own filesystem: once per container is what the spec promises. */
const RUNS = "/tmp/oncreate-runs";

/** A repository whose environment names `dev` (uid 1001 in its image) the remote user, with `onCreate` its onCreateCommand. */
function environmentFiles(onCreate: string): Record<string, string> {
  return {
    ".devcontainer/devcontainer.json": JSON.stringify({ build: { dockerfile: "Dockerfile" }, remoteUser: "dev", onCreateCommand: onCreate }),
    ".devcontainer/Dockerfile": `FROM ${TEST_WORKSPACE_IMAGE}\nUSER root\nRUN useradd --create-home --uid 1001 --shell /bin/bash dev\n`,
  };
}

describe("SIGKILL while a person's pod is being made", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-sigkill-pod-making-"));
  const scratch = mkdtempSync(join(tmpdir(), "pier-sigkill-pod-making-files-"));
  let env: Record<string, string>;
  let port: number;
  let pier: PierProcess;
  let cookie: string;
  const remotes: RemoteRepo[] = [];
  const repoIds: string[] = [];

  const docker = async (...args: string[]) => {
    const child = Bun.spawn(["docker", ...args], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { stdout, stderr, code };
  };
  const lines = (text: string) => text.split("\n").filter(Boolean);
  const containersOf = async (repoId: string) => lines((await docker("ps", "-aq", "--no-trunc", "--filter", `label=pier.repo=${repoId}`)).stdout);
  const addEnvironmentRepo = async (name: string, onCreate: string) => {
    const remote = makeRemoteRepo(name);
    remotes.push(remote);
    commitFiles(remote, environmentFiles(onCreate), "The repository's environment");
    const id = await addRepo(pier, cookie, remote.path, name);
    repoIds.push(id);
    return id;
  };
  const begin = async (repoId: string) => {
    const res = await startSession(pier, cookie, { repoId });
    const body = (await res.json()) as SessionJson;
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body;
  };
  /** The container's /etc/passwd entry for `dev`, read through the engine (the container need not be running). */
  const devEntry = async (containerId: string) => {
    const copied = await docker("cp", `${containerId}:/etc/passwd`, join(scratch, `${containerId}-passwd`));
    expect(copied.code, copied.stderr).toBe(0);
    return readFileSync(join(scratch, `${containerId}-passwd`), "utf8").split("\n").find((line) => line.startsWith("dev:"));
  };
  /** What the session's pod is like to its person after the restart. */
  const expectWorking = async (session: SessionJson) => {
    const now = await waitForState(pier, cookie, session.id, "active", 300_000);
    const [podId] = await containersOf(session.repoId);
    expect(await containersOf(session.repoId)).toEqual([podId!]);
    expect(now.podId).toBe(podId!);

    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    try {
      await term.run('echo "[$(whoami)/$(id -u)/$PWD/$HOME]-$((6*7))"', /\[\S+\/\d+\/\S+\/\S+\]-42/, 60_000);
      expect(term.text).toContain(`[dev/1000/${session.worktreePath}//home/dev]-42`);
    } finally {
      term.close();
    }
    const script = [
      "git rev-parse --abbrev-ref HEAD",
      "touch written-after-restart && git status --porcelain",
      'case "$(command -v gh)" in /usr/bin/*) echo "the image\'s gh";; *) echo "Pier\'s gh";; esac',
      "git config --get credential.helper | grep -o git-credential-pier",
      `cat ${RUNS}`,
    ].join(" && ");
    const inPod = await docker("exec", "-w", session.worktreePath, podId!, "bash", "-lc", script);
    expect(inPod.code, inPod.stderr).toBe(0);
    expect(inPod.stdout).toBe(`${now.branch}\n?? written-after-restart\nPier's gh\ngit-credential-pier\nonCreate dev\n`);
    // Nothing of a run cut off goes on anywhere.
    expect((await docker("exec", podId!, "ps", "-eo", "args")).stdout).not.toContain("sleep 600");
    const environment = await (await pier.fetch(`/api/repos/${session.repoId}/environment`, { headers: { cookie } })).json();
    expect(environment).toMatchObject({ state: "ready", outdated: false });
  };

  beforeAll(async () => {
    port = await freePort();
    env = await dockerTestEnv();
    pier = await startPierProcess(dataDir, port, env);
    cookie = await setUpAdmin(pier);
  }, 300_000);

  afterAll(async () => {
    await pier?.signal("SIGTERM");
    // The test's pods outlive Pier by design: they go with the test, as do their environments' images.
    for (const repoId of repoIds) {
      const pods = await containersOf(repoId);
      if (pods.length > 0) await docker("rm", "-f", ...pods);
      const images = lines((await docker("images", "-q", `pier-env-${repoId.slice(0, 12)}`)).stdout);
      if (images.length > 0) await docker("rmi", "-f", ...images);
    }
    // The workspaces are the pod user's: emptied through the engine, as Pier does, before the directory goes.
    await docker("run", "--rm", "--network", "none", "--user", "0:0", "-v", `${dataDir}:/d`, "--entrypoint", "rm", TEST_WORKSPACE_IMAGE, "-rf", "/d/workspaces");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    for (const remote of remotes) rmSync(join(remote.path, ".."), { recursive: true, force: true });
  }, 120_000);

  test("cut off as its container was created, or in its onCreateCommand: after a restart each session works in a pod made whole, onCreate run once", async () => {
    // Its first run (in the first container ever made for the person) sleeps, so that Pier is killed in the middle of it.
    const slowFirst = `echo "onCreate $(whoami)" >> ${RUNS}; [ -e ../../.oncreate-began ] || { touch ../../.oncreate-began; sleep 600; }`;
    const inOnCreate = await begin(await addEnvironmentRepo("cut-in-oncreate", slowFirst));
    const atCreation = await addEnvironmentRepo("cut-at-creation", `echo "onCreate $(whoami)" >> ${RUNS}`);

    const [sleeping] = await until("the first pod's onCreateCommand running", () => containersOf(inOnCreate.repoId), (ids) => ids.length === 1, 300_000);
    await until("the first pod's onCreateCommand running", async () => (await docker("exec", sleeping!, "cat", RUNS)).stdout, (runs) => runs === "onCreate dev\n", 120_000);

    // Killed the moment the engine says the second pod's container exists.
    const events = Bun.spawn(["docker", "events", "--filter", "type=container", "--filter", "event=create", "--filter", `label=pier.repo=${atCreation}`, "--format", "{{.Actor.ID}}"], { stdout: "pipe", stderr: "ignore" });
    const created = (async () => {
      const reader = events.stdout.getReader();
      let out = "";
      while (!out.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      return out.trim();
    })();
    // The stream is open before the session starts, so the create event cannot come first.
    await Bun.sleep(500);
    const cutAtCreation = await begin(atCreation);
    const containerId = await created;
    expect(await pier.signal("SIGKILL")).not.toBe(0);
    events.kill();
    expect(containerId).not.toBe("");

    // What the kill left: a container whose user was not yet made `dev`'s, and one whose onCreateCommand runs on without Pier.
    expect(await devEntry(containerId)).toStartWith("dev:x:1001:");
    expect((await docker("exec", sleeping!, "ps", "-eo", "args")).stdout).toContain("sleep 600");

    pier = await startPierProcess(dataDir, port, env);
    await expectWorking(cutAtCreation);
    await expectWorking(inOnCreate);
  }, 900_000);
});
