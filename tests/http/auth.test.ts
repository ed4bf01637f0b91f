import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ADMIN, type TestPier, closeForGood, createToken, json, signIn, startTestPier } from "../support/pier.ts";

describe("setup, sign-in and roles over HTTP", () => {
  let pier: TestPier;
  let adminCookie: string;
  let memberCookie: string;
  let memberToken: string;
  let adminToken: string;

  beforeAll(async () => {
    pier = await startTestPier();
  }, 60_000);
  afterAll(() => closeForGood(pier));

  test("before setup every page leads to the setup page and the API needs auth", async () => {
    for (const path of ["/", "/repos", "/settings", "/login"]) {
      const res = await pier.fetch(path);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/setup");
    }
    const setup = await pier.fetch("/setup");
    expect(setup.status).toBe(200);
    expect(await setup.text()).toContain("Welcome to Pier");
    expect((await pier.fetch("/api/repos")).status).toBe(401);
  });

  test("setup validates its input and changes nothing on error", async () => {
    const bad = await pier.fetch("/api/setup", json({ username: "Ada Lovelace", password: "short" }));
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_username");
    expect(body.error.message).toContain("Username");
    expect((await pier.fetch("/")).headers.get("location")).toBe("/setup");
  });

  test("setup creates the admin once; later attempts get 409", async () => {
    const res = await pier.fetch("/api/setup", json(ADMIN));
    expect(res.status).toBe(201);
    const { user } = (await res.json()) as { user: { id: string; username: string; role: string } };
    expect(user).toMatchObject({ username: ADMIN.username, role: "admin" });
    expect(typeof user.id).toBe("string");
    const again = await pier.fetch("/api/setup", json({ username: "mallory", password: "password123" }));
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("already_set_up");
    expect((await pier.fetch("/")).headers.get("location")).toBe("/login");
  });

  test("login sets an HttpOnly SameSite=Lax cookie that opens the API", async () => {
    const res = await pier.fetch("/api/auth/login", json(ADMIN));
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().join("\n");
    expect(cookie).toMatch(/pier_session=[a-z2-7]{32}/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).not.toContain("Secure");
    adminCookie = await signIn(pier, ADMIN.username, ADMIN.password);
    const me = await pier.fetch("/api/auth/me", { headers: { cookie: adminCookie } });
    expect(((await me.json()) as { user: { role: string } }).user.role).toBe("admin");
  });

  test("cookies are Secure behind https", async () => {
    const res = await pier.fetch("/api/auth/login", json(ADMIN, { "x-forwarded-proto": "https" }));
    expect(res.headers.getSetCookie().join()).toContain("Secure");
  });

  test("every /api route answers 401 without a cookie or token", async () => {
    const routes: Array<[string, string]> = [
      ["GET", "/api/repos"], ["POST", "/api/repos"], ["GET", "/api/repos/x"], ["DELETE", "/api/repos/x"],
      ["GET", "/api/settings"], ["PUT", "/api/settings"], ["GET", "/api/tokens"], ["POST", "/api/tokens"],
      ["DELETE", "/api/tokens/x"], ["POST", "/api/users"], ["GET", "/api/users"], ["POST", "/api/auth/logout"],
      ["GET", "/api/auth/me"],
      // Unattended runs and their triggers: a stranger starts, reads, steers and fires none of them.
      ["POST", "/api/tasks/x/runs"], ["GET", "/api/runs"], ["GET", "/api/runs/x"], ["POST", "/api/runs/x/stop"],
      ["POST", "/api/runs/x/pause"], ["POST", "/api/runs/x/resume"], ["POST", "/api/runs/x/pick"],
      ["GET", "/api/triggers"], ["POST", "/api/triggers"], ["PATCH", "/api/triggers/x"], ["DELETE", "/api/triggers/x"],
      ["GET", "/api/triggers/x/firings"], ["POST", "/api/triggers/x/fire"],
    ];
    for (const [method, path] of routes) {
      const res = await pier.fetch(path, { method, headers: { "content-type": "application/json" }, body: method === "GET" ? undefined : "{}" });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
    }
    const badToken = await pier.fetch("/api/repos", { headers: { authorization: "Bearer pier_notarealtoken" } });
    expect(badToken.status).toBe(401);
  });

  test("an admin adds a member; a member gets 403 on admin routes", async () => {
    const created = await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie: adminCookie }));
    expect(created.status).toBe(201);
    expect(((await created.json()) as { user: { role: string } }).user.role).toBe("member");
    const dup = await pier.fetch("/api/users", json({ username: "bob", password: "bob password" }, { cookie: adminCookie }));
    expect(dup.status).toBe(409);

    memberCookie = await signIn(pier, "bob", "bob password");
    memberToken = await createToken(pier, memberCookie, "bob-script");
    adminToken = await createToken(pier, adminCookie, "admin-script");
    const memberAuths: Array<Record<string, string>> = [{ cookie: memberCookie }, { authorization: `Bearer ${memberToken}` }];
    for (const auth of memberAuths) {
      const asMember: Array<[string, string, unknown]> = [
        ["POST", "/api/users", { username: "eve", password: "eve password" }],
        ["GET", "/api/users", undefined],
        ["PUT", "/api/settings", { defaultModel: "claude-x" }],
        ["POST", "/api/repos", { url: "https://github.com/acme/w.git" }],
        ["DELETE", "/api/repos/whatever", undefined],
        ["GET", "/metrics", undefined],
      ];
      for (const [method, path, body] of asMember) {
        const res = await pier.fetch(path, {
          method,
          headers: { "content-type": "application/json", ...auth },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 403`);
      }
      expect((await pier.fetch("/api/repos", { headers: auth })).status).toBe(200);
    }
    for (const page of ["/settings", "/users"]) {
      expect((await pier.fetch(page, { headers: { cookie: memberCookie } })).status).toBe(403);
    }
    expect((await pier.fetch("/", { headers: { cookie: memberCookie } })).status).toBe(200);
  });

  test("API tokens: created once, listed without the secret, revoked", async () => {
    const list = await pier.fetch("/api/tokens", { headers: { cookie: memberCookie } });
    const tokens = (await list.json()) as Array<{ id: string; name: string; token?: string }>;
    expect(tokens.map((t) => t.name)).toEqual(["bob-script"]);
    expect(tokens[0]!.token).toBeUndefined();
    expect(JSON.stringify(tokens)).not.toContain(memberToken);
    const foreign = await pier.fetch(`/api/tokens/${tokens[0]!.id}`, { method: "DELETE", headers: { cookie: adminCookie } });
    expect(foreign.status).toBe(404);
    const revoked = await pier.fetch(`/api/tokens/${tokens[0]!.id}`, { method: "DELETE", headers: { cookie: memberCookie } });
    expect(revoked.status).toBe(204);
    expect((await pier.fetch("/api/repos", { headers: { authorization: `Bearer ${memberToken}` } })).status).toBe(401);
  });

  test("/metrics opens to an admin token and speaks Prometheus", async () => {
    const res = await pier.fetch("/metrics", { headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain("# TYPE pier_http_requests_total counter");
    expect(text).toMatch(/pier_users 2/);
    expect((await pier.fetch("/metrics")).status).toBe(401);
  });

  test("state changes from a foreign Origin get 403 and change nothing", async () => {
    const evil = { origin: "http://evil.example", cookie: adminCookie };
    const res = await pier.fetch("/api/repos", json({ url: "https://github.com/acme/evil.git" }, evil));
    expect(res.status).toBe(403);
    const crossSite = await pier.fetch("/api/repos", json({ url: "https://github.com/acme/evil.git" }, { cookie: adminCookie, "sec-fetch-site": "cross-site" }));
    expect(crossSite.status).toBe(403);
    const form = await pier.fetch("/repos", {
      method: "POST",
      headers: { ...evil, "content-type": "application/x-www-form-urlencoded" },
      body: "url=https%3A%2F%2Fgithub.com%2Facme%2Fevil.git",
    });
    expect(form.status).toBe(403);
    const repos = (await (await pier.fetch("/api/repos", { headers: { cookie: adminCookie } })).json()) as unknown[];
    expect(repos).toHaveLength(0);
    const sameOrigin = await pier.fetch("/api/repos", json({ url: "https://github.com/acme/good.git" }, { origin: pier.url, cookie: adminCookie }));
    expect(sameOrigin.status).toBe(201);
  });

  test("signed out, a page sends the person to sign in and back to that page; never to another site", async () => {
    const asked = await pier.fetch("/sessions?state=active");
    expect(asked.status).toBe(303);
    const login = asked.headers.get("location")!;
    expect(login).toBe(`/login?next=${encodeURIComponent("/sessions?state=active")}`);
    expect(await (await pier.fetch(login)).text()).toContain('name="next" value="/sessions?state=active"');
    const form = (next: string) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: ADMIN.username, password: ADMIN.password, next }).toString(),
    });
    const back = await pier.fetch("/login", form("/sessions?state=active"));
    expect(back.status).toBe(303);
    expect(back.headers.get("location")).toBe("/sessions?state=active");
    // Signed in already, the sign-in page goes straight there.
    const cookie = back.headers.getSetCookie()[0]!.split(";")[0]!;
    expect((await pier.fetch(login, { headers: { cookie } })).headers.get("location")).toBe("/sessions?state=active");
    for (const elsewhere of ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/a\nb"]) {
      expect((await pier.fetch("/login", form(elsewhere))).headers.get("location")).toBe("/");
      expect(await (await pier.fetch(`/login?next=${encodeURIComponent(elsewhere)}`)).text()).not.toContain('name="next"');
    }
    // A form posted signed out is not posted again after sign-in, and the dashboard needs no next.
    expect((await pier.fetch("/notices/dismiss", { method: "POST" })).headers.get("location")).toBe("/login");
    expect((await pier.fetch("/")).headers.get("location")).toBe("/login");
  });

  test("logout invalidates the server-side session", async () => {
    const cookie = await signIn(pier, ADMIN.username, ADMIN.password);
    const res = await pier.fetch("/api/auth/logout", { method: "POST", headers: { cookie } });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().join()).toContain("Max-Age=0");
    expect((await pier.fetch("/api/auth/me", { headers: { cookie } })).status).toBe(401);
  });

  test("repeated bad logins get 429 with Retry-After, even with the right password", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await pier.fetch("/api/auth/login", json({ username: "bob", password: `wrong-${i}` }))).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const right = await pier.fetch("/api/auth/login", json({ username: "bob", password: "bob password" }));
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await right.json()) as { error: { code: string } }).error.code).toBe("too_many_attempts");
  });

  test("every answer carries the security headers", async () => {
    for (const path of ["/login", "/healthz", "/api/repos", "/public/style.css", "/nope"]) {
      const res = await pier.fetch(path);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self';");
      expect(csp).not.toContain("unsafe-eval");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  test("an error page is one HTML document: one doctype, first", async () => {
    const page = await (await pier.fetch("/no-such-page", { headers: { accept: "text/html", cookie: adminCookie } })).text();
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page.match(/<!doctype/gi)).toHaveLength(1);
  });

  test("/healthz needs no auth and names the runtime", async () => {
    const res = await pier.fetch("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, db: "ok", runtime: "local" });
  });
});
