/**
 * What a test Pier on Docker leaves on the machine's engine once the test is done with it:
 * nothing labelled with its instance. Its live session's pod, a volume and an image of its
 * instance's (as Pier makes for a workspace off its disk and for a repository's environment) all
 * go, whether the Pier ran in the test's process (closeForGood) or as its own (stopForGood).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../support/commands.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { closeForGood, removeInstanceFromEngine, setUpAdmin, startTestPier } from "../support/pier.ts";
import { freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";

const instances: string[] = [];
const dataDirs: string[] = [];

afterAll(() => {
  // A failed test's leftovers go all the same.
  for (const instance of instances) removeInstanceFromEngine(instance);
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const labelled = async (instance: string) => {
  const filter = ["--filter", `label=pier.instance=${instance}`];
  const list = async (args: string[]) => (await run(["docker", ...args, ...filter], "/")).split("\n").filter(Boolean);
  return { containers: await list(["ps", "-aq"]), volumes: await list(["volume", "ls", "-q"]), images: await list(["image", "ls", "-q"]) };
};

/** A volume and an image of the instance's beside its session's pod, as Pier labels its own. */
async function instanceLeftovers(instance: string, session: SessionJson): Promise<void> {
  await run(["docker", "volume", "create", "--label", `pier.instance=${instance}`, `pier-ws-${session.repoId}-${session.userId}`], "/");
  // Built, not committed from the pod: a commit pauses the pod, and an exec into a paused pod hangs.
  const tag = `pier-env-${session.repoId.slice(0, 12)}:closed-for-good`;
  const build = Bun.spawn(["docker", "build", "-q", "--label", `pier.instance=${instance}`, "-t", tag, "-"], {
    stdin: new Blob([`FROM ${TEST_WORKSPACE_IMAGE}\n`]),
    stdout: "ignore",
    stderr: "pipe",
  });
  const [built, said] = await Promise.all([build.exited, new Response(build.stderr).text()]);
  expect(built, said).toBe(0);
  const there = await labelled(instance);
  expect([there.containers.length, there.volumes.length, there.images.length]).toEqual([1, 1, 1]);
}

test("closeForGood: a live session's pod, and the volume and image of its Pier's instance, are gone from the engine", async () => {
  const pier = await startTestPier(await dockerTestEnv());
  const instance = pier.pier.settings.instanceId();
  instances.push(instance);
  const cookie = await setUpAdmin(pier);
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("closed").path}`, "closed");
  await instanceLeftovers(instance, await activeSession(pier, cookie, { repoId }));

  await closeForGood(pier);
  expect(await labelled(instance)).toEqual({ containers: [], volumes: [], images: [] });
}, 300_000);

test("stopForGood: the same of a Pier process, its instance read from the data dir it leaves", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-stopped-"));
  dataDirs.push(dataDir);
  const pier = await startPierProcess(dataDir, await freePort(), await dockerTestEnv());
  const cookie = await setUpAdmin(pier);
  const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("stopped").path}`, "stopped");
  const session = await activeSession(pier, cookie, { repoId });
  const instance = (await run(["docker", "inspect", "--format", '{{index .Config.Labels "pier.instance"}}', session.podId!], "/")).trim();
  instances.push(instance);
  await instanceLeftovers(instance, session);

  await stopForGood(pier);
  expect(await labelled(instance)).toEqual({ containers: [], volumes: [], images: [] });
}, 300_000);
