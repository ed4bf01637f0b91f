/**
 * The ports listening in a session's pod, on a real Docker pod with network `none`, from a
 * repository whose devcontainer names two of them (one labelled and marked as the app):
 *
 * - a server started in the session's terminal is listed within 5 s of listening, with its
 *   process, its session and the repository's label; a forwarded port nothing listens on is not;
 * - the session page's event stream says so (`ports`), and marks a port another of the person's
 *   sessions started with that session's title;
 * - a process naming a session of someone else's pod (Bob's) gets no title: the pod's word names only its own;
 * - a server that stops is gone from the list and from the stream;
 * - with the pod's relay gone, the list comes from looking at /proc/net through the runtime
 *   (no processes then), and the open page still hears of a new server.
 *
 * The servers are Bun scripts (the test image has Bun, not Node or Python).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Docker from "dockerode";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionPort, SessionStreamEvent } from "../../src/http/session-events.ts";
import type { ListeningPort } from "../../src/previews/ports.ts";
import type { PodKey } from "../../src/runtime/runtime.ts";
import { commitFiles, makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { until } from "../support/until.ts";
import { TEST_WORKSPACE_IMAGE, dockerTestEnv } from "../support/workspace-image.ts";

const docker = new Docker();

/** The repository's app: labelled, and to be opened when it first appears. */
const APP = 4100;
/** Named in forwardPorts too, but nothing listens on it. */
const DOCS = 4300;
/** Started by the person's other session. */
const OTHER = 4200;
/** Started while the pod has no relay. */
const LATE = 4400;
/** Started in the pod naming Bob's session as its own. */
const FORGED = 4500;

/** A Bun server on `port` that prints "serving-<port>", computed, so the command line's echo does not match. */
const serve = (port: number) => `bun -e 'Bun.serve({ port: ${port}, fetch: () => new Response("hi") }); console.log("serving-" + (${port - 1} + 1))'`;

/** The session page's event stream, read as it comes. */
class SessionEvents {
  events: SessionStreamEvent[] = [];
  private reader: ReadableStreamDefaultReader<Uint8Array>;

  private constructor(response: Response) {
    this.reader = response.body!.getReader();
    void this.read();
  }

  static async open(pier: TestPier, sessionId: string, cookie: string): Promise<SessionEvents> {
    const response = await pier.fetch(`/api/sessions/${sessionId}/events`, { headers: { cookie } });
    expect(response.status).toBe(200);
    return new SessionEvents(response);
  }

  /** The ports the latest `ports` event said, or null before any. */
  latestPorts(): SessionPort[] | null {
    const last = this.events.findLast((event) => event.type === "ports");
    return last?.type === "ports" ? last.ports : null;
  }

  close(): void {
    void this.reader.cancel().catch(() => undefined);
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { value, done } = await this.reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      text += decoder.decode(value, { stream: true });
      let end = text.indexOf("\n\n");
      while (end >= 0) {
        const data = text.slice(0, end).match(/^data: (.*)$/m);
        if (data) this.events.push(JSON.parse(data[1]!));
        text = text.slice(end + 2);
        end = text.indexOf("\n\n");
      }
    }
  }
}

