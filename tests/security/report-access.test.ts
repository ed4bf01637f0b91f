/**
 * A task's verification report holds the work of the sessions it draws from: their diff, chat and
 * terminal. Made as a curious member would: Bob reads, asks for and listens to the report of
 * Alice's session through every door (API, page, page form, the task's events), and moves her task
 * to have one written on her key. Only Alice and admins read or ask for it; whoever asks pays with
 * their own key, on the ledger against them. The model API is the suite's local stand-in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { costLedger } from "../../src/costs/tables.ts";
import { taskVerifications } from "../../src/tasks/tables.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const INSTANCE_KEY = "sk-ant-instance-key-0000000000";
const ALICE_KEY = "sk-ant-alices-own-key-1111111111";

type Verification = { status: string; markdown: string | null; error: string | null };
type ApiError = { error: { code: string; message: string } };

describe("a verification report is only for those who may see its sessions", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-report-access-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let admin: string;
  let alice: string;
  let bob: string;
  const ids = { admin: "", alice: "", bob: "" };
  let repoId: string;
  /** Alice's session, linked to `task`, with a commit the report draws on. */
  let session: SessionJson;
  let task: { id: string };
  const streams: Array<AbortController> = [];

  const call = async <T,>(who: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await pier.fetch(path, { method, headers: { cookie: who, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const page = async (who: string, path: string) => (await pier.fetch(path, { headers: { cookie: who } })).text();
  const newTask = async (who: string, title: string) => {
    const res = await call<{ id: string }>(who, "POST", "/api/tasks", { title, repoId });
    expect(res.status).toBe(201);
    return res.body;
  };
  const reportOf = (who: string, id: string) => call<Verification & ApiError>(who, "GET", `/api/tasks/${id}/verification`);
  const ready = async (who: string, id: string, marker: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await reportOf(who, id);
      if (res.status === 200 && res.body.status === "ready" && res.body.markdown?.includes(marker)) return res.body;
      if (res.status === 200 && res.body.status === "failed") throw new Error(`the report failed: ${res.body.error}`);
      if (Date.now() > deadline) throw new Error(`no ready report with ${marker}: ${JSON.stringify(res)}`);
      await Bun.sleep(100);
    }
  };
  /** A request Pier makes for a verification report (a chat's carry the agent's system prompt). */
  const isReport = (body: { system?: unknown }) => body.system === undefined;
  const reportRequests = () => fake.requests.filter((request) => isReport(request.body));
  const keyOf = (request: { headers: Record<string, string> }) => request.headers["x-api-key"] ?? request.headers.authorization?.replace(/^Bearer /, "");
  const ledgerOf = (taskId: string) =>
    pier.pier.db.select({ userId: costLedger.userId, sessionId: costLedger.sessionId }).from(costLedger).where(eq(costLedger.taskId, taskId)).all();
  /** A task's event stream as `who` hears it, kept as text. */
  const listen = async (who: string, taskId: string) => {
    const abort = new AbortController();
    streams.push(abort);
    const res = await pier.fetch(`/api/tasks/${taskId}/events`, { headers: { cookie: who }, signal: abort.signal });
    expect(res.status).toBe(200);
    const heard = { text: "" };
    const reader = res.body!.getReader();
    void (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (chunk.done) return;
        heard.text += decoder.decode(chunk.value, { stream: true });
      }
    })();
    const until = async (text: string) => {
      const deadline = Date.now() + 15_000;
      while (!heard.text.includes(text)) {
        if (Date.now() > deadline) throw new Error(`the stream never said ${text}: ${heard.text}`);
        await Bun.sleep(50);
      }
    };
    return { heard, until };
  };
  const addUser = async (username: string) => {
    const res = await pier.fetch("/api/users", json({ username, password: `${username} password`, role: "member" }, { cookie: admin }));
    expect(res.status).toBe(201);
    return ((await res.json()) as { user: { id: string } }).user.id;
  };

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: INSTANCE_KEY, otherApiKeys: [ALICE_KEY] });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    admin = await setUpAdmin(pier);
    ids.admin = (await call<{ user: { id: string } }>(admin, "GET", "/api/auth/me")).body.user.id;
    await call(admin, "PUT", "/api/settings", { anthropicApiKey: INSTANCE_KEY });
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("reported").path}`, "reported");
    ids.alice = await addUser("alice");
    ids.bob = await addUser("bob");
    alice = await signIn(pier, "alice", "alice password");
    bob = await signIn(pier, "bob", "bob password");
    expect((await call(alice, "PUT", "/api/me/credentials", { anthropicApiKey: ALICE_KEY })).status).toBe(200);

    // Bob writes the task; Alice does the work in her session.
    task = await newTask(bob, "Rotate the signing key");
    session = await activeSession(pier, alice, { repoId, taskId: task.id });
    const commit = Bun.spawn(["bash", "-c", "printf 'alices private change\\n' > NOTES.md && git add . && git commit -qm 'Alice rotates the key'"], { cwd: session.worktreePath });
    expect(await commit.exited).toBe(0);
  }, 120_000);

  afterAll(async () => {
    for (const abort of streams) abort.abort();
    await pier.pier.verifications.settled();
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("Alice's report is hers and the admins': Bob gets 404 from the API, nothing on the page, nothing on the stream", async () => {
    const bobHears = await listen(bob, task.id);
    const aliceHears = await listen(alice, task.id);
    fake.scriptWhen(isReport, { text: "## Summary\nALPHA-REPORT: the key was rotated.", usage: { input_tokens: 1200, output_tokens: 200 } });
    expect((await call(alice, "PATCH", `/api/tasks/${task.id}`, { status: "awaiting_approval" })).status).toBe(200);
    await ready(alice, task.id, "ALPHA-REPORT");
    expect(JSON.stringify(reportRequests().at(-1)!.body)).toContain("alices private change");
    // She asked (by moving it), so her key paid, on the ledger against her.
    expect(keyOf(reportRequests().at(-1)!)).toBe(ALICE_KEY);
    expect(ledgerOf(task.id)).toEqual([{ userId: ids.alice, sessionId: null }]);

    // Bob is told what he would be told of a task that has no report at all.
    const none = await newTask(bob, "Nothing written yet");
    const nothing = await reportOf(bob, none.id);
    const refused = await reportOf(bob, task.id);
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual(nothing.body);
    expect(JSON.stringify(refused.body)).not.toContain("ALPHA-REPORT");

    // The task's page shows him no report and no way to ask for one.
    const html = await page(bob, `/tasks/${task.id}`);
    expect(html).toContain("Rotate the signing key");
    expect(html).not.toContain("ALPHA-REPORT");
    expect(html).not.toContain("verification-retry");
    expect(html).toContain('data-verification="none"');

    // Alice and any admin read it.
    expect((await page(alice, `/tasks/${task.id}`)).includes("ALPHA-REPORT")).toBe(true);
    expect((await reportOf(admin, task.id)).body.markdown).toContain("ALPHA-REPORT");

    // The stream told Alice; Bob heard the task move, and nothing of the report, up to a later edit.
    await aliceHears.until("ALPHA-REPORT");
    expect((await call(admin, "PATCH", `/api/tasks/${task.id}`, { description: "FENCE-EDIT" })).status).toBe(200);
    await bobHears.until("FENCE-EDIT");
    expect(bobHears.heard.text).toContain("awaiting_approval");
    expect(bobHears.heard.text).not.toContain('"type":"verification"');
    expect(bobHears.heard.text).not.toContain("ALPHA-REPORT");
  }, 60_000);

  test("Bob cannot ask for it again, through the API or the page's form; Alice and an admin can, each paying", async () => {
    const before = reportRequests().length;
    const retried = await call<ApiError>(bob, "POST", `/api/tasks/${task.id}/verification`);
    expect(retried.status).toBe(404);
    expect(retried.body.error.code).toBe("not_found");
    const form = await pier.fetch(`/tasks/${task.id}/verification`, { method: "POST", headers: { cookie: bob, "content-type": "application/x-www-form-urlencoded" }, body: "" });
    expect(form.status).toBe(404);
    expect(await form.text()).not.toContain("ALPHA-REPORT");
    await pier.pier.verifications.settled();
    expect(reportRequests().length).toBe(before);
    expect((await reportOf(alice, task.id)).body.markdown).toContain("ALPHA-REPORT");

    // An admin asks: the instance's key (the admin has none of their own) pays, against the admin.
    fake.scriptWhen(isReport, { text: "## Summary\nBETA-REPORT by the admin." });
    expect((await call(admin, "POST", `/api/tasks/${task.id}/verification`)).status).toBe(202);
    await ready(admin, task.id, "BETA-REPORT");
    expect(keyOf(reportRequests().at(-1)!)).toBe(INSTANCE_KEY);
    expect(ledgerOf(task.id).map((row) => row.userId)).toEqual([ids.alice, ids.admin]);

    // Alice asks again: her key, her row.
    fake.scriptWhen(isReport, { text: "## Summary\nGAMMA-REPORT by Alice." });
    expect((await call(alice, "POST", `/api/tasks/${task.id}/verification`)).status).toBe(202);
    await ready(alice, task.id, "GAMMA-REPORT");
    expect(keyOf(reportRequests().at(-1)!)).toBe(ALICE_KEY);
    expect(ledgerOf(task.id).map((row) => row.userId)).toEqual([ids.alice, ids.admin, ids.alice]);
  }, 60_000);

  test("Bob moving a task of Alice's work to awaiting approval writes no report on anyone's key", async () => {
    const next = await newTask(bob, "Publish the new key");
    expect((await call(alice, "PATCH", `/api/sessions/${session.id}`, { taskId: next.id })).status).toBe(200);
    const before = reportRequests().length;
    expect((await call(bob, "PATCH", `/api/tasks/${next.id}`, { status: "awaiting_approval" })).status).toBe(200);
    await pier.pier.verifications.settled();
    expect(reportRequests().length).toBe(before);
    expect((await reportOf(admin, next.id)).status).toBe(404);
    expect(ledgerOf(next.id)).toEqual([]);

    // Alice sees the way to ask for it herself.
    expect(await page(alice, `/tasks/${next.id}`)).toContain("verification-retry");
    fake.scriptWhen(isReport, { text: "## Summary\nDELTA-REPORT." });
    expect((await call(alice, "POST", `/api/tasks/${next.id}/verification`)).status).toBe(202);
    await ready(alice, next.id, "DELTA-REPORT");
    expect(ledgerOf(next.id).map((row) => row.userId)).toEqual([ids.alice]);
  }, 60_000);

  test("a report stays with the sessions it drew from: linking Bob's session to the task later shows him none of it", async () => {
    // Alice's session now works on another task; Bob links one of his own to the first.
    const bobs = await activeSession(pier, bob, { repoId, taskId: task.id });
    expect((await reportOf(bob, task.id)).status).toBe(404);
    expect(await page(bob, `/tasks/${task.id}`)).not.toContain("GAMMA-REPORT");

    // He may have one written from his own session (on his key, the instance's here), which Alice then cannot read.
    fake.scriptWhen(isReport, { text: "## Summary\nEPSILON-REPORT from Bob's session." });
    expect((await call(bob, "POST", `/api/tasks/${task.id}/verification`)).status).toBe(202);
    await ready(bob, task.id, "EPSILON-REPORT");
    expect(JSON.stringify(reportRequests().at(-1)!.body)).not.toContain("alices private change");
    expect(ledgerOf(task.id).map((row) => row.userId).at(-1)).toBe(ids.bob);
    expect((await reportOf(alice, task.id)).status).toBe(404);
    await call(bob, "POST", `/api/sessions/${bobs.id}/end`, {});
  }, 120_000);

  test("a report from before Pier kept its sessions is for admins only", async () => {
    // As an upgraded instance has it: the report's sessions were never written down, so not even
    // Bob, whose session this one drew from, can be told apart from anyone else.
    pier.pier.db.update(taskVerifications).set({ sessionIds: null }).where(eq(taskVerifications.taskId, task.id)).run();
    expect((await reportOf(bob, task.id)).status).toBe(404);
    expect((await reportOf(admin, task.id)).body.markdown).toContain("EPSILON-REPORT");
  });
});
