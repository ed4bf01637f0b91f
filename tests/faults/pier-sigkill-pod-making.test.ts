/**
 * Fault: Pier is killed with SIGKILL while it is making three pods of one person (a pod is per repo
 * and person), then started once again on the same data dir and port:
 *
 * - on the local engine, one pod from the repository's devcontainer (a Dockerfile whose user `dev`
 *   has uid 1001, remoteUser `dev`, an onCreateCommand that notes each run in the container's /tmp)
 *   is cut off the moment its container is created (the engine's create event), before Pier has
 *   made `dev` the pod user or written down what the pod was made from;
 * - on the local engine, another such pod is cut off in the middle of its onCreateCommand (its
 *   first run sleeps), which goes on in the container after Pier is gone;
 * - on a second engine (the test's own dockerd), a pod of an image with no user for uid 1000 is
 *   cut off as its container is created (that engine is frozen at its create event, so Pier waits
 *   there when it is killed), before Pier has named the pod user or given the new workspace volume
 *   to it.
 *
 * Held, once Pier is back: every session comes up active, and in each the terminal is the pod
 * user's (uid 1000, with its name and HOME) in the session's worktree, git works there, the worktree
 * is writable, Pier's helpers (gh wrapper, git's credential helper) are there, onCreateCommand ran
 * exactly once in the pod's container with nothing of a cut-off run still going, and each pod is
 * one container.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBareImage } from "../support/bare-image.ts";
import { commitFiles, makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";
import { setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
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

/** A session, the engine its pod is on (null: the local one), and what its pod user is to be. */
interface Expected {
  session: SessionJson;
  host: string | null;
  user: string;
  /** Whether its repository's environment has the onCreateCommand that notes its runs. */
  onCreate: boolean;
}

