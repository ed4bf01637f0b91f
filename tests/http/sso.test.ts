import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PierEvents } from "../../src/infra/events.ts";
import { type TestProvider, startTestProvider } from "../support/oidc-provider.ts";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { addProvider, callbackUrl, finishAt, signInCookieOf, toProviderAndBack } from "../support/sso.ts";

type ErrorBody = { error: { code: string; message: string; field?: string } };
type UserJson = { id: string; username: string; role: string };

/** The accounts at the test provider: who they are and what groups and address it vouches for. */
const ACCOUNTS = {
  ada: { preferred_username: "Ada", email: "ada@example.com", email_verified: true, groups: ["devs"] },
  root: { preferred_username: "Root.Admin", email: "root@example.com", email_verified: true, groups: ["devs", "pier-admins"] },
  mallory: { preferred_username: "mallory", email: "mallory@elsewhere.test", email_verified: true, groups: ["outsiders"] },
  eve: { preferred_username: "eve", email: "eve@example.com", email_verified: false, groups: [] },
  dora: { preferred_username: "dora", email: "dora@example.com", email_verified: true },
  fresh: { preferred_username: "fresh", groups: ["devs"] },
  newbie: { preferred_username: "newbie", groups: ["devs"] },
  // Named as Pier's first admin, who signs in with a password.
  "admin-at-idp": { preferred_username: "admin", groups: ["devs"] },
  nameless: { groups: ["devs"] },
};
const RULES = { groupsClaim: "groups", adminGroup: "pier-admins", allowedGroups: ["devs"], allowedDomains: ["example.com"] };

