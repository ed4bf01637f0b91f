import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChatClient } from "../support/chat-client.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient, upgradeStatus } from "../support/term-client.ts";

/** How long a socket may take to close after its credential ends. */
const CLOSE_WITHIN_MS = 2000;

/** The close code, or null when the socket is still open after `ms`. */
async function closedWithin(closed: Promise<number | { code: number }>, ms = CLOSE_WITHIN_MS): Promise<number | null> {
  const result = await Promise.race([closed, Bun.sleep(ms).then(() => null)]);
  return result === null ? null : typeof result === "number" ? result : result.code;
}

/**
 * Terminal and chat WebSockets are authorised once, at the upgrade; when the credential they
 * were opened with ends (an API token revoked, a sign-in signed out) they close with 4401.
 */
describe("sockets of an ended credential", () => {
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  const clients: Array<TermClient | ChatClient> = [];

  const newToken = async (name: string) => {
    const res = await pier.fetch("/api/tokens", json({ name }, { cookie }));
    return (await res.json()) as { id: string; token: string };
  };
  const openBoth = async (headers: Record<string, string>) => {
    const term = await TermClient.connect(pier.url, session.id, headers);
    const chat = await ChatClient.connect(pier.url, session.id, headers);
    clients.push(term, chat);
    return { term, chat };
  };
  const expectStillWorking = async ({ term, chat }: { term: TermClient; chat: ChatClient }, marker: number) => {
    expect(await closedWithin(term.closed, 300)).toBeNull();
    expect(await closedWithin(chat.closed, 0)).toBeNull();
    await term.run(`echo alive-$((${marker}+1))`, new RegExp(`alive-${marker + 1}`));
  };
  const errorSaying = (events: ReadonlyArray<Record<string, unknown>>, words: RegExp) =>
    expect(events.find((e) => e.type === "error")?.message).toMatch(words);

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    cookie = await setUpAdmin(pier);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("credentials").path}`, "credentials");
    session = await activeSession(pier, cookie, { repoId });
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await closeForGood(pier);
  }, 60_000);

  test("revoking an API token closes its terminal and chat sockets with 4401; another token's stay open", async () => {
    const revoked = await newToken("revoked");
    const kept = await newToken("kept");
    const doomed = await openBoth({ authorization: `Bearer ${revoked.token}` });
    const survivors = await openBoth({ authorization: `Bearer ${kept.token}` });

    const res = await pier.fetch(`/api/tokens/${revoked.id}`, { method: "DELETE", headers: { cookie } });
    expect(res.status).toBe(204);
    expect(await closedWithin(doomed.term.closed)).toBe(4401);
    expect(await closedWithin(doomed.chat.closed)).toBe(4401);
    errorSaying(doomed.term.controls, /revoked/);
    errorSaying(doomed.chat.events, /revoked/);

    await expectStillWorking(survivors, 1);
    const path = `/api/sessions/${session.id}/terminal`;
    expect(await upgradeStatus(pier.url, path, { authorization: `Bearer ${revoked.token}` })).toBe(401);
  }, 60_000);

  test("a token revoked on the tokens page closes its sockets too", async () => {
    const revoked = await newToken("revoked on the page");
    const doomed = await openBoth({ authorization: `Bearer ${revoked.token}` });
    const res = await pier.fetch(`/tokens/${revoked.id}/revoke`, { method: "POST", headers: { cookie, origin: pier.url } });
    expect(res.status).toBe(303);
    expect(await closedWithin(doomed.term.closed)).toBe(4401);
    expect(await closedWithin(doomed.chat.closed)).toBe(4401);
  }, 60_000);

  test("signing out closes the sockets of that sign-in with 4401; another sign-in's stay open", async () => {
    const leaving = await signIn(pier, ADMIN.username, ADMIN.password);
    const staying = await signIn(pier, ADMIN.username, ADMIN.password);
    const doomed = await openBoth({ cookie: leaving, origin: pier.url });
    const survivors = await openBoth({ cookie: staying, origin: pier.url });

    const res = await pier.fetch("/api/auth/logout", { method: "POST", headers: { cookie: leaving, origin: pier.url } });
    expect(res.status).toBe(204);
    expect(await closedWithin(doomed.term.closed)).toBe(4401);
    expect(await closedWithin(doomed.chat.closed)).toBe(4401);
    errorSaying(doomed.term.controls, /signed out/);
    errorSaying(doomed.chat.events, /signed out/);

    await expectStillWorking(survivors, 2);
  }, 60_000);

  test("signing out from the page closes that sign-in's sockets too", async () => {
    const leaving = await signIn(pier, ADMIN.username, ADMIN.password);
    const doomed = await openBoth({ cookie: leaving, origin: pier.url });
    const res = await pier.fetch("/logout", { method: "POST", headers: { cookie: leaving, origin: pier.url } });
    expect(res.status).toBe(303);
    expect(await closedWithin(doomed.term.closed)).toBe(4401);
    expect(await closedWithin(doomed.chat.closed)).toBe(4401);
  }, 60_000);
});