describe("SIGKILL while a person's pods are being made", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-sigkill-pod-making-"));
  const scratch = mkdtempSync(join(tmpdir(), "pier-sigkill-pod-making-files-"));
  let engine: SecondEngine;
  let bareImage: string;
  let env: Record<string, string>;
  let port: number;
  let pier: PierProcess;
  let cookie: string;
  const remotes: RemoteRepo[] = [];
  const repoIds: string[] = [];

  const docker = async (host: string | null, ...args: string[]) => {
    const child = Bun.spawn(["docker", ...(host ? ["-H", host] : []), ...args], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { stdout, stderr, code };
  };
  const lines = (text: string) => text.split("\n").filter(Boolean);
  const containersOf = async (host: string | null, repoId: string) => lines((await docker(host, "ps", "-aq", "--no-trunc", "--filter", `label=pier.repo=${repoId}`)).stdout);
  const addPinnedRepo = async (name: string, settings: Record<string, unknown>, files?: Record<string, string>) => {
    const remote = makeRemoteRepo(name);
    remotes.push(remote);
    if (files) commitFiles(remote, files, "The repository's environment");
    const id = await addRepo(pier, cookie, `file://${remote.path}`, name);
    repoIds.push(id);
    const res = await pier.fetch(`/api/repos/${id}`, { method: "PATCH", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify(settings) });
    expect(res.status).toBe(200);
    return id;
  };
  const begin = async (repoId: string) => {
    const res = await startSession(pier, cookie, { repoId });
    const body = (await res.json()) as SessionJson;
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body;
  };
  /** Listens to the engine for the repo's pod's container; `id` resolves with the first one the engine says it created. */
  const nextCreated = async (host: string | null, repoId: string): Promise<{ id: Promise<string> }> => {
    const events = Bun.spawn(["docker", ...(host ? ["-H", host] : []), "events", "--filter", "type=container", "--filter", "event=create", "--filter", `label=pier.repo=${repoId}`, "--format", "{{.Actor.ID}}"], { stdout: "pipe", stderr: "ignore" });
    // `docker events` prints nothing until there is an event: the engine is asked once it listens.
    await Bun.sleep(500);
    const id = (async () => {
      const reader = events.stdout.getReader();
      let out = "";
      while (!out.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      events.kill();
      return out.trim();
    })();
    return { id };
  };
  /** The line of the container's /etc/passwd for uid 1000 (or `name`), read through the engine: the container need not be running. */
  const passwdLine = async (host: string | null, containerId: string, match: (line: string) => boolean) => {
    const file = join(scratch, `${containerId}-passwd`);
    const copied = await docker(host, "cp", `${containerId}:/etc/passwd`, file);
    expect(copied.code, copied.stderr).toBe(0);
    return readFileSync(file, "utf8").split("\n").find(match) ?? null;
  };
  /** What the session's pod is like to its person after the restart. */
  const expectWorking = async ({ session, host, user, onCreate }: Expected) => {
    const now = await waitForState(pier, cookie, session.id, "active", 300_000);
    const [podId] = await containersOf(host, session.repoId);
    expect(await containersOf(host, session.repoId)).toEqual([podId!]);
    expect(now.podId).toBe(podId!);

    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    try {
      await term.run('echo "[$(whoami)/$(id -u)/$PWD/$HOME]-$((6*7))"', /\[\S+\/\d+\/\S+\/\S+\]-42/, 60_000);
      expect(term.text).toContain(`[${user}/1000/${session.worktreePath}//home/${user}]-42`);
    } finally {
      term.close();
    }
    const script = [
      "git rev-parse --abbrev-ref HEAD",
      "touch written-after-restart && git status --porcelain",
      'case "$(command -v gh)" in /usr/bin/*|"") echo "no gh of Pier\'s";; *) echo "Pier\'s gh";; esac',
      "git config --get credential.helper | grep -o git-credential-pier",
      ...(onCreate ? [`cat ${RUNS}`] : []),
    ].join(" && ");
    const inPod = await docker(host, "exec", "-w", session.worktreePath, podId!, "bash", "-lc", script);
    expect(inPod.code, inPod.stderr).toBe(0);
    expect(inPod.stdout).toBe(`${now.branch}\n?? written-after-restart\nPier's gh\ngit-credential-pier\n${onCreate ? `onCreate ${user}\n` : ""}`);
    // Nothing of a run cut off goes on anywhere.
    expect((await docker(host, "exec", podId!, "ps", "-eo", "args")).stdout).not.toContain("sleep 600");
    const environment = await (await pier.fetch(`/api/repos/${session.repoId}/environment`, { headers: { cookie } })).json();
    expect(environment).toMatchObject({ outdated: false });
  };

  beforeAll(async () => {
    [bareImage, engine] = await Promise.all([ensureBareImage(), startSecondEngine()]);
    port = await freePort();
    // Pods on the second engine fetch the mirror from Pier over HTTP, so they reach it on the host network.
    env = { ...(await dockerTestEnv()), PIER_POD_NETWORK: "host" };
    pier = await startPierProcess(dataDir, port, env);
    cookie = await setUpAdmin(pier);
    const added = await pier.fetch("/api/config/docker-engines", { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "far", host: engine.host, capacity: 10 }) });
    expect(added.status).toBe(201);
  }, 300_000);

  afterAll(async () => {
    engine?.thaw();
    // The test's pods outlive Pier by design: they go with the test, as do their environments' images.
    if (pier) await stopForGood(pier);
    await engine?.destroy();
    // The workspaces are the pod user's: emptied through the engine, as Pier does, before the directory goes.
    await docker(null, "run", "--rm", "--network", "none", "--user", "0:0", "-v", `${dataDir}:/d`, "--entrypoint", "rm", TEST_WORKSPACE_IMAGE, "-rf", "/d/workspaces");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    for (const remote of remotes) rmSync(join(remote.path, ".."), { recursive: true, force: true });
  }, 120_000);

  test("cut off as their containers were created, or in an onCreateCommand: after one restart each session works in a pod made whole, onCreate run once", async () => {
    // Its first run (in the first container ever made for the person) sleeps, so that Pier is killed in the middle of it.
    const slowFirst = `echo "onCreate $(whoami)" >> ${RUNS}; [ -e ../../.oncreate-began ] || { touch ../../.oncreate-began; sleep 600; }`;
    const inOnCreate = await begin(await addPinnedRepo("cut-in-oncreate", { dockerEngine: "local" }, environmentFiles(slowFirst)));
    const atCreation = await addPinnedRepo("cut-at-creation", { dockerEngine: "local" }, environmentFiles(`echo "onCreate $(whoami)" >> ${RUNS}`));
    const far = await addPinnedRepo("cut-on-far", { dockerEngine: "far", image: bareImage });

    const [sleeping] = await until("the first pod made", () => containersOf(null, inOnCreate.repoId), (ids) => ids.length === 1, 300_000);
    await until("its onCreateCommand running", async () => (await docker(null, "exec", sleeping!, "cat", RUNS)).stdout, (runs) => runs === "onCreate dev\n", 120_000);
    // The far engine stops answering the moment it has created the pod's container: Pier waits on it there.
    const farCreated = await nextCreated(engine.host, far);
    const cutOnFar = await begin(far);
    const farContainer = await farCreated.id;
    engine.freeze();
    // Killed the moment the local engine says the other pod's container exists.
    const localCreated = await nextCreated(null, atCreation);
    const cutAtCreation = await begin(atCreation);
    const localContainer = await localCreated.id;
    expect(await pier.signal("SIGKILL")).not.toBe(0);
    engine.thaw();

    // What the kill left: containers whose pod user was not named yet, and an onCreateCommand running on without Pier.
    expect(await passwdLine(null, localContainer, (line) => line.startsWith("dev:"))).toStartWith("dev:x:1001:");
    expect(await passwdLine(engine.host, farContainer, (line) => line.split(":")[2] === "1000")).toBeNull();
    expect((await docker(null, "exec", sleeping!, "ps", "-eo", "args")).stdout).toContain("sleep 600");

    pier = await startPierProcess(dataDir, port, env);
    await expectWorking({ session: cutAtCreation, host: null, user: "dev", onCreate: true });
    await expectWorking({ session: inOnCreate, host: null, user: "dev", onCreate: true });
    await expectWorking({ session: cutOnFar, host: engine.host, user: "pier", onCreate: false });
  }, 900_000);
});