describe("ports listening in a session's pod", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-ports-"));
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let first: SessionJson;
  let second: SessionJson;
  let bobs: SessionJson;
  let term: TermClient;
  let events: SessionEvents;
  const key = (): PodKey => ({ repoId, userId: first.userId });
  const list = () => pier.pier.previewPorts.list(key());
  /** Runs a script in the sessions' pod as the pod user, outside any terminal. */
  const inPod = (script: string) => pier.pier.runtime.exec({ id: first.podId!, image: "" }, ["bash", "-c", script], { cwd: first.worktreePath, timeoutMs: 20_000 });
  const portOf = (ports: ListeningPort[] | null, port: number) => ports?.find((listening) => listening.port === port);

  beforeAll(async () => {
    pier = await startTestPier(await dockerTestEnv(), dataDir);
    cookie = await setUpAdmin(pier);
    const remote = makeRemoteRepo("ports");
    commitFiles(
      remote,
      {
        ".devcontainer/devcontainer.json": JSON.stringify({
          image: TEST_WORKSPACE_IMAGE,
          forwardPorts: [APP, DOCS],
          portsAttributes: { [APP]: { label: "Web app", onAutoForward: "openPreview" }, [DOCS]: { label: "Docs" } },
        }),
      },
      "The repository's environment names its ports",
    );
    repoId = await addRepo(pier, cookie, remote.path, "ports");
    first = await activeSession(pier, cookie, { repoId, title: "Building the app" });
    second = await activeSession(pier, cookie, { repoId, title: "Trying the API" });
    expect(second.podId).toBe(first.podId);
    await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie }));
    bobs = await activeSession(pier, await signIn(pier, "bob", "bob password"), { repoId, title: "Bob's secret plan" });
    expect(bobs.podId).not.toBe(first.podId);
    events = await SessionEvents.open(pier, first.id, cookie);
    term = await TermClient.connect(pier.url, first.id, { cookie });
  }, 300_000);

  afterAll(async () => {
    term?.close();
    events?.close();
    await closeForGood(pier);
    // A live session's terminal may make its pod again while closeForGood removes it: what is
    // left once Pier is closed goes, with the environment's image.
    for (const pod of await docker.listContainers({ all: true, filters: { label: [`pier.repo=${repoId}`] } })) await docker.getContainer(pod.Id).remove({ force: true });
    for (const found of await docker.listImages({ filters: { reference: [`pier-env-${repoId.slice(0, 12)}`] } })) {
      await docker.getImage(found.Id).remove({ force: true }).catch(() => undefined);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  test("the page's stream says how the pod's ports stand as it opens: the relay's list, without the forwarded port nothing listens on", async () => {
    const opening = await until("the first ports event", async () => events.latestPorts(), (ports) => ports !== null, 10_000);
    expect(portOf(opening, DOCS)).toBeUndefined();
    expect(portOf(opening, APP)).toBeUndefined();
  }, 30_000);

  test("a server started in the session's terminal is listed within 5 s, with its process, its session and the repository's label", async () => {
    await term.run(`${serve(APP)} &`, new RegExp(`serving-${APP}`));
    const listed = await until("the app listed", list, (ports) => portOf(ports, APP) !== undefined, 5_000);
    const app = portOf(listed, APP)!;
    expect(app).toMatchObject({ port: APP, label: "Web app", process: "bun", sessionId: first.id, app: true } satisfies Partial<ListeningPort>);
    expect(app.pid).toBeGreaterThan(1);
    expect(await pier.pier.previewPorts.listens(key(), APP)).toBe(true);
    expect(await pier.pier.previewPorts.listens(key(), DOCS)).toBe(false);
    expect(portOf(listed, DOCS)).toBeUndefined();
  }, 30_000);

  test("the session page's stream carries it, opened through the session, not marked as another session's", async () => {
    const said = await until("the app in the stream", async () => events.latestPorts(), (ports) => ports?.some((p) => p.port === APP) === true, 5_000);
    expect(said!.find((p) => p.port === APP)).toMatchObject({
      port: APP,
      label: "Web app",
      process: "bun",
      sessionId: first.id,
      app: true,
      url: `/sessions/${first.id}/ports/${APP}`,
      origin: `http://${APP}-${first.id}.localhost:${pier.previewPort}`,
      from: null,
    } satisfies Partial<SessionPort>);
  }, 30_000);

  test("a server of the person's other session in the same pod is shown in this one's stream as from that session", async () => {
    const other = await TermClient.connect(pier.url, second.id, { cookie });
    try {
      await other.run(`${serve(OTHER)} &`, new RegExp(`serving-${OTHER}`));
      const said = await until("the other server in the stream", async () => events.latestPorts(), (ports) => ports?.some((p) => p.port === OTHER) === true, 5_000);
      expect(said!.find((p) => p.port === OTHER)).toMatchObject({
        label: null,
        process: "bun",
        sessionId: second.id,
        app: false,
        url: `/sessions/${first.id}/ports/${OTHER}`,
        from: { sessionId: second.id, title: "Trying the API" },
      } satisfies Partial<SessionPort>);
      // Each port once, in order, whatever addresses it listens on.
      expect(said!.map((p) => p.port)).toEqual([...new Set(said!.map((p) => p.port))].sort((a, b) => a - b));
    } finally {
      other.close();
    }
  }, 60_000);

  test("a process naming a session of another person's pod as its own is shown with that word, but never that session's title", async () => {
    const started = await inPod(`PIER_SESSION_ID=${bobs.id} setsid ${serve(FORGED)} </dev/null >/dev/null 2>&1 & echo started`);
    expect(started.stdout).toBe("started\n");
    const said = await until("the forged server in the stream", async () => events.latestPorts(), (ports) => ports?.some((p) => p.port === FORGED) === true, 5_000);
    expect(said!.find((p) => p.port === FORGED)).toMatchObject({ process: "bun", sessionId: bobs.id, from: null });
    await inPod(`pkill -f 'port: ${FORGED}'`);
  }, 30_000);

  test("a server that stops is gone from the list and from the stream", async () => {
    await term.run("kill %1; wait; echo stopped-$((1 + 1))", /stopped-2/);
    await until("the app gone", list, (ports) => portOf(ports, APP) === undefined, 5_000);
    const said = await until("the app gone from the stream", async () => events.latestPorts(), (ports) => ports?.some((p) => p.port === APP) === false, 5_000);
    expect(said!.some((p) => p.port === OTHER)).toBe(true);
  }, 30_000);

  test("with the pod's relay gone, the ports come from /proc/net through the runtime, and the open page hears of a new server", async () => {
    await inPod("pkill -x pier-relay");
    await until("the relay gone", async () => pier.pier.relays!.ports(key()), (ports) => ports === null, 10_000);
    const looked = await list();
    // Who holds a port is the relay's to say: looking at /proc/net tells only that it listens.
    expect(portOf(looked, OTHER)).toEqual({ port: OTHER, label: null, process: null, pid: null, sessionId: null, app: false });
    expect(portOf(looked, APP)).toBeUndefined();
    expect(await inPod(`setsid ${serve(LATE)} </dev/null >/dev/null 2>&1 & echo started`)).toMatchObject({ stdout: "started\n" });
    const said = await until("the new server in the stream", async () => events.latestPorts(), (ports) => ports?.some((p) => p.port === LATE) === true, 10_000);
    expect(said!.find((p) => p.port === LATE)).toMatchObject({ process: null, from: null, url: `/sessions/${first.id}/ports/${LATE}` });
    // Nothing started the relay again meanwhile: the page was told by looking.
    expect(pier.pier.relays!.ports(key())).toBeNull();
  }, 60_000);
});