describe("single sign-on against a real OpenID provider", () => {
  let pier: TestPier;
  let provider: TestProvider;
  let admin: string;
  let memberCookie: string;
  const signedIn: Array<PierEvents["auth.signed_in"]> = [];
  const failed: Array<PierEvents["auth.sign_in_failed"]> = [];

  const users = async () => (await (await pier.fetch("/api/users", { headers: { cookie: admin } })).json()) as UserJson[];
  /** The audit log's entries of an action, newest first. */
  const audited = async (action: string) =>
    (await (await pier.fetch(`/api/audit?action=${action}`, { headers: { cookie: admin } })).json()) as Array<{ actor: { kind: string; id: string | null; name: string | null }; target: { kind: string; id: string | null; name: string | null } | null; detail: string | null; address: string | null }>;
  const me = async (cookie: string) => ((await (await pier.fetch("/api/auth/me", { headers: { cookie } })).json()) as { user: UserJson }).user;
  /** A whole round trip as `login`, from `from`; the callback's answer. */
  const signInAs = async (login: string, from: string, options: { next?: string } = {}) => finishAt(pier, await toProviderAndBack(pier, provider, "idp", login, options), { from });
  /** A refused callback: its status, its code on the sign-in page's sentence, no cookie, nobody new. */
  const expectRefused = async (response: Response, status: number, sentence: RegExp, usersBefore: number) => {
    expect(response.status).toBe(status);
    expect(signInCookieOf(response)).toBeNull();
    const page = await response.text();
    expect(page).toContain("Sign in with Test IdP idp");
    expect(page).toMatch(sentence);
    expect((await users()).length).toBe(usersBefore);
  };

  beforeAll(async () => {
    pier = await startTestPier({ PIER_TRUSTED_PROXIES: "127.0.0.1/32" });
    admin = await setUpAdmin(pier);
    await pier.fetch("/api/users", json({ username: "member", password: "member password" }, { cookie: admin }));
    memberCookie = await signIn(pier, "member", "member password");
    provider = await startTestProvider({ redirectUris: [callbackUrl(pier.url, "idp")], accounts: ACCOUNTS });
    pier.pier.bus.subscribe("auth.signed_in", null, (event) => signedIn.push(event));
    pier.pier.bus.subscribe("auth.sign_in_failed", null, (event) => failed.push(event));
  }, 60_000);
  afterAll(async () => {
    await provider?.close();
    if (pier) await closeForGood(pier);
  });

  test("providers are configured by admins only, every field checked, nothing kept from a refused one", async () => {
    const good = { name: "Corp", issuer: "https://auth.example.com", clientId: "pier", clientSecret: "s3cret-value" };
    expect((await pier.fetch("/api/config/sso")).status).toBe(401);
    expect((await pier.fetch("/api/config/sso", json(good))).status).toBe(401);
    expect((await pier.fetch("/api/config/sso", { headers: { cookie: memberCookie } })).status).toBe(403);
    expect((await pier.fetch("/api/config/sso", json(good, { cookie: memberCookie }))).status).toBe(403);
    const refusals: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ issuer: "http://auth.example.com" }, "invalid_issuer", /https:\/\//],
      [{ issuer: "http://10.0.0.5:9000" }, "invalid_issuer", /127\.0\.0\.1 or localhost/],
      [{ issuer: "https://auth.example.com/?tenant=1" }, "invalid_issuer", /query/],
      [{ issuer: "not a url" }, "invalid_issuer", /URL/],
      [{ id: "Corp SSO" }, "invalid_id", /lowercase/],
      [{ clientSecret: "" }, "invalid_client_secret", /required/],
      [{ clientSecret: "has spaces in it" }, "invalid_client_secret", /no spaces/],
      [{ adminGroup: "admins" }, "invalid_groups_claim", /groups claim/],
      [{ allowedGroups: ["devs"] }, "invalid_groups_claim", /groups claim/],
      [{ allowedDomains: ["Example.COM"] }, "invalid_allowed_domains", /lowercase domain/],
      [{ scopes: ["openid", "two words"] }, "invalid_scopes", /one word/],
      [{ name: "" }, "invalid_name", /required/],
    ];
    for (const [change, code, sentence] of refusals) {
      const res = await pier.fetch("/api/config/sso", json({ ...good, ...change }, { cookie: admin }));
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe(code);
      expect(body.error.message).toMatch(sentence);
    }
    expect(await (await pier.fetch("/api/config/sso", { headers: { cookie: admin } })).json()).toEqual([]);

    const made = await pier.fetch("/api/config/sso", json({ ...good, id: "corp" }, { cookie: admin }));
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ id: "corp", scopes: ["openid", "profile", "email"], usernameClaim: "preferred_username", groupsClaim: null, callbackPath: "/auth/sso/corp/callback" });
    const twice = await pier.fetch("/api/config/sso", json({ ...good, id: "corp" }, { cookie: admin }));
    expect(twice.status).toBe(409);
    expect(((await twice.json()) as ErrorBody).error.code).toBe("provider_id_taken");
    const patched = await pier.fetch("/api/config/sso/corp", { method: "PATCH", headers: { "content-type": "application/json", cookie: admin }, body: JSON.stringify({ issuer: "http://auth.example.com" }) });
    expect(patched.status).toBe(400);
    expect((await pier.fetch("/api/config/sso/corp", { method: "DELETE", headers: { cookie: memberCookie } })).status).toBe(403);
    expect((await pier.fetch("/api/config/sso/corp", { method: "DELETE", headers: { cookie: admin } })).status).toBe(204);
    expect((await pier.fetch("/api/config/sso/corp", { method: "DELETE", headers: { cookie: admin } })).status).toBe(404);
    const renamed = await pier.fetch("/api/config/sso", json({ ...good, id: "corp2" }, { cookie: admin }));
    expect(renamed.status).toBe(201);
    const patchedSecret = await pier.fetch("/api/config/sso/corp2", { method: "PATCH", headers: { "content-type": "application/json", cookie: admin }, body: JSON.stringify({ name: "Corp 2", clientSecret: "another-s3cret" }) });
    expect(patchedSecret.status).toBe(200);
    expect((await pier.fetch("/api/config/sso/corp2", { method: "DELETE", headers: { cookie: admin } })).status).toBe(204);
    // The audit log says what was done to which provider, by whom, and which fields changed: never a secret.
    expect((await audited("sso_provider_added")).map((entry) => entry.target?.id)).toEqual(["corp2", "corp"]);
    expect((await audited("sso_provider_changed"))[0]).toMatchObject({ actor: { kind: "person", name: ADMIN.username }, target: { id: "corp2", name: "Corp 2" }, detail: "clientSecret, name" });
    expect((await audited("sso_provider_removed")).map((entry) => entry.target?.id)).toEqual(["corp2", "corp"]);
    const csv = await (await pier.fetch("/api/audit?format=csv", { headers: { cookie: admin } })).text();
    for (const secret of ["s3cret-value", "another-s3cret"]) expect(csv).not.toContain(secret);

    const loopback = await addProvider(pier, admin, provider, "idp", RULES);
    expect(loopback).toMatchObject({ id: "idp", issuer: provider.issuer, adminGroup: "pier-admins", allowedGroups: ["devs"], allowedDomains: ["example.com"] });
  });

  test("the client secret is write-only: in no answer and on no page, and sealed in the database", async () => {
    const secret = provider.clientSecret;
    const patched = await pier.fetch("/api/config/sso/idp", { method: "PATCH", headers: { "content-type": "application/json", cookie: admin }, body: JSON.stringify({ clientSecret: secret, name: "Test IdP idp" }) });
    expect(patched.status).toBe(200);
    const answers = [await patched.text()];
    for (const [path, cookie] of [
      ["/api/config/sso", admin], ["/settings/sso", admin], ["/settings/sso/providers/idp", admin], ["/login", ""], ["/tokens", admin],
      ["/tokens", memberCookie], ["/api/settings", admin],
    ] as const) {
      const res = await pier.fetch(path, { headers: cookie ? { cookie } : {} });
      expect(res.status).toBe(200);
      answers.push(await res.text());
    }
    const started = await pier.fetch("/auth/sso/idp");
    expect(started.status).toBe(302);
    answers.push(started.headers.get("location")!);
    for (const answer of answers) expect(answer).not.toContain(secret);
    expect(answers.join("\n")).toContain("Sign in with Test IdP idp");
    const db = ["pier.db", "pier.db-wal"].map((file) => {
      try {
        return readFileSync(join(pier.dataDir, file)).toString("latin1");
      } catch {
        return "";
      }
    });
    expect(db.join("")).toContain("sso_providers");
    expect(db.join("")).not.toContain(secret);
  });

  test("the first sign-in of someone allowed makes a member, with the same cookie a password gives; the next finds them again", async () => {
    const before = (await users()).length;
    const res = await signInAs("ada", "203.0.113.10");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const line = res.headers.getSetCookie().find((cookie) => cookie.startsWith("pier_session="))!;
    expect(line).toMatch(/^pier_session=[a-z2-7]{32}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const ada = await me(signInCookieOf(res)!);
    expect(ada).toMatchObject({ username: "ada", role: "member" });
    expect((await users()).length).toBe(before + 1);
    expect(signedIn.at(-1)).toEqual({ userId: ada.id, username: "ada", method: { kind: "oidc", providerId: "idp", providerName: "Test IdP idp" }, address: "203.0.113.10" });
    // The audit log has the person made, by themself through the provider, and the sign-in.
    const made = (await audited("user_created")).filter((entry) => entry.target?.id === ada.id);
    expect(made).toEqual([expect.objectContaining({ actor: { kind: "person", id: ada.id, name: "ada" }, detail: "by a first sign-in with Test IdP idp, as member", address: "203.0.113.10" })]);
    expect((await audited("sign_in"))[0]).toMatchObject({ actor: { kind: "person", id: ada.id }, address: "203.0.113.10" });

    const again = await signInAs("ada", "203.0.113.10");
    expect((await me(signInCookieOf(again)!)).id).toBe(ada.id);
    expect((await users()).length).toBe(before + 1);
    // Nobody made by a provider has a password, not even the one Pier checks unknown usernames against.
    for (const password of ["pier-timing-equaliser", "", "any password"]) {
      const attempt = await pier.fetch("/api/auth/login", json({ username: "ada", password }, { "x-forwarded-for": "203.0.113.11" }));
      expect(attempt.status).toBe(password === "" ? 400 : 401);
    }
  });

  test("the page asked for before signing in is where the round trip ends, and only a page of Pier's own", async () => {
    const res = await signInAs("ada", "203.0.113.12", { next: "/tasks?view=board" });
    expect(res.headers.get("location")).toBe("/tasks?view=board");
    const away = await signInAs("ada", "203.0.113.12", { next: "//evil.example/x" });
    expect(away.headers.get("location")).toBe("/");
  });

  test("the admin group makes an admin; the username comes from the claim, made lowercase", async () => {
    const res = await signInAs("root", "203.0.113.20");
    expect(res.status).toBe(303);
    expect(await me(signInCookieOf(res)!)).toMatchObject({ username: "root-admin", role: "admin" });
  });

  test("someone outside the allowed groups and domains is refused with a sentence and nothing is made", async () => {
    const before = (await users()).length;
    await expectRefused(await signInAs("mallory", "203.0.113.30"), 403, /not among those allowed to sign in/, before);
    expect(failed.at(-1)).toMatchObject({ username: "mallory", method: { kind: "oidc", providerId: "idp" }, address: "203.0.113.30" });
    expect(failed.at(-1)!.reason).toMatch(/not among those allowed/);
    // An address at an allowed domain counts only when the provider vouches for it.
    await expectRefused(await signInAs("eve", "203.0.113.31"), 403, /not among those allowed/, before);
    const dora = await signInAs("dora", "203.0.113.32");
    expect(dora.status).toBe(303);
    expect(await me(signInCookieOf(dora)!)).toMatchObject({ username: "dora", role: "member" });
  });

  test("a wrong state, or another browser's callback, is refused, and the round trip stays its own browser's to finish", async () => {
    const before = (await users()).length;
    const trip = await toProviderAndBack(pier, provider, "idp", "newbie");
    const forged = new URL(trip.callback);
    forged.searchParams.set("state", "not-the-state");
    await expectRefused(await finishAt(pier, { ...trip, callback: forged }, { from: "203.0.113.40" }), 400, /not started in this browser/, before);
    const noState = new URL(trip.callback);
    noState.searchParams.delete("state");
    await expectRefused(await finishAt(pier, { ...trip, callback: noState }, { from: "203.0.113.40" }), 400, /not started in this browser/, before);
    await expectRefused(await finishAt(pier, { ...trip, binding: null }, { from: "203.0.113.40" }), 400, /not started in this browser/, before);
    await expectRefused(await finishAt(pier, { ...trip, binding: "a".repeat(32) }, { from: "203.0.113.40" }), 400, /not started in this browser/, before);
    expect(failed.at(-1)).toMatchObject({ username: null, address: "203.0.113.40" });

    const own = await finishAt(pier, trip, { from: "203.0.113.41" });
    expect(own.status).toBe(303);
    expect(await me(signInCookieOf(own)!)).toMatchObject({ username: "newbie" });
  });

  test("a replayed code is refused: the same callback again, and the code under another round trip's state", async () => {
    const first = await toProviderAndBack(pier, provider, "idp", "ada");
    expect((await finishAt(pier, first, { from: "203.0.113.50" })).status).toBe(303);
    const before = (await users()).length;
    await expectRefused(await finishAt(pier, first, { from: "203.0.113.50" }), 400, /finished already/, before);

    const second = await toProviderAndBack(pier, provider, "idp", "ada");
    const replay = new URL(second.callback);
    replay.searchParams.set("code", first.callback.searchParams.get("code")!);
    await expectRefused(await finishAt(pier, { ...second, callback: replay }, { from: "203.0.113.51" }), 400, /refused the sign-in code/, before);
  });

  test("an expired, wrongly signed, wrongly issued or other sign-in's ID token is refused, and nothing is made", async () => {
    const before = (await users()).length;
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Parameters<TestProvider["tamperNextIdToken"]>[0], RegExp]> = [
      [(claims) => ({ claims: { ...claims, iat: now - 7200, exp: now - 3600 }, signedBy: "provider" }), /has expired or is not valid yet/],
      [(claims) => ({ claims, signedBy: "stranger" }), /signature does not verify/],
      [(claims) => ({ claims: { ...claims, iss: "https://impostor.example" }, signedBy: "provider" }), /names an issuer other than/],
      [(claims) => ({ claims: { ...claims, nonce: "another-sign-in" }, signedBy: "provider" }), /nonce does not match/],
      [(claims) => ({ claims: { ...claims, aud: "another-client" }, signedBy: "provider" }), /issued for another client/],
    ];
    for (const [index, [tamper, sentence]] of cases.entries()) {
      const trip = await toProviderAndBack(pier, provider, "idp", "fresh");
      provider.tamperNextIdToken(tamper);
      await expectRefused(await finishAt(pier, trip, { from: `203.0.113.6${index}` }), 401, sentence, before);
    }
    expect((await users()).some((user) => user.username === "fresh")).toBe(false);
    const untouched = await signInAs("fresh", "203.0.113.69");
    expect(untouched.status).toBe(303);
  });

  test("a provider answering as another issuer than the one configured is refused before anyone is sent to it", async () => {
    await addProvider(pier, admin, provider, "lookalike", { issuer: provider.issuer.replace("127.0.0.1", "localhost") });
    const res = await pier.fetch("/auth/sso/lookalike");
    expect(res.status).toBe(401);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toMatch(/answers as an issuer other than http:\/\/localhost:\d+/);
    expect((await pier.fetch("/api/config/sso/lookalike", { method: "DELETE", headers: { cookie: admin } })).status).toBe(204);
  });

  test("a claim that makes no username is refused with a sentence", async () => {
    const before = (await users()).length;
    await expectRefused(await signInAs("nameless", "203.0.113.70"), 400, /sent no preferred_username claim/, before);
  });

  test("a provider's person named as someone already here is refused; that person links the account from Tokens and then signs in with it", async () => {
    const before = (await users()).length;
    await expectRefused(await signInAs("admin-at-idp", "203.0.113.80"), 409, /A person named &quot;admin&quot; has an account/, before);

    const tokens = await (await pier.fetch("/tokens", { headers: { cookie: admin } })).text();
    expect(tokens).toContain("Sign-in providers");
    expect(tokens).toContain('action="/auth/sso/idp/link"');
    // Someone else's sign-in cannot finish the admin's link.
    const stolen = await toProviderAndBack(pier, provider, "idp", "admin-at-idp", { link: admin });
    const wrongBrowser = await finishAt(pier, stolen, { signIn: memberCookie, from: "203.0.113.81" });
    expect(wrongBrowser.status).toBe(403);
    expect(await wrongBrowser.text()).toMatch(/not this browser(&#x27;|')s any more/);

    const trip = await toProviderAndBack(pier, provider, "idp", "admin-at-idp", { link: admin });
    const linked = await finishAt(pier, trip, { signIn: admin, from: "203.0.113.81" });
    expect(linked.status).toBe(303);
    expect(linked.headers.get("location")).toBe("/tokens#sign-in-providers");
    expect(signInCookieOf(linked)).toBeNull();
    expect(await (await pier.fetch("/tokens", { headers: { cookie: admin } })).text()).toMatch(/linked \d/);
    expect((await audited("identity_linked"))[0]).toMatchObject({ actor: { kind: "person", name: ADMIN.username }, target: { kind: "sso_provider", id: "idp" }, address: "203.0.113.81" });

    const res = await signInAs("admin-at-idp", "203.0.113.82");
    expect(res.status).toBe(303);
    expect(await me(signInCookieOf(res)!)).toMatchObject({ username: ADMIN.username, role: "admin" });
    expect((await users()).length).toBe(before);

    // That account is the admin's now: nobody else can link it.
    const taken = await toProviderAndBack(pier, provider, "idp", "admin-at-idp", { link: memberCookie });
    const refused = await finishAt(pier, taken, { signIn: memberCookie, from: "203.0.113.83" });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/linked to another person/);
  });

  test("an API token cannot link an account, and a link needs a browser signed in", async () => {
    const token = ((await (await pier.fetch("/api/tokens", json({ name: "script" }, { cookie: memberCookie }))).json()) as { token: string }).token;
    const res = await pier.fetch("/auth/sso/idp/link", { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    const signedOut = await pier.fetch("/auth/sso/idp/link", { method: "POST" });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get("location")).toBe("/login");
  });

  test("callbacks are under the login limits: past a few failures from one address, it waits", async () => {
    const bogus = { binding: "b".repeat(32), callback: new URL(`${pier.url}/auth/sso/idp/callback?code=x&state=y`) };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await finishAt(pier, bogus, { from: "203.0.113.90" })).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    const announced = failed.length;
    const waiting = await finishAt(pier, bogus, { from: "203.0.113.90" });
    expect(Number(waiting.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await waiting.text()).toMatch(/Too many failed sign-ins/);
    // What the limits turn away before any check is not announced (nor recorded by the audit log).
    expect(failed.length).toBe(announced);
    expect(failed.filter((event) => event.address === "203.0.113.90")).toHaveLength(5);
    // Another address is not held up.
    expect((await signInAs("ada", "203.0.113.91")).status).toBe(303);
  });
});

