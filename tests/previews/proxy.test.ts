/**
 * Previews carried to a web app in a real pod on network `none`, through its relay: HTTP/1.1
 * with keep-alive, 20 MB down byte for byte, 5 MB up, an event stream whose events arrive as
 * they are sent, a WebSocket echo (a dev server's hot reload), the headers a dev server expects,
 * redirects to its localhost made the preview's, and the console script in its pages (however
 * they are cut, compressed or not) and in nothing else. Large downloads handed to the splicer
 * (pier-relay splice on this machine) arrive byte for byte, count in the relay's traffic, and
 * are cut off at once when what admitted them is.
 *
 * Who may see a preview is not this test's subject (see the access rules' own tests): the
 * listener here is given an access that admits this test's cookie for this test's session.
 * The listener Pier itself starts is checked to carry nothing to the app without it.
 *
 * The app is a Bun script (the test image has Bun, not Node or Python), started in the pod as a
 * terminal would start it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { type PreviewListener, listenForPreviews } from "../../src/http/preview-listener.ts";
import { CONSOLE_SCRIPT_PATH } from "../../src/previews/console-script.ts";
import { SCRIPT_TAG } from "../../src/previews/html-inject.ts";
import type { Admitted, PreviewAdmission, Refusal } from "../../src/previews/access.ts";
import { PreviewProxy } from "../../src/previews/proxy.ts";
import { RelayBuild } from "../../src/previews/relay-build.ts";
import { Splicer } from "../../src/previews/splicer.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const APP = 4100;
const NOTHING = 4199;
const SIZE = 20 * 1024 * 1024;
/** The same 20 MB the app makes: an AES-CTR keystream, so no run of it repeats. */
const PATTERN = createCipheriv("aes-128-ctr", Buffer.alloc(16, 1), Buffer.alloc(16, 2)).update(Buffer.alloc(SIZE));
const APP_SCRIPT = `
const crypto = require("crypto"), zlib = require("zlib");
const pattern = crypto.createCipheriv("aes-128-ctr", Buffer.alloc(16, 1), Buffer.alloc(16, 2)).update(Buffer.alloc(${SIZE}));
const bytes = (text) => new TextEncoder().encode(text);
let release;
const released = new Promise((resolve) => (release = resolve));
const server = Bun.serve({
  port: ${APP},
  idleTimeout: 0,
  async fetch(req, server) {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/big": return new Response(pattern);
      case "/upload": {
        const hash = crypto.createHash("sha256");
        let n = 0;
        for await (const chunk of req.body) { hash.update(chunk); n += chunk.length; }
        return new Response(n + " " + hash.digest("hex"));
      }
      case "/headers": return Response.json(Object.fromEntries(req.headers));
      case "/redirect": return new Response(null, { status: 302, headers: { location: "http://localhost:${APP}/landing?x=1", "set-cookie": "pier_preview=forged; Path=/" } });
      case "/events": return new Response(new ReadableStream({ async start(c) {
        c.enqueue(bytes("data: first\\n\\n"));
        await released;
        c.enqueue(bytes("data: last\\n\\n"));
        c.close();
      } }), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
      case "/release": release(); return new Response("released");
      case "/pending": return new Response(String(server.pendingRequests - 1));
      case "/page": return new Response(new ReadableStream({ async start(c) {
        c.enqueue(bytes("<!doctype html><html><he"));
        await Bun.sleep(200);
        c.enqueue(bytes('ad lang="en"><title>app</title></head><body>page</body></html>'));
        c.close();
      } }), { headers: { "content-type": "text/html; charset=utf-8" } });
      case "/page.gz": return new Response(zlib.gzipSync("<html><head><title>gz</title></head><body>zipped</body></html>"), { headers: { "content-type": "text/html", "content-encoding": "gzip" } });
      case "/data.json": return Response.json({ html: "<html><head></head></html>" });
      case "/ws": return server.upgrade(req) ? undefined : new Response("not a websocket", { status: 400 });
    }
    return new Response("not here", { status: 404 });
  },
  websocket: { message(ws, message) { ws.send(message); } },
});
`;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The local port of the connection it came on. */
  via: number;
}

