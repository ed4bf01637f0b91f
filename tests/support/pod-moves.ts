/**
 * What the tests of moving a pod between Docker engines share (tests/pods/pod-move*.test.ts,
 * tests/faults/pier-sigkill-move.test.ts): the docker CLI on either engine, Pier's API as an
 * admin, the session's work made and read back in the pod, the pod's things on an engine, and its
 * terminal answering; and the world the moves in the test's own process start from (startMoveWorld).
 * Each takes the Pier of the moment, so a test that restarts Pier keeps them.
 */
import { expect } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { makeRemoteRepo, type RemoteRepo } from "./git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "./pier.ts";
import { type SecondEngine, startSecondEngine } from "./second-engine.ts";
import { type SessionJson, activeSession, addRepo } from "./sessions.ts";
import { TermClient } from "./term-client.ts";
import { dockerTestEnv } from "./workspace-image.ts";

/** The part of a Pier (in the test's process, or one of its own) these need. */
interface PierLike {
  url: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export type MovedPod = { dockerEngine: string; containerId: string; state: string };

/** The docker CLI on the local engine (host null) or another. */
export async function dockerOn(host: string | null, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = Bun.spawn(["docker", ...(host ? ["-H", host] : []), ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, code };
}

export const lines = (text: string) => text.split("\n").filter(Boolean);

/** An API call with the cookie, its status and JSON body. */
export async function callAs(pier: PierLike, cookie: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await pier.fetch(path, { method, headers: { cookie, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The script that makes the session's work: a commit on its branch and an uncommitted file (`also` adds more). */
export const makeWorkScript = (worktree: string, also = "") =>
  `cd ${worktree} && echo committed > kept.txt && git add kept.txt && git -c user.name=t -c user.email=t@t commit -qm "Work on the branch" && echo unsaved work > draft.txt${also ? ` && ${also}` : ""}`;

/** The session's work, read in the pod on `host`: the uncommitted file, git's view of it, the commit; `also` adds a command and its output. */
export async function expectWorkThere(host: string | null, podId: string, worktree: string, also?: { command: string; output: string }): Promise<void> {
  const read = await dockerOn(host, "exec", podId, "bash", "-c", `cat ${worktree}/draft.txt && git -C ${worktree} status --porcelain && git -C ${worktree} log -1 --format=%s${also ? ` && ${also.command}` : ""}`);
  expect(read.code, read.stderr).toBe(0);
  expect(read.stdout).toBe(`unsaved work\n?? draft.txt\nWork on the branch\n${also?.output ?? ""}`);
}

/** Pier's containers for the repo's pods on an engine. */
export async function podContainers(host: string | null, repoId: string): Promise<string[]> {
  return lines((await dockerOn(host, "ps", "-aq", "--no-trunc", "--filter", `label=pier.repo=${repoId}`)).stdout);
}

/** Everything of the repo's pod an engine holds: Pier's containers for it, the helper containers of a copy, its workspace volume. */
export async function podThings(host: string | null, repoId: string, instance: string): Promise<{ containers: string[]; helpers: string[]; volumes: string[] }> {
  return {
    containers: await podContainers(host, repoId),
    helpers: lines((await dockerOn(host, "ps", "-aq", "--filter", `label=pier.instance=${instance}`, "--filter", "label=pier.role=workspace-copy")).stdout),
    volumes: lines((await dockerOn(host, "volume", "ls", "-q", "--filter", `name=pier-ws-${repoId}`)).stdout),
  };
}

export const NOTHING = { containers: [], helpers: [], volumes: [] };

/** The session's terminal opens and runs a command in its worktree. */
export async function expectTerminalWorks(pier: PierLike, cookie: string, session: { id: string; worktreePath: string | null }, marker: string, timeoutMs = 60_000): Promise<void> {
  const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
  await term.run(`echo ${marker}-$(pwd)-$((6*7))`, new RegExp(`${marker}-\\S+-42`), timeoutMs);
  expect(term.text).toContain(`${marker}-${session.worktreePath}-42`);
  term.close();
}

export type Told = { state: string; notice: string };

/**
 * Moves the person's pod of the repo to the engine `to` and waits for the move to end: what its
 * sessions were told on the way, each also heard by `listen` as Pier publishes it.
 */
export async function moveAndWait(pier: TestPier, cookie: string, pod: { repoId: string; userId: string; containerId: string }, to: string, listen: (told: Told) => void = () => {}): Promise<Told[]> {
  const told: Told[] = [];
  const ended = new Promise<void>((resolve) => {
    const stop = pier.pier.bus.subscribe("pod.move", `${pod.repoId}/${pod.userId}`, (event) => {
      told.push(event);
      listen(event);
      if (event.state !== "moving") {
        stop();
        resolve();
      }
    });
  });
  const started = await callAs(pier, cookie, "POST", `/api/pods/${pod.containerId}/move`, { dockerEngine: to });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  await ended;
  return told;
}

/**
 * What the tests of moves in the test's own process start from: a Pier on Docker (pods on host
 * networking, to reach Pier's /git as a remote pod reaches Pier's address) on `dataDir`, the
 * test's own second dockerd added as the engine "far", and a repo (`name`) with an active session
 * of the admin whose pod holds the session's work (see makeWorkScript).
 */
export interface MoveWorld {
  dataDir: string;
  engine: SecondEngine;
  pier: TestPier;
  cookie: string;
  farId: string;
  remote: RemoteRepo;
  repoId: string;
  session: SessionJson;
}

export async function startMoveWorld(name: string, dataDir: string): Promise<MoveWorld> {
  const world: Partial<MoveWorld> & { dataDir: string } = { dataDir };
  try {
    world.engine = await startSecondEngine();
    const pier = (world.pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host" }, dataDir));
    const cookie = (world.cookie = await setUpAdmin(pier));
    const added = await callAs(pier, cookie, "POST", "/api/config/docker-engines", { name: "far", host: world.engine.host, capacity: 10 });
    expect(added.status).toBe(201);
    world.farId = added.body.id;
    world.remote = makeRemoteRepo(name);
    world.repoId = await addRepo(pier, cookie, `file://${world.remote.path}`, name);
    const session = (world.session = await activeSession(pier, cookie, { repoId: world.repoId }));
    const work = await dockerOn(null, "exec", session.podId!, "bash", "-c", makeWorkScript(session.worktreePath!));
    expect(work.code, work.stderr).toBe(0);
    return world as MoveWorld;
  } catch (error) {
    await endMoveWorld(world);
    throw error;
  }
}

/** Ends what startMoveWorld started, as far as it got: the Pier for good, the second engine, the data dir, the repo. */
export async function endMoveWorld(world: Partial<MoveWorld> & { dataDir: string }): Promise<void> {
  if (world.pier) await closeForGood(world.pier).catch(() => undefined);
  await world.engine?.destroy();
  rmSync(world.dataDir, { recursive: true, force: true });
  if (world.remote) rmSync(join(world.remote.path, ".."), { recursive: true, force: true });
}