describe("password sign-in off, and the guard that keeps an admin able to sign in", () => {
  let pier: TestPier;
  let provider: TestProvider;
  let admin: string;
  let memberCookie: string;
  const put = (cookie: string, body: unknown) => pier.fetch("/api/settings", { method: "PUT", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body) });
  const refusedWith409 = async (response: Response) => {
    expect(response.status).toBe(409);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("no_admin_could_sign_in");
    return body.error.message;
  };

  beforeAll(async () => {
    pier = await startTestPier();
    admin = await setUpAdmin(pier);
    await pier.fetch("/api/users", json({ username: "member", password: "member password" }, { cookie: admin }));
    memberCookie = await signIn(pier, "member", "member password");
    provider = await startTestProvider({
      redirectUris: [callbackUrl(pier.url, "idp")],
      accounts: { "admin-at-idp": { preferred_username: "admin" }, "member-at-idp": { preferred_username: "member" } },
    });
    await addProvider(pier, admin, provider, "idp");
  }, 60_000);
  afterAll(async () => {
    await provider?.close();
    if (pier) await closeForGood(pier);
  });

  test("turning it off is refused (409, a sentence) while no admin has an identity at a provider, even with a member's", async () => {
    expect((await (await pier.fetch("/api/settings", { headers: { cookie: admin } })).json()) as { passwordSignIn: boolean }).toMatchObject({ passwordSignIn: true });
    expect(await refusedWith409(await put(admin, { passwordSignIn: false }))).toMatch(/Turning password sign-in off would leave no admin able to sign in/);
    const memberLink = await toProviderAndBack(pier, provider, "idp", "member-at-idp", { link: memberCookie });
    expect((await finishAt(pier, memberLink, { signIn: memberCookie })).status).toBe(303);
    await refusedWith409(await put(admin, { passwordSignIn: false }));
    // Nothing else in the refused change was written either.
    expect((await put(admin, { passwordSignIn: false, quietSeconds: 5 })).status).toBe(409);
    expect((await (await pier.fetch("/api/settings", { headers: { cookie: admin } })).json()) as { quietSeconds: number; passwordSignIn: boolean }).toMatchObject({ quietSeconds: 60, passwordSignIn: true });
    // The settings page's own form says the same.
    const page = await pier.fetch("/settings/sso/password-sign-in", { method: "POST", headers: { cookie: admin, "content-type": "application/x-www-form-urlencoded" }, body: "passwordSignIn=false" });
    expect(page.status).toBe(409);
    expect(await page.text()).toContain("would leave no admin able to sign in");
    expect((await put(memberCookie, { passwordSignIn: false })).status).toBe(403);
  });

  test("once an admin has linked an identity it goes off: passwords are refused on the API and the page, which offers only the provider", async () => {
    const link = await toProviderAndBack(pier, provider, "idp", "admin-at-idp", { link: admin });
    expect((await finishAt(pier, link, { signIn: admin })).status).toBe(303);
    const off = await put(admin, { passwordSignIn: false });
    expect(off.status).toBe(200);
    expect(((await off.json()) as { passwordSignIn: boolean }).passwordSignIn).toBe(false);

    const api = await pier.fetch("/api/auth/login", json(ADMIN));
    expect(api.status).toBe(403);
    expect(((await api.json()) as ErrorBody).error).toMatchObject({ code: "password_sign_in_off", message: expect.stringMatching(/Password sign-in is turned off/) });
    const form = await pier.fetch("/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `username=admin&password=${encodeURIComponent(ADMIN.password)}` });
    expect(form.status).toBe(403);
    expect(form.headers.getSetCookie().some((cookie) => cookie.startsWith("pier_session="))).toBe(false);
    const page = await (await pier.fetch("/login")).text();
    expect(page).toContain("Sign in with Test IdP idp");
    expect(page).not.toContain('name="password"');
    // Sign-ins made before still work, and the provider signs the admin in.
    expect((await pier.fetch("/api/auth/me", { headers: { cookie: admin } })).status).toBe(200);
    const trip = await toProviderAndBack(pier, provider, "idp", "admin-at-idp");
    const back = await finishAt(pier, trip);
    expect(back.status).toBe(303);
  });

  test("removing the provider or unlinking the last admin's identity is refused while passwords are off; on again, both are allowed", async () => {
    expect(await refusedWith409(await pier.fetch("/api/config/sso/idp", { method: "DELETE", headers: { cookie: admin } }))).toMatch(/Removing Test IdP idp would leave no admin able to sign in/);
    const unlink = await pier.fetch("/tokens/sso/idp/unlink", { method: "POST", headers: { cookie: admin } });
    expect(unlink.status).toBe(409);
    expect(await unlink.text()).toContain("would leave no admin able to sign in");
    // A member's own identity is theirs to unlink.
    expect((await pier.fetch("/tokens/sso/idp/unlink", { method: "POST", headers: { cookie: memberCookie } })).status).toBe(303);
    expect((await pier.fetch("/tokens/sso/idp/unlink", { method: "POST", headers: { cookie: memberCookie } })).status).toBe(404);

    expect((await put(admin, { passwordSignIn: true })).status).toBe(200);
    expect((await pier.fetch("/api/auth/login", json(ADMIN))).status).toBe(200);
    expect((await pier.fetch("/tokens/sso/idp/unlink", { method: "POST", headers: { cookie: admin } })).status).toBe(303);
    expect((await pier.fetch("/api/config/sso/idp", { method: "DELETE", headers: { cookie: admin } })).status).toBe(204);
  });
});
