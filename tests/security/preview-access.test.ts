/**
 * Who sees a web app preview, tried as a curious member, a stranger and a leaked link would: on a
 * real Pier with real pods (network none), an app listening in Alice's pod and in Bob's, through
 * Pier's own doors (the ports list, /sessions/:id/ports/:port, the share API) and the decisions the
 * preview listener takes at the preview's origin (PreviewAccess: a grant redeemed, each request
 * admitted). A grant works once, for a minute, on its own host; the cookie it becomes admits only
 * while its sign-in lasts, its person may see the session and the session is live; a share link
 * works signed out until it expires or is revoked; Pier's API answers nothing from a preview.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { once } from "node:events";
import { Agent, type IncomingMessage, request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { users } from "../../src/auth/tables.ts";
import type { Admitted, Redeemed, Refusal } from "../../src/previews/access.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const APP_PORT = 3000;
/** The app each pod runs: a Bun server (the test image has Bun, not Node or Python). */
const BIG = 20 * 1024 * 1024;
const APP = `const big = Buffer.alloc(${BIG}, 7); Bun.serve({ port: ${APP_PORT}, idleTimeout: 0, fetch: (req) => new URL(req.url).pathname === "/big" ? new Response(big) : new Response("the app in the pod") });`;

type Port = { port: number; label: string | null; process: string | null; url: string };