/** A figure of Pier's /metrics, as an admin reads it. */
async function metric(pier: TestPier, admin: string, name: string): Promise<number> {
  const text = await (await pier.fetch("/metrics", { headers: { cookie: admin } })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("previews carried to an app in a real pod", () => {
  let pier: TestPier;
  let session: SessionJson;
  let listener: PreviewListener;
  /** The same, with large answers handed to the splicer. */
  let splicing: PreviewListener;
  /** What each admitted exchange would be closed with: this test cuts them off itself. */
  const held = new Set<() => void>();
  let admin: string;
  const cookie = `pier_preview=${randomBytes(16).toString("hex")}`;
  const host = (port = APP, listenerPort = listener.port) => `${port}-${session.id}.localhost:${listenerPort}`;

  const refusal = (status: 403 | 404, code: string, message: string): Refusal => ({ ok: false, status, code, message, reopen: null });
  /** Admits this test's cookie to this test's session, and nothing else. */
  const testAccess = (): PreviewAdmission => ({
    parseHost(value) {
      const match = /^(\d{1,5})-([a-z0-9]{16})\.localhost:(\d+)$/.exec(value);
      return match && [listener.port, splicing?.port].includes(Number(match[3])) ? { port: Number(match[1]), sessionId: match[2]! } : null;
    },
    redeemGrant: () => refusal(403, "no_grants", "This test hands out no grants."),
    redeemShare: () => refusal(404, "no_shares", "This test makes no shares."),
    admit(header, value): Admitted | Refusal {
      const target = this.parseHost(value);
      if (!target || target.sessionId !== session.id || !header?.split(/;\s*/).includes(cookie)) return refusal(403, "not_yours", "Not this test's preview.");
      return { ok: true, sessionId: session.id, port: target.port, key: { repoId: session.repoId, userId: session.userId }, pierOrigin: pier.url, closeKeys: [`session:${session.id}`] };
    },
  });

  /** A request to the preview over node:http (which, unlike fetch, sends the Host it is given). */
  function ask(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer; agent?: Agent; port?: number; to?: number; hostPort?: number } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port: options.to ?? listener.port,
        method: options.method ?? "GET",
        path,
        agent: options.agent ?? false,
        headers: { host: host(options.port, options.hostPort), cookie: `theme=dark; ${cookie}`, ...options.headers },
      });
      req.once("error", reject);
      req.once("response", (res) => {
        const via = res.socket.localPort!;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), via }));
        res.once("error", reject);
      });
      req.end(options.body);
    });
  }

  beforeAll(async () => {
    pier = await startTestPier(await dockerTestEnv());
    admin = await setUpAdmin(pier);
    const repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("proxy").path}`, "proxy");
    session = await activeSession(pier, admin, { repoId });
    const started = await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", 'setsid bun -e "$0" </dev/null >/tmp/app.log 2>&1 & echo started', APP_SCRIPT], {
      cwd: session.worktreePath,
      timeoutMs: 20_000,
      env: { PIER_SESSION_ID: session.id },
    });
    expect(started.stdout).toContain("started");
    const proxy = new PreviewProxy({ dialer: pier.pier.relays!, holdOpen: (_admitted, close) => {
        held.add(close);
        return () => held.delete(close);
      } });
    listener = await listenForPreviews({ access: testAccess(), proxy, trustedProxies: [], secure: false }, { port: 0, host: "127.0.0.1" });
    const splicer = new Splicer({ binary: () => new RelayBuild({ toolsDir: pier.pier.config.toolsDir }).binary() });
    expect(await splicer.whenReady()).toBe(true);
    const splicingProxy = new PreviewProxy({ dialer: pier.pier.relays!, splicer, holdOpen: (_admitted, close) => {
        held.add(close);
        return () => held.delete(close);
      } });
    splicing = await listenForPreviews({ access: testAccess(), proxy: splicingProxy, trustedProxies: [], secure: false }, { port: 0, host: "127.0.0.1" });
    const deadline = Date.now() + 30_000;
    while ((await ask("/headers").catch(() => null))?.status !== 200) {
      if (Date.now() > deadline) throw new Error("the app in the pod did not come up");
      await Bun.sleep(200);
    }
  }, 300_000);

  afterAll(async () => {
    await listener?.close();
    await splicing?.close();
    // Ended first: a live session's terminal would make its pod again as closeForGood removes it.
    if (session) await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie: admin }));
    if (pier) await closeForGood(pier);
  }, 60_000);

  test("20 MB down arrive byte for byte", async () => {
    const answer = await ask("/big");
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(SIZE);
    expect(sha256(answer.body)).toBe(sha256(PATTERN));
  }, 60_000);

  test("20 MB down by the splicer arrive byte for byte, the connection closing after them, and count in the relay's traffic", async () => {
    const before = await metric(pier, admin, "pier_preview_bytes");
    // A browser's kept-alive connection: only the splicer closes it after an answer.
    const agent = new Agent({ keepAlive: true });
    const answer = await ask("/big", { to: splicing.port, hostPort: splicing.port, agent });
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe("close");
    expect(answer.body.length).toBe(SIZE);
    expect(sha256(answer.body)).toBe(sha256(PATTERN));
    const deadline = Date.now() + 5_000;
    while ((await metric(pier, admin, "pier_preview_bytes")) - before < SIZE && Date.now() < deadline) await Bun.sleep(50);
    expect((await metric(pier, admin, "pier_preview_bytes")) - before).toBeGreaterThanOrEqual(SIZE);
    // A small answer stays on Pier's own path, the connection kept alive.
    const small = await ask("/data.json", { to: splicing.port, hostPort: splicing.port, agent });
    agent.destroy();
    expect(small.headers.connection).not.toBe("close");
  }, 60_000);

  test("a download under way by the splicer is cut off at once when what admitted it is, and holds its pod's connection until then", async () => {
    // A browser's kept-alive connection: only the splicer closes it after an answer.
    const agent = new Agent({ keepAlive: true });
    const req = request({ host: "127.0.0.1", port: splicing.port, path: "/big", agent, headers: { host: host(APP, splicing.port), cookie } });
    req.end();
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
    expect(res.headers.connection).toBe("close");
    await new Promise((resolve) => res.once("data", resolve));
    res.pause();
    // The splicer carries it now: Pier's socket to the relay is closed, and it still counts as open.
    await Bun.sleep(200);
    expect(await metric(pier, admin, "pier_preview_connections")).toBeGreaterThanOrEqual(1);
    const ended = new Promise<string>((resolve) => {
      res.once("end", () => resolve("end"));
      res.once("error", () => resolve("error"));
      res.once("aborted", () => resolve("aborted"));
      req.once("error", () => resolve("error"));
      res.once("close", () => resolve("close"));
    });
    const closers = [...held];
    expect(closers.length).toBeGreaterThanOrEqual(1);
    for (const close of closers) close();
    res.resume();
    let received = 0;
    res.on("data", (chunk: Buffer) => (received += chunk.length));
    await ended;
    // Cut short: far less than the 20 MB arrived (the kernel's buffers hold a few MB at most).
    expect(received).toBeLessThan(SIZE);
    agent.destroy();
    const deadline = Date.now() + 10_000;
    let pending = "1";
    while (pending !== "0" && Date.now() < deadline) {
      await Bun.sleep(50);
      pending = (await ask("/pending")).body.toString();
    }
    expect(pending).toBe("0");
    while ((await metric(pier, admin, "pier_preview_connections")) > 0 && Date.now() < deadline) await Bun.sleep(50);
    expect(await metric(pier, admin, "pier_preview_connections")).toBe(0);
  }, 30_000);

  test("a browser that leaves in the middle of a download takes the app's end of it away too", async () => {
    const req = request({ host: "127.0.0.1", port: listener.port, path: "/big", agent: false, headers: { host: host(), cookie } });
    req.end();
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
    await new Promise((resolve) => res.once("data", resolve));
    res.pause();
    expect((await ask("/pending")).body.toString()).toBe("1");
    req.destroy();
    const deadline = Date.now() + 10_000;
    let pending = "1";
    while (pending !== "0" && Date.now() < deadline) {
      await Bun.sleep(50);
      pending = (await ask("/pending")).body.toString();
    }
    expect(pending).toBe("0");
  }, 30_000);

  test("5 MB up arrive whole at the app", async () => {
    const upload = randomBytes(5 * 1024 * 1024);
    const answer = await ask("/upload", { method: "POST", body: upload, headers: { "content-type": "application/octet-stream" } });
    expect(answer.body.toString()).toBe(`${upload.length} ${sha256(upload)}`);
  }, 60_000);

  test("an event stream's events arrive as the app sends them, before the stream ends", async () => {
    const req = request({ host: "127.0.0.1", port: listener.port, path: "/events", agent: false, headers: { host: host(), cookie, accept: "text/event-stream" } });
    req.end();
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
    expect(res.headers["content-type"]).toBe("text/event-stream");
    let received = "";
    let ended = false;
    res.on("data", (chunk: Buffer) => (received += chunk.toString()));
    const end = new Promise<void>((resolve) =>
      res.once("end", () => {
        ended = true;
        resolve();
      }),
    );
    const deadline = Date.now() + 10_000;
    while (!received.includes("data: first") && Date.now() < deadline) await Bun.sleep(20);
    // The app holds the stream open until it is told to go on: the first event came on its own.
    expect(received).toBe("data: first\n\n");
    expect(ended).toBe(false);
    expect((await ask("/release")).body.toString()).toBe("released");
    await end;
    expect(received).toBe("data: first\n\ndata: last\n\n");
  }, 30_000);

  test("a WebSocket upgrade is spliced to the app: text and a 1 MB binary message echo back", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${listener.port}/ws`, { headers: { host: host(), cookie } } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    const messages: Array<string | ArrayBuffer> = [];
    ws.onmessage = (event) => messages.push(event.data as string | ArrayBuffer);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("the WebSocket did not open"));
    });
    const binary = randomBytes(1024 * 1024);
    ws.send("hello from the browser");
    ws.send(binary);
    const deadline = Date.now() + 20_000;
    while (messages.length < 2 && Date.now() < deadline) await Bun.sleep(20);
    expect(messages[0]).toBe("hello from the browser");
    expect(sha256(new Uint8Array(messages[1] as ArrayBuffer))).toBe(sha256(binary));
    ws.close();
  }, 30_000);

  test("cutting off the key a WebSocket was admitted with closes it at once", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${listener.port}/ws`, { headers: { host: host(), cookie } } as unknown as string[]);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("the WebSocket did not open"));
    });
    const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
    const closers = [...held];
    expect(closers.length).toBeGreaterThanOrEqual(1);
    for (const close of closers) close();
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  }, 30_000);

  test("two requests go on one kept-alive connection from the browser", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await ask("/headers", { agent });
    const second = await ask("/data.json", { agent });
    agent.destroy();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.via).toBe(first.via);
  });

  test("the app is told Host: localhost:<port> and the truth in X-Forwarded-*; Pier's cookie is not passed on, the app's own is", async () => {
    const seen = JSON.parse((await ask("/headers", { headers: { "x-forwarded-for": "6.6.6.6", "x-forwarded-host": "evil.example" } })).body.toString());
    expect(seen.host).toBe(`localhost:${APP}`);
    expect(seen["x-forwarded-host"]).toBe(host());
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-port"]).toBe(String(listener.port));
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen.cookie).toBe("theme=dark");
  });

  test("a redirect to the app's localhost goes to the preview's origin; the app cannot set Pier's cookie", async () => {
    const answer = await ask("/redirect");
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(`http://${host()}/landing?x=1`);
    expect(answer.headers["set-cookie"]).toBeUndefined();
  });

  test("a page gets the console script after its <head>, though the tag came in two pieces; the script is served there", async () => {
    const answer = await ask("/page", { headers: { "sec-fetch-dest": "document" } });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe(`<!doctype html><html><head lang="en">${SCRIPT_TAG}<title>app</title></head><body>page</body></html>`);
    const script = await ask(CONSOLE_SCRIPT_PATH);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.body.toString()).toContain(JSON.stringify(pier.url));
  });

  test("a gzip page is decoded and gets the script; JSON never does", async () => {
    const page = await ask("/page.gz", { headers: { "accept-encoding": "gzip" } });
    expect(page.headers["content-encoding"]).toBeUndefined();
    expect(page.body.toString()).toBe(`<html><head>${SCRIPT_TAG}<title>gz</title></head><body>zipped</body></html>`);
    const json = await ask("/data.json");
    expect(json.headers["content-type"]).toContain("application/json");
    expect(json.body.toString()).toBe(JSON.stringify({ html: "<html><head></head></html>" }));
  });

  test("a port nothing listens on in the pod says so; a host that is not a preview, or a stranger, never reaches the app", async () => {
    const closed = await ask("/", { port: NOTHING });
    expect(closed.status).toBe(502);
    expect(closed.body.toString()).toContain(`Nothing is listening on port ${NOTHING} in your pod.`);
    expect((await ask("/headers", { headers: { host: `localhost:${listener.port}` } })).status).toBe(404);
    const stranger = await ask("/headers", { headers: { cookie: "pier_preview=guess" } });
    expect(stranger.status).toBe(403);
    expect(stranger.body.toString()).not.toContain("x-forwarded-host");
  });

  test("the preview listener Pier itself starts carries nothing to the app without access", async () => {
    const answer = await ask("/headers", { to: pier.previewPort, headers: { host: `${APP}-${session.id}.localhost:${pier.previewPort}` } });
    expect([302, 403, 404]).toContain(answer.status);
    expect(answer.body.toString()).not.toContain("x-forwarded-host");
  });
});
