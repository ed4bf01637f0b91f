import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, createToken, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { upgradeStatus } from "../support/term-client.ts";

/**
 * The browser's cookie is honoured only on requests that send no Authorization header, and
 * every cookie-authenticated state change or WebSocket upgrade has its Origin checked.
 */
describe("cookies, Authorization headers and the Origin check", () => {
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;
  const evil = "http://evil.example";
  const notBearer = ["Basic YWRtaW46eA==", "Bearer pier_notarealtoken", "Token abc", "Bearer", ""];

  const tokenNames = async () =>
    ((await (await pier.fetch("/api/tokens", { headers: { cookie } })).json()) as Array<{ name: string }>).map((t) => t.name);

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("origin").path}`, "origin");
    session = await activeSession(pier, cookie, { repoId });
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
  }, 60_000);

  test("an Authorization header that is not a valid bearer token is 401, never a fall-back to the cookie", async () => {
    for (const authorization of notBearer) {
      const res = await pier.fetch("/api/auth/me", { headers: { cookie, authorization } });
      expect(`${JSON.stringify(authorization)} → ${res.status}`).toBe(`${JSON.stringify(authorization)} → 401`);
    }
  });

  test("a foreign Origin with the cookie creates no API token, whatever Authorization header comes along", async () => {
    for (const authorization of notBearer) {
      const res = await pier.fetch("/api/tokens", json({ name: `stolen ${authorization}` }, { cookie, origin: evil, authorization }));
      expect([401, 403]).toContain(res.status);
    }
    const crossSite = await pier.fetch("/api/tokens", json({ name: "stolen cross-site" }, { cookie, "sec-fetch-site": "cross-site", authorization: "Basic eDp5" }));
    expect([401, 403]).toContain(crossSite.status);
    expect(await tokenNames()).toEqual([]);
  });

  test("a foreign-Origin WebSocket upgrade with the cookie is refused, whatever Authorization header comes along", async () => {
    for (const kind of ["terminal", "chat"]) {
      const path = `/api/sessions/${session.id}/${kind}`;
      for (const authorization of notBearer) {
        const status = await upgradeStatus(pier.url, path, { cookie, origin: evil, authorization });
        expect(`${kind} ${JSON.stringify(authorization)} → ${status}`).not.toBe(`${kind} ${JSON.stringify(authorization)} → 101`);
      }
      expect(await upgradeStatus(pier.url, path, { cookie, origin: evil })).toBe(403);
      expect(await upgradeStatus(pier.url, path, { cookie, origin: pier.url })).toBe(101);
    }
  });

  test("scripts with a bearer token need no Origin; same-origin browser requests still work", async () => {
    const token = await createToken(pier, cookie, "script");
    const scripted = await pier.fetch("/api/tokens", json({ name: "from a script" }, { authorization: `Bearer ${token}` }));
    expect(scripted.status).toBe(201);
    const browser = await pier.fetch("/api/tokens", json({ name: "from the browser" }, { cookie, origin: pier.url }));
    expect(browser.status).toBe(201);
    const refused = await pier.fetch("/api/tokens", json({ name: "from evil" }, { cookie, origin: evil }));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("cross_origin");
    expect((await tokenNames()).sort()).toEqual(["from a script", "from the browser", "script"]);
    const upgrade = await upgradeStatus(pier.url, `/api/sessions/${session.id}/chat`, { authorization: `Bearer ${token}` });
    expect(upgrade).toBe(101);
  });
});