describe("access to web app previews", () => {
  let pier: TestPier;
  let admin: string;
  let alice: string;
  let bob: string;
  let aliceSession: SessionJson;
  let bobSession: SessionJson;
  let env: Record<string, string>;
  // Kept across the restart one test makes.
  const dataDir = mkdtempSync(join(tmpdir(), "pier-preview-access-"));

  const access = () => pier.pier.previews.access;
  const open = (cookie: string | null, sessionId: string, port: string | number, query = "") =>
    pier.fetch(`/sessions/${sessionId}/ports/${port}${query}`, { headers: cookie ? { cookie } : {} });
  /** The grant Pier redirects `cookie`'s browser to, as its preview host and its token. */
  const grantFor = async (cookie: string, sessionId: string, port = APP_PORT, query = "") => {
    const res = await open(cookie, sessionId, port, query);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.pathname).toBe("/__pier/grant");
    return { host: location.host, origin: location.origin, grant: location.searchParams.get("g")! };
  };
  const redeemed = (result: Redeemed | Refusal): Redeemed => {
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
    return result;
  };
  const admitted = (result: Admitted | Refusal): Admitted => {
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
    return result;
  };
  /** The cookie a browser would send back for a Set-Cookie. */
  const sent = (setCookie: string) => setCookie.split(";")[0]!;
  /** Alice's preview, opened: its host and the cookie her browser holds there. */
  const alicePreview = async (cookie = alice) => {
    const { host, grant } = await grantFor(cookie, aliceSession.id);
    return { host, cookie: sent(redeemed(access().redeemGrant(grant, host)).setCookie) };
  };
  /**
   * A download of /big through Pier's preview listener, its first bytes in and then left paused
   * (the splicer carries it: its answer closes the connection after it); `cut` resolves with the
   * bytes that arrived once the download ends.
   */
  const downloadUnderWay = async (host: string, cookie: string) => {
    // A browser's kept-alive connection: only the splicer closes it after an answer.
    const agent = new Agent({ keepAlive: true });
    const req = request({ host: "127.0.0.1", port: pier.previewPort, path: "/big", agent, headers: { host, cookie } });
    req.end();
    const res = await new Promise<IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe("close");
    await new Promise((resolve) => res.once("data", resolve));
    res.pause();
    await Bun.sleep(200);
    let received = 0;
    const ended = new Promise<number>((resolve) => {
      for (const event of ["end", "error", "aborted", "close"]) res.once(event, () => resolve(received));
      req.once("error", () => resolve(received));
    }).finally(() => agent.destroy());
    return {
      cut: () => {
        res.on("data", (chunk: Buffer) => (received += chunk.length));
        res.resume();
        return ended;
      },
    };
  };
  const hostOf = (sessionId: string, port: number, like: string) => like.replace(/^\d+-[a-z0-9]+\./, `${port}-${sessionId}.`);
  const inPod = (session: SessionJson, script: string, args: string[] = []) =>
    pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script, ...args], { cwd: session.worktreePath, timeoutMs: 20_000 });
  const portsOf = async (cookie: string, sessionId: string) => {
    const res = await pier.fetch(`/api/sessions/${sessionId}/ports`, { headers: { cookie } });
    return { status: res.status, body: (await res.json()) as Port[] };
  };

  beforeAll(async () => {
    env = { ...(await dockerTestEnv()), PIER_PREVIEW_PORT: "0" };
    pier = await startTestPier(env, dataDir);
    admin = await setUpAdmin(pier);
    for (const name of ["alice", "bob"]) {
      expect((await pier.fetch("/api/users", json({ username: name, password: `${name} password`, role: "member" }, { cookie: admin }))).status).toBe(201);
    }
    alice = await signIn(pier, "alice", "alice password");
    bob = await signIn(pier, "bob", "bob password");
    const repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("preview-access").path}`, "preview-access");
    [aliceSession, bobSession] = await Promise.all([activeSession(pier, alice, { repoId }), activeSession(pier, bob, { repoId })]);
    for (const session of [aliceSession, bobSession]) {
      expect((await inPod(session, 'setsid bun -e "$0" </dev/null >/tmp/app.log 2>&1 & echo started', [APP])).stdout).toContain("started");
    }
    const deadline = Date.now() + 20_000;
    for (const [cookie, session] of [[alice, aliceSession], [bob, bobSession]] as const) {
      while (!(await portsOf(cookie, session.id)).body.some((p) => p.port === APP_PORT)) {
        if (Date.now() > deadline) throw new Error(`port ${APP_PORT} never listed for ${session.id}`);
        await Bun.sleep(100);
      }
    }
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the ports list: Alice sees her app with Pier's address that opens it; Bob is told her session does not exist; a stranger must sign in", async () => {
    const mine = await portsOf(alice, aliceSession.id);
    expect(mine.status).toBe(200);
    expect(mine.body.find((p) => p.port === APP_PORT)).toEqual({ port: APP_PORT, label: null, process: "bun", url: `/sessions/${aliceSession.id}/ports/${APP_PORT}` });
    expect((await apiError(await pier.fetch(`/api/sessions/${aliceSession.id}/ports`, { headers: { cookie: bob } }))).status).toBe(404);
    expect((await pier.fetch(`/api/sessions/${aliceSession.id}/ports`)).status).toBe(401);
  });

  test("opening: Alice is sent to her preview's own origin with a grant; Bob gets 403, a stranger the sign-in page; bad ports and paths are 400", async () => {
    const { origin } = await grantFor(alice, aliceSession.id, APP_PORT, "?path=/deep/page%3Fx=1");
    expect(origin).toMatch(new RegExp(`^http://${APP_PORT}-${aliceSession.id}\\.localhost:\\d+$`));
    const bobs = await open(bob, aliceSession.id, APP_PORT);
    expect(bobs.status).toBe(403);
    expect(await bobs.text()).toContain("another person");
    const stranger = await open(null, aliceSession.id, APP_PORT);
    expect(stranger.status).toBe(303);
    // ... and back to the preview once signed in.
    expect(stranger.headers.get("location")).toBe(`/login?next=${encodeURIComponent(`/sessions/${aliceSession.id}/ports/${APP_PORT}`)}`);
    for (const port of ["0", "65536", "03000", "-1", "http"]) expect((await open(alice, aliceSession.id, port)).status).toBe(400);
    for (const path of ["//evil.example/", "http://evil.example/", "x", "/a\\b"]) {
      expect((await open(alice, aliceSession.id, APP_PORT, `?path=${encodeURIComponent(path)}`)).status).toBe(400);
    }
    expect((await open(alice, "nosuchsession", APP_PORT)).status).toBe(404);
  });

  test("an API token opens no preview: the grant is tied to a browser's sign-in", async () => {
    const made = await pier.fetch("/api/tokens", json({ name: "script" }, { cookie: alice }));
    const { token } = (await made.json()) as { token: string };
    expect((await pier.fetch(`/sessions/${aliceSession.id}/ports/${APP_PORT}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
  });

  test("a port nothing listens on answers 404 with a page that looks again, which Pier's own pane may frame and nobody else", async () => {
    const res = await open(alice, aliceSession.id, 4999);
    expect(res.status).toBe(404);
    const page = await res.text();
    expect(page).toContain('<meta http-equiv="refresh" content="2"/>');
    expect(page).toContain("Nothing listens on port 4999");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'self'");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  test("a grant becomes the preview origin's cookie once, within its minute, on its own host: reused, late, elsewhere or altered it is refused", async () => {
    const { host, grant } = await grantFor(alice, aliceSession.id, APP_PORT, "?path=/deep/page%3Fx=1");
    const first = redeemed(access().redeemGrant(grant, host));
    expect(first.to).toBe("/deep/page?x=1");
    // Host-only (no Domain: no sibling preview gets it), out of the app's scripts' reach, and
    // the only kind Chromium keeps inside Pier's cross-site frame.
    expect(first.setCookie).toMatch(/^pier_preview=[\w-]+\.[\w-]+; Path=\/; HttpOnly; Max-Age=43200; SameSite=None; Secure; Partitioned$/);
    expect(access().redeemGrant(grant, host)).toMatchObject({ ok: false, status: 403, code: "grant_used" });

    const late = await grantFor(alice, aliceSession.id);
    expect(access().redeemGrant(late.grant, late.host, Date.now() + 61_000)).toMatchObject({ ok: false, status: 403, code: "grant_invalid" });
    const elsewhere = await grantFor(alice, aliceSession.id);
    expect(access().redeemGrant(elsewhere.grant, hostOf(aliceSession.id, 3001, elsewhere.host))).toMatchObject({ ok: false, status: 403 });
    expect(access().redeemGrant(elsewhere.grant, hostOf(bobSession.id, APP_PORT, elsewhere.host))).toMatchObject({ ok: false, status: 403 });
    const [body, mac] = elsewhere.grant.split(".") as [string, string];
    const altered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), p: 3001 })).toString("base64url");
    expect(access().redeemGrant(`${altered}.${mac}`, hostOf(aliceSession.id, 3001, elsewhere.host))).toMatchObject({ ok: false, status: 403, code: "grant_invalid" });
    // Refused elsewhere, the grant was not spent: on its own host it still works, once.
    expect(access().redeemGrant(elsewhere.grant, elsewhere.host).ok).toBe(true);
  });

  test("the cookie admits every request on its own host alone; a cookie tossed in from a sibling host is passed over", async () => {
    const { host, cookie } = await alicePreview();
    const let_in = admitted(access().admit(cookie, host));
    expect(let_in).toMatchObject({ sessionId: aliceSession.id, port: APP_PORT, key: { repoId: aliceSession.repoId, userId: aliceSession.userId } });
    expect(let_in.pierOrigin).toBe(new URL(pier.url).origin);
    expect(access().admit(cookie, hostOf(aliceSession.id, 3001, host))).toMatchObject({ ok: false, status: 403, code: "no_preview_access" });
    expect(access().admit(null, host)).toMatchObject({ ok: false, status: 403, code: "no_preview_access", reopen: `${new URL(pier.url).origin}/sessions/${aliceSession.id}/ports/${APP_PORT}` });
    // An app on a sibling preview host can set a cookie of the same name for all of localhost
    // (Domain=localhost), even a real pass of its own host: passed over, Alice's still counts.
    const bobs = await grantFor(bob, bobSession.id);
    const tossed = sent(redeemed(access().redeemGrant(bobs.grant, bobs.host)).setCookie);
    expect(admitted(access().admit(`${tossed}; ${cookie}`, host)).key.userId).toBe(aliceSession.userId);
    expect(admitted(access().admit(`${cookie}; ${tossed}`, host)).key.userId).toBe(aliceSession.userId);
    expect(access().admit(tossed, host).ok).toBe(false);
    expect(access().admit("pier_preview=made.up", host).ok).toBe(false);
  });

  test("Bob's cookie for his own preview does not open Alice's", async () => {
    const own = await grantFor(bob, bobSession.id);
    const bobsCookie = sent(redeemed(access().redeemGrant(own.grant, own.host)).setCookie);
    expect(access().admit(bobsCookie, own.host).ok).toBe(true);
    const alicesHost = hostOf(aliceSession.id, APP_PORT, own.host);
    expect(access().admit(bobsCookie, alicesHost)).toMatchObject({ ok: false, status: 403 });
    // Nor his grant, taken to her host.
    const again = await grantFor(bob, bobSession.id);
    expect(access().redeemGrant(again.grant, alicesHost)).toMatchObject({ ok: false, status: 403 });
  });

  test("an admin may open Alice's preview, and is refused at the next request once no longer an admin", async () => {
    const { host, cookie } = await alicePreview(admin);
    expect(access().admit(cookie, host).ok).toBe(true);
    const adminId = pier.pier.db.select({ id: users.id }).from(users).where(eq(users.username, "admin")).get()!.id;
    pier.pier.db.update(users).set({ role: "member" }).where(eq(users.id, adminId)).run();
    try {
      expect(access().admit(cookie, host)).toMatchObject({ ok: false, status: 403, code: "not_yours" });
    } finally {
      pier.pier.db.update(users).set({ role: "admin" }).where(eq(users.id, adminId)).run();
    }
  });

  test("signing out refuses the preview at its next request and closes what the sign-in opened there; her other sign-in's preview carries on", async () => {
    const secondSignIn = await signIn(pier, "alice", "alice password");
    const { host, cookie } = await alicePreview(secondSignIn);
    const other = await alicePreview();
    let closed = 0;
    pier.pier.previews.holdOpen(admitted(access().admit(cookie, host)), () => closed++);
    expect((await pier.fetch("/api/auth/logout", { method: "POST", headers: { cookie: secondSignIn } })).status).toBe(204);
    expect(closed).toBe(1);
    expect(access().admit(cookie, host)).toMatchObject({ ok: false, status: 403, code: "signed_out" });
    expect(access().admit(other.cookie, other.host).ok).toBe(true);
    // Signed out, opening again goes to the sign-in page.
    expect((await open(secondSignIn, aliceSession.id, APP_PORT)).headers.get("location")).toStartWith("/login?next=");
  });

  test("a large download under way by the splicer is cut off at once by signing out, and one by a share link by its revocation", async () => {
    const thirdSignIn = await signIn(pier, "alice", "alice password");
    const { host, cookie } = await alicePreview(thirdSignIn);
    const download = await downloadUnderWay(host, cookie);
    expect((await pier.fetch("/api/auth/logout", { method: "POST", headers: { cookie: thirdSignIn } })).status).toBe(204);
    // Far less than the 20 MB: the kernel's buffers along the way hold a few MB at most.
    expect(await download.cut()).toBeLessThan(BIG);

    const made = await pier.fetch(`/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`, json({ minutes: 5 }, { cookie: alice }));
    const url = new URL(((await made.json()) as { url: string }).url);
    const viewer = sent(redeemed(access().redeemShare(url.pathname.split("/").pop()!, url.host)).setCookie);
    const shared = await downloadUnderWay(url.host, viewer);
    expect((await pier.fetch(`/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`, { method: "DELETE", headers: { cookie: alice } })).status).toBe(204);
    expect(await shared.cut()).toBeLessThan(BIG);
  }, 60_000);

  test("a share link works signed out until it expires; a new one replaces it; revoked it answers 404 and its viewers are cut off", async () => {
    const share = (cookie: string, sessionId: string, body: unknown, port = APP_PORT) => pier.fetch(`/api/sessions/${sessionId}/ports/${port}/share`, json(body, { cookie }));
    const made = await share(alice, aliceSession.id, { minutes: 1 });
    expect(made.status).toBe(201);
    const link = (await made.json()) as { url: string; expiresAt: string };
    const url = new URL(link.url);
    expect(url.pathname).toMatch(/^\/__pier\/share\/[\w-]{43}$/);
    expect(url.host).toMatch(new RegExp(`^${APP_PORT}-${aliceSession.id}\\.localhost:\\d+$`));
    const expiresAt = Date.parse(link.expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(50_000);
    const token = url.pathname.split("/").pop()!;

    // Opened by someone signed out: the link's cookie alone admits them, until the link expires.
    const viewer = sent(redeemed(access().redeemShare(token, url.host)).setCookie);
    expect(admitted(access().admit(viewer, url.host)).pierOrigin).toBeNull();
    expect(access().admit(viewer, url.host, expiresAt + 1)).toMatchObject({ ok: false, status: 404, code: "share_gone" });
    expect(access().redeemShare(token, url.host, expiresAt + 1)).toMatchObject({ ok: false, status: 404 });
    // Its token opens only its own preview.
    expect(access().redeemShare(token, hostOf(aliceSession.id, 3001, url.host))).toMatchObject({ ok: false, status: 404 });
    expect(access().redeemShare("x".repeat(43), url.host)).toMatchObject({ ok: false, status: 404 });

    // A new link for the port replaces the old one at once.
    const second = (await (await share(alice, aliceSession.id, { minutes: 60 })).json()) as { url: string };
    expect(access().admit(viewer, url.host)).toMatchObject({ ok: false, status: 404 });
    const secondToken = new URL(second.url).pathname.split("/").pop()!;
    const secondViewer = sent(redeemed(access().redeemShare(secondToken, url.host)).setCookie);
    let closed = 0;
    pier.pier.previews.holdOpen(admitted(access().admit(secondViewer, url.host)), () => closed++);

    // Bob can neither make nor revoke a link to Alice's preview.
    expect((await share(bob, aliceSession.id, { minutes: 5 })).status).toBe(404);
    expect((await pier.fetch(`/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`, { method: "DELETE", headers: { cookie: bob } })).status).toBe(404);
    expect(access().admit(secondViewer, url.host).ok).toBe(true);

    const revoked = await pier.fetch(`/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`, { method: "DELETE", headers: { cookie: alice } });
    expect(revoked.status).toBe(204);
    expect(closed).toBe(1);
    expect(access().admit(secondViewer, url.host)).toMatchObject({ ok: false, status: 404, code: "share_gone" });
    expect(access().redeemShare(secondToken, url.host)).toMatchObject({ ok: false, status: 404 });
    expect((await pier.fetch(`/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`, { method: "DELETE", headers: { cookie: alice } })).status).toBe(404);
  });

  test("share links take 1 to 10080 minutes and a real port, and only from the person", async () => {
    const share = (body: unknown, port: string | number = APP_PORT) => pier.fetch(`/api/sessions/${aliceSession.id}/ports/${port}/share`, json(body, { cookie: alice }));
    for (const body of [{}, { minutes: 0 }, { minutes: 10081 }, { minutes: 1.5 }, { minutes: "5" }]) {
      const res = await share(body);
      expect((await apiError(res)).status).toBe(400);
    }
    expect((await apiError(await share({ minutes: 5 }, "03000"))).code).toBe("invalid_port");
    expect((await apiError(await share({ minutes: 5 }, 65536))).code).toBe("invalid_port");
    const session = pier.pier.sessions.get(aliceSession.id);
    const user = pier.pier.db.select().from(users).where(eq(users.id, session.userId)).get()!;
    expect(() => pier.pier.previews.share({ kind: "agent", user, sessionId: session.id }, session.id, "3000", { minutes: 5 }, { origin: "http://x", https: false })).toThrow("not an agent");
  });

  test("Pier's API answers nothing from a preview's origin, whatever the method", async () => {
    const { origin } = await grantFor(alice, aliceSession.id);
    for (const [method, path] of [["GET", "/api/sessions"], ["GET", `/api/sessions/${aliceSession.id}/ports`], ["POST", `/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`], ["GET", "/"]] as const) {
      const res = await pier.fetch(path, { method, headers: { cookie: alice, origin, "content-type": "application/json" }, body: method === "POST" ? JSON.stringify({ minutes: 5 }) : undefined });
      expect(res.status).toBe(403);
      if (path.startsWith("/api/")) expect((await apiError(res)).code).toBe("from_preview");
    }
    // A preview under Pier's own site sends Pier's cookie with its fetches: same-site, not a navigation.
    expect((await pier.fetch("/api/sessions", { headers: { cookie: alice, "sec-fetch-site": "same-site", "sec-fetch-mode": "cors" } })).status).toBe(403);
    // A link from there that the person follows is a navigation, and Pier's own pages are same-origin.
    expect((await pier.fetch(`/sessions/${aliceSession.id}`, { headers: { cookie: alice, "sec-fetch-site": "same-site", "sec-fetch-mode": "navigate" } })).status).toBe(200);
    expect((await pier.fetch("/api/sessions", { headers: { cookie: alice, "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" } })).status).toBe(200);
    // Pier's pages may frame the preview origins, and nothing else.
    const csp = (await pier.fetch("/", { headers: { cookie: alice } })).headers.get("content-security-policy")!;
    expect(csp).toContain(`frame-src 'self' http://*.localhost:${new URL(origin).port}`);
    expect(csp).toContain("frame-ancestors 'none'");
  });

  test("hosts that are no preview of this Pier are refused: ports 0, 65536, 03000, another port or domain, an address", async () => {
    const { host, grant } = await grantFor(alice, aliceSession.id);
    const { cookie } = await alicePreview();
    const [, rest] = host.split(/\.(.+)/) as [string, string];
    const previewPort = rest.split(":")[1]!;
    for (const bad of [
      `0-${aliceSession.id}.${rest}`,
      `65536-${aliceSession.id}.${rest}`,
      `03000-${aliceSession.id}.${rest}`,
      `${APP_PORT}-${aliceSession.id}.localhost:${Number(previewPort) + 1}`,
      `${APP_PORT}-${aliceSession.id}.evil.example:${previewPort}`,
      `127.0.0.1:${previewPort}`,
      `localhost:${previewPort}`,
    ]) {
      expect(access().parseHost(bad)).toBeNull();
      expect(access().admit(cookie, bad)).toMatchObject({ ok: false, status: 404, code: "not_a_preview" });
      expect(access().redeemGrant(grant, bad)).toMatchObject({ ok: false, status: 404 });
      expect(access().redeemShare("x", bad)).toMatchObject({ ok: false, status: 404 });
    }
  });

  test("a request head over 16 KiB is refused with 431 before anything reads it; one within it is answered", async () => {
    const { host, cookie } = await alicePreview();
    const firstLine = async (padding: number) => {
      const socket = connect(pier.previewPort, "127.0.0.1");
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nX-Padding: ${"a".repeat(padding)}\r\nConnection: close\r\n\r\n`);
      const [chunk] = (await once(socket, "data")) as [Buffer];
      socket.destroy();
      return chunk.toString("latin1").split("\r\n", 1)[0];
    };
    expect(await firstLine(20_000)).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(await firstLine(1_000)).toBe("HTTP/1.1 200 OK");
  });

  test("a grant an earlier run of Pier made is refused after a restart, though under a minute old and never used", async () => {
    const before = await grantFor(alice, aliceSession.id);
    await pier.close();
    pier = await startTestPier(env, dataDir);
    // The same preview host on the new run's listener: only the grant's age in runs differs.
    const host = before.host.replace(/:\d+$/, `:${pier.previewPort}`);
    expect(access().redeemGrant(before.grant, host)).toMatchObject({ ok: false, status: 403, code: "grant_invalid", message: expect.stringContaining("before Pier restarted") });
    const after = await grantFor(alice, aliceSession.id);
    expect(after.host).toBe(host);
    expect(access().redeemGrant(after.grant, after.host).ok).toBe(true);
  }, 120_000);

  test("once the session ends its preview is refused at the next request, its connections close, and it opens no more", async () => {
    const { host, cookie } = await alicePreview();
    const link = (await (await pier.fetch(`/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`, json({ minutes: 5 }, { cookie: alice }))).json()) as { url: string };
    const viewer = sent(redeemed(access().redeemShare(new URL(link.url).pathname.split("/").pop()!, host)).setCookie);
    let closed = 0;
    pier.pier.previews.holdOpen(admitted(access().admit(cookie, host)), () => closed++);
    pier.pier.previews.holdOpen(admitted(access().admit(viewer, host)), () => closed++);
    expect((await pier.fetch(`/api/sessions/${aliceSession.id}/end`, { method: "POST", headers: { cookie: alice } })).status).toBe(200);
    expect(closed).toBe(2);
    expect(access().admit(cookie, host)).toMatchObject({ ok: false, status: 403, code: "session_ended" });
    expect(access().admit(viewer, host)).toMatchObject({ ok: false, status: 403, code: "session_ended" });
    expect((await open(alice, aliceSession.id, APP_PORT)).status).toBe(403);
    expect((await portsOf(alice, aliceSession.id)).body).toEqual([]);
    expect((await apiError(await pier.fetch(`/api/sessions/${aliceSession.id}/ports/${APP_PORT}/share`, json({ minutes: 5 }, { cookie: alice })))).status).toBe(409);
  });
});
