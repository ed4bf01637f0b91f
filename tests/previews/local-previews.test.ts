/**
 * Previews on the local runtime, whose "pod" is this machine: the proxy Pier builds dials
 * 127.0.0.1 itself, and refuses Pier's own two ports (its app and its preview listener), which
 * as a preview would be Pier's pages on another origin.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { request } from "node:http";
import { connect } from "node:net";
import { type PreviewListener, listenForPreviews } from "../../src/http/preview-listener.ts";
import type { PreviewAdmission, Refusal } from "../../src/previews/access.ts";
import { type TestPier, closeForGood, startTestPier } from "../support/pier.ts";

describe("previews on the local runtime", () => {
  let pier: TestPier;
  let listener: PreviewListener;
  let app: ReturnType<typeof Bun.serve>;

  /** Admits any preview Host of this listener: who may see it is not this test's subject. */
  const anyone: PreviewAdmission = {
    parseHost(host) {
      const match = /^(\d{1,5})-([a-z0-9]{16})\.localhost$/.exec(host);
      return match ? { port: Number(match[1]), sessionId: match[2]! } : null;
    },
    redeemGrant: (): Refusal => ({ ok: false, status: 403, code: "no_grants", message: "No grants here.", reopen: null }),
    redeemShare: (): Refusal => ({ ok: false, status: 404, code: "no_shares", message: "No shares here.", reopen: null }),
    admit(_cookie, host) {
      const target = this.parseHost(host)!;
      return { ok: true, ...target, key: { repoId: "local", userId: "local" }, pierOrigin: pier.url, closeKeys: [] };
    },
  };

  function ask(port: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: listener.port, path: "/", agent: false, headers: { host: `${port}-abcdefghijklmnop.localhost` } });
      req.once("error", reject);
      req.once("response", (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.once("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.end();
    });
  }

  /** An upgrade asked for over a raw connection: the whole answer, up to the listener closing it. */
  function upgrade(port: number, kind: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(listener.port, "127.0.0.1");
      let answer = "";
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      socket.once("close", () => resolve(answer));
      socket.once("error", reject);
      socket.write(`GET / HTTP/1.1\r\nHost: ${port}-abcdefghijklmnop.localhost\r\nConnection: Upgrade\r\nUpgrade: ${kind}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    });
  }

  beforeAll(async () => {
    pier = await startTestPier();
    app = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, server) => (server.upgrade(req, { data: undefined }) ? undefined : new Response(`app saw ${req.headers.get("x-forwarded-host")}`)),
      websocket: { message: (ws, message) => void ws.send(message) },
    });
    listener = await listenForPreviews({ access: anyone, proxy: pier.pier.previewProxy, trustedProxies: [], secure: false }, { port: 0, host: "127.0.0.1" });
  });

  afterAll(async () => {
    await listener?.close();
    app?.stop(true);
    if (pier) await closeForGood(pier);
  }, 60_000);

  test("a port on this machine is carried to", async () => {
    expect(await ask(app.port!)).toEqual({ status: 200, body: `app saw ${app.port}-abcdefghijklmnop.localhost` });
  });

  test("a WebSocket is carried to it (node:http's upgrade under Bun, which the proxy rests on)", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${listener.port}/`, { headers: { host: `${app.port}-abcdefghijklmnop.localhost` } } as unknown as string[]);
    const echoed = new Promise<unknown>((resolve, reject) => {
      ws.onmessage = (event) => resolve(event.data);
      ws.onerror = () => reject(new Error("the WebSocket failed"));
    });
    ws.onopen = () => ws.send("ping through the preview");
    expect(await echoed).toBe("ping through the preview");
    ws.close();
  });

  test("Pier's own port and its preview listener's are refused, with a sentence that says why", async () => {
    for (const port of [Number(new URL(pier.url).port), pier.previewPort]) {
      const answer = await ask(port);
      expect(answer.status).toBe(403);
      expect(answer.body).toBe(`Port ${port} is Pier's own, which is not shown as a preview.\n`);
    }
    const socket = await upgrade(Number(new URL(pier.url).port), "websocket");
    expect(socket).toStartWith("HTTP/1.1 403 Forbidden\r\n");
    expect(socket).toEndWith("\r\n\r\nPort " + new URL(pier.url).port + " is Pier's own, which is not shown as a preview.\n");
  });

  test("an upgrade to anything but a WebSocket is refused before any dial", async () => {
    expect(await upgrade(app.port!, "h2c")).toStartWith("HTTP/1.1 400 Bad Request\r\n");
  });
});
