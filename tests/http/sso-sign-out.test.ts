import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestProvider, startTestProvider } from "../support/oidc-provider.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";
import { addProvider, callbackUrl, finishAt, signInCookieOf, toProviderAndBack } from "../support/sso.ts";
import { TermClient } from "../support/term-client.ts";

/**
 * A sign-in made by a provider is the same sign-in a password makes: signing it out closes the
 * WebSockets opened with it (4401), and only those.
 */
describe("signing out of a provider's sign-in", () => {
  let pier: TestPier;
  let provider: TestProvider;
  let repoId: string;
  const clients: TermClient[] = [];
  const signInWithProvider = async () => signInCookieOf(await finishAt(pier, await toProviderAndBack(pier, provider, "idp", "ada")))!;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    const admin = await setUpAdmin(pier);
    provider = await startTestProvider({ redirectUris: [callbackUrl(pier.url, "idp")], accounts: { ada: { preferred_username: "ada" } } });
    await addProvider(pier, admin, provider, "idp");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("sso-sign-out").path}`, "sso-sign-out");
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await provider?.close();
    await closeForGood(pier);
  }, 60_000);

  test("closes that sign-in's terminal socket with 4401; the same person's other sign-in keeps its own", async () => {
    const leaving = await signInWithProvider();
    const staying = await signInWithProvider();
    const session = await activeSession(pier, leaving, { repoId });
    const doomed = await TermClient.connect(pier.url, session.id, { cookie: leaving, origin: pier.url });
    const kept = await TermClient.connect(pier.url, session.id, { cookie: staying, origin: pier.url });
    clients.push(doomed, kept);

    const res = await pier.fetch("/api/auth/logout", { method: "POST", headers: { cookie: leaving, origin: pier.url } });
    expect(res.status).toBe(204);
    expect((await Promise.race([doomed.closed, Bun.sleep(2000).then(() => null)]))?.code).toBe(4401);
    expect(doomed.controls.find((control) => control.type === "error")?.message).toMatch(/signed out/);
    await kept.run("echo still-here-$((1+1))", /still-here-2/);
    expect((await pier.fetch("/api/auth/me", { headers: { cookie: leaving } })).status).toBe(401);
  }, 90_000);
});
