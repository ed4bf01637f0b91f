/**
 * A pod on a second Docker engine (a dockerd of the test's own standing in for a remote host)
 * reaches Pier's sockets through its bridge, started by Pier over the engine's exec stream: the
 * pod's programs dial the bridge's sockets in /run/pier, and nothing of Pier's disk is mounted in
 * it. The bridge needs no network; the pod's clone does (it fetches the mirror from Pier's /git),
 * so the pod runs on network host to reach Pier on 127.0.0.1 as a remote pod reaches its address. Through
 * it: the session's terminal (a flood of some 3 MB, every line once and in order; echo; resizes),
 * the services socket (git's credential helper gets the person's GitHub token), and a preview's
 * connection to a port in the pod through the relay. After a restart of Pier a new bridge takes
 * over (the old one gone with its stdin) and the terminal comes back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { podServicesDir } from "../../src/repos/layout.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SecondEngine, startSecondEngine } from "../support/second-engine.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { contiguity, numbersIn } from "../support/terminal-text.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const TOKEN = "ghp_carriedThroughTheBridge";
let engine: SecondEngine;
let pier: TestPier;
let env: Record<string, string>;
const dataDir = mkdtempSync(join(tmpdir(), "pier-bridge-engine-"));
let cookie: string;
let repoId: string;
let session: SessionJson & { userId?: string };
let container: string;
const clients: TermClient[] = [];

const connect = async (size?: { cols: number; rows: number }) => {
  const client = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url }, size);
  clients.push(client);
  return client;
};
/** What runs in the pod, as root sees it: user and command line of each process. */
const processes = async () => (await engine.docker("exec", "-u", "0", container, "ps", "-eo", "user:12,args")).split("\n");

beforeAll(async () => {
  engine = await startSecondEngine();
  env = { ...(await dockerTestEnv()), GITHUB_TOKEN: TOKEN, PIER_POD_NETWORK: "host" };
  pier = await startTestPier(env, dataDir);
  cookie = await setUpAdmin(pier);
  const added = await pier.fetch("/api/config/docker-engines", { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "second", host: engine.host }) });
  expect(added.status).toBe(201);
  repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("bridged").path}`, "bridged");
  const pinned = await pier.fetch(`/api/repos/${repoId}`, { method: "PATCH", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ dockerEngine: "second" }) });
  expect(pinned.status).toBe(200);
  session = await activeSession(pier, cookie, { repoId });
  container = (await engine.docker("ps", "-q", "--filter", `label=pier.repo=${repoId}`)).trim();
  expect(container).not.toBe("");
}, 300_000);

afterAll(async () => {
  for (const client of clients) client.close();
  if (pier) await closeForGood(pier).catch(() => undefined);
  await engine?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

describe("a pod on another engine, through its bridge", () => {
  test("the terminal's holder dials the bridge's socket, run by root in /run/pier; a 3 MB flood arrives line for line, keys echo, resizes reach the shell", async () => {
    const term = await connect();
    await term.run("echo ON-$((6*7))", /ON-42/);
    const running = await processes();
    expect(running.some((line) => /^root\s+\S*pier-bridge serve \/run\/pier$/.test(line.trim()))).toBe(true);
    expect(running.some((line) => line.includes("pier-pty serve /run/pier/holder.sock"))).toBe(true);
    expect(await engine.docker("exec", container, "stat", "-c", "%a %U %n", "/run/pier", "/run/pier/holder.sock")).toBe("755 root /run/pier\n666 root /run/pier/holder.sock\n");

    term.text = "";
    term.input("seq -f 'b%.0f' 1 350000; echo b-$((3500*100))-done\r");
    await term.waitFor(/b-350000-done/, 120_000);
    expect(contiguity(numbersIn(term.text.split("\r\n"), "b"), 1, 350000)).toBe("ok");

    for (const [cols, rows] of [[133, 41], [80, 24]] as const) {
      term.resize(cols, rows);
      term.text = "";
      term.input("stty size\r");
      expect((await term.waitFor(/(\d+ \d+)\r\n/))[1]).toBe(`${rows} ${cols}`);
    }
    term.close();
  }, 180_000);

  test("the services socket answers through the bridge: git's credential helper in the pod gets the person's GitHub token", async () => {
    const helper = join(podServicesDir(dataDir, repoId, session.userId!), "git-credential-pier");
    // It dials the bridge's socket, not Pier's own (which the pod still mounts until its files come otherwise).
    expect(readFileSync(helper, "utf8")).toContain("/run/pier/services.sock");
    const term = await connect();
    term.text = "";
    term.input(`printf 'protocol=https\\nhost=github.com\\n\\n' | ${helper} get | sed 's/^/got-/'\r`);
    await term.waitFor(new RegExp(`got-password=${TOKEN}`));
    term.close();
  }, 60_000);

  test("a preview's connection reaches a port in the pod through the relay over the bridge", async () => {
    const term = await connect();
    term.input(`bun -e 'Bun.serve({ hostname: "127.0.0.1", port: 8123, fetch: () => new Response("from-the-pod-" + 6 * 7) }); console.log("serving-" + 6 * 7)' &\r`);
    await term.waitFor(/serving-42/);
    expect((await processes()).some((line) => line.includes("pier-relay start /run/pier/relay.sock"))).toBe(true);
    const key = { repoId, userId: session.userId! };
    let answer = "";
    for (let tries = 0; tries < 50 && !answer.includes("from-the-pod-42"); tries++) {
      const socket = await pier.pier.relays!.dial(key, 8123).catch(() => null);
      if (!socket) {
        await Bun.sleep(200);
        continue;
      }
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise((resolve) => socket.once("end", resolve));
      socket.resume();
      socket.end("GET / HTTP/1.0\r\nHost: pod\r\n\r\n");
      await ended;
      answer = Buffer.concat(chunks).toString();
    }
    expect(answer).toContain("from-the-pod-42");
    term.input("kill %1\r");
    term.close();
  }, 60_000);

  test("after a restart of Pier a new bridge takes over, the old one gone with its stdin, and the terminal comes back", async () => {
    const term = await connect();
    term.input("echo before-$((2*21))\r");
    await term.waitFor(/before-42/);
    term.close();
    await pier.close();
    pier = await startTestPier(env, dataDir);
    await pier.pier.hosts.terminal(pier.pier.sessions.get(session.id));
    const back = await connect();
    await back.run("echo back-$((5*5))", /back-25/);
    back.close();
    let bridges: string[] = [];
    for (let tries = 0; tries < 50; tries++) {
      bridges = (await processes()).filter((line) => line.includes("pier-bridge serve"));
      if (bridges.length === 1) break;
      await Bun.sleep(200);
    }
    expect(bridges).toHaveLength(1);
  }, 180_000);
});
