/**
 * The tool policy on the chat's agent, for real: sessions on the local runtime, the model the
 * suite's fake Anthropic API. A denied call never runs (each would have made a file); an asked one
 * waits, with the session's attention at approval, until its person (or an admin) answers from
 * the chat socket or the API, and is refused when the turn is stopped; "allow for this session"
 * holds for that session; someone else's session cannot be answered; a reloaded chat gets the
 * card back, and a restart (Pier stopping) refuses the request as not run.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

const API_KEY = "sk-ant-policies-test-000000";

describe("tool policies in the chat", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-policies-"));
  const env = { PIER_ALLOW_LOCAL_REPOS: "1", PIER_RUNTIME: "local" };
  let fake: FakeAnthropic;
  let pier: TestPier;
  let admin: string;
  /** The member whose sessions these are. */
  let nell: string;
  /** Another member, who must not reach Nell's sessions. */
  let oz: string;
  let repoId: string;
  let otherRepoId: string;

  const call = async (method: string, path: string, body?: unknown, who = admin) => {
    const res = await pier.fetch(path, { method, headers: { cookie: who, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const setGlobal = async (policy: object) => expect((await call("PUT", "/api/config/tool-policies", policy)).status).toBe(200);
  const setRepo = async (id: string, policy: object | null) => expect((await call("PUT", `/api/repos/${id}/tool-policy`, policy)).status).toBe(200);
  const attentionOf = async (session: SessionJson) => (await call("GET", `/api/sessions/${session.id}`, undefined, nell)).body.attention;
  const chatOf = (session: SessionJson, who = nell) => ChatClient.connect(pier.url, session.id, { cookie: who, origin: pier.url });
  const made = (session: SessionJson, file: string) => existsSync(join(session.worktreePath, file));
  const touch = (file: string, id?: string) => ({ toolUse: { name: "bash", input: { command: `touch ${file}` }, ...(id ? { id } : {}) } });
  const end = (session: SessionJson) => call("POST", `/api/sessions/${session.id}/end`, {}, nell);

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...env, ANTHROPIC_BASE_URL: fake.url }, dataDir);
    admin = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie: admin }), method: "PUT" });
    for (const name of ["nell", "oz"]) await pier.fetch("/api/users", json({ username: name, password: `${name} password!`, role: "member" }, { cookie: admin }));
    nell = await signIn(pier, "nell", "nell password!");
    oz = await signIn(pier, "oz", "oz password!");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("guarded").path}`, "guarded");
    otherRepoId = await addRepo(pier, admin, `file://${makeRemoteRepo("trusted").path}`, "trusted");
  }, 60_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("deny_all refuses a built-in tool and an MCP tool before either runs; the model and the chat get the policy's sentence", async () => {
    await setGlobal({ mode: "deny_all" });
    const session = await activeSession(pier, nell, { repoId });
    const chat = await chatOf(session);
    fake.script(touch("made-by-bash"), { toolUse: { name: "mcp__tracker__create_issue", input: { title: "x" } } }, { text: "I could not." });
    const events = await chat.turn("Make a file and file an issue.");
    const results = events.filter((e) => e.type === "tool_result");
    expect(results.map((r) => [r.isError, r.refused])).toEqual([[true, true], [true, true]]);
    expect(results[0]!.output).toStartWith("Pier's tool policy for this repository denies bash.");
    // Refused by the policy, not for want of such a tool: the decision comes before the lookup.
    expect(results[1]!.output).toStartWith("Pier's tool policy for this repository denies mcp__tracker__create_issue.");
    expect(events.some((e) => e.type === "approval_request")).toBe(false);
    expect(made(session, "made-by-bash")).toBe(false);
    const lastRequest = JSON.stringify(fake.requests.at(-1)!.body.messages);
    expect(lastRequest).toContain("denies mcp__tracker__create_issue");
    const kept = (await call("GET", `/api/sessions/${session.id}/transcript`, undefined, nell)).body;
    expect(kept.filter((item: any) => item.kind === "tool_result" && item.refused)).toHaveLength(2);
    chat.close();
    await end(session);
  }, 60_000);

  test("Pier's MCP endpoint (Claude Code in the terminal) refuses what the policy denies, and runs what it asks about", async () => {
    const session = await activeSession(pier, nell, { repoId });
    const { token } = (await call("POST", `/api/sessions/${session.id}/mcp-token`, {}, nell)).body;
    const client = new Client({ name: "policies-test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${pier.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    await setGlobal({ mode: "custom", denied: ["list_*"], ask: ["get_my_task"] });
    const denied = await client.callTool({ name: "list_tasks", arguments: {} });
    expect(denied.isError).toBe(true);
    expect(JSON.stringify(denied.content)).toContain("Pier's tool policy for this repository denies list_tasks.");
    // Claude Code asks its person itself before an MCP tool runs; the endpoint does not ask again.
    const asked = await client.callTool({ name: "get_my_task", arguments: {} });
    expect(JSON.stringify(asked.content)).toContain("No task is linked to this session");
    await client.close();
    await end(session);
  }, 60_000);

  test("a repo's own policy beats the global one, both ways", async () => {
    await setGlobal({ mode: "deny_all" });
    await setRepo(otherRepoId, { mode: "allow_all" });
    const trusted = await activeSession(pier, nell, { repoId: otherRepoId });
    const chat = await chatOf(trusted);
    fake.script(touch("allowed-here"), { text: "Done." });
    const events = await chat.turn("Make a file.");
    expect(events.find((e) => e.type === "tool_result")!.isError).toBe(false);
    expect(made(trusted, "allowed-here")).toBe(true);

    await setGlobal({ mode: "allow_all" });
    await setRepo(otherRepoId, { mode: "custom", allowed: ["read_file"], denied: ["bash"] });
    fake.script(touch("denied-here"), { text: "Refused." });
    const refused = (await chat.turn("Make another.")).find((e) => e.type === "tool_result")!;
    expect([refused.isError, refused.refused]).toEqual([true, true]);
    expect(refused.output).toContain("denies bash");
    expect(made(trusted, "denied-here")).toBe(false);
    chat.close();
    await end(trusted);
    await setRepo(otherRepoId, null);
  }, 60_000);

  describe("ask", () => {
    let session: SessionJson;
    let chat: ChatClient;

    beforeAll(async () => {
      await setGlobal({ mode: "custom", allowed: ["read_file"], ask: ["bash", "write_file"] });
      session = await activeSession(pier, nell, { repoId });
      chat = await chatOf(session);
    }, 60_000);

    afterAll(async () => {
      chat.close();
    });

    // Nell watches her session, so a turn's end needs nothing of her: what is left to see is the approval's own attention.
    beforeEach(async () => {
      const seen = await pier.fetch(`/api/sessions/${session.id}/seen`, { method: "POST", headers: { cookie: nell, "content-type": "application/json" }, body: '{"looking":true}' });
      expect(seen.status).toBe(204);
    }, 60_000);

    test("nothing runs while it waits and attention is approval; another member cannot answer; approving over the socket runs it", async () => {
      fake.script(touch("approved-file", "toolu_approve_1"), { text: "Made it." });
      const from = chat.events.length;
      chat.send("Make the file.");
      const request = await chat.next("approval_request", from);
      expect(request).toMatchObject({ id: "toolu_approve_1", tool: "bash", input: { command: "touch approved-file" } });
      expect(await attentionOf(session)).toBe("approval");
      expect((await call("GET", `/api/sessions/${session.id}/approvals`, undefined, nell)).body).toEqual([
        expect.objectContaining({ id: "toolu_approve_1", tool: "bash", input: { command: "touch approved-file" } }),
      ]);
      expect(made(session, "approved-file")).toBe(false);
      expect(chat.events.slice(from).some((e) => e.type === "tool_result")).toBe(false);

      // Oz cannot see Nell's session, so cannot answer for her, by the API or her socket.
      expect((await call("POST", `/api/sessions/${session.id}/approvals/toolu_approve_1`, { allow: true }, oz)).status).toBe(404);
      expect((await call("GET", `/api/sessions/${session.id}/approvals`, undefined, oz)).status).toBe(404);
      await expect(chatOf(session, oz)).rejects.toThrow();
      expect((await call("POST", `/api/sessions/${session.id}/approvals/toolu_approve_1`, { allow: "yes" }, nell)).body.error.field).toBe("allow");
      expect(made(session, "approved-file")).toBe(false);

      chat.sendJson({ type: "approval", id: "toolu_approve_1", allow: true });
      const decision = await chat.next("approval_decision", from);
      expect(decision).toMatchObject({ id: "toolu_approve_1", allow: true, scope: "once", by: "nell" });
      const result = await chat.next("tool_result", from);
      expect([result.isError, result.refused]).toEqual([false, undefined]);
      await chat.next("turn_end", from);
      expect(made(session, "approved-file")).toBe(true);
      expect(await attentionOf(session)).toBeNull();
      expect((await call("POST", `/api/sessions/${session.id}/approvals/toolu_approve_1`, { allow: true }, nell))).toMatchObject({ status: 409, body: { error: { code: "approval_not_pending" } } });
    }, 60_000);

    test("denying (by an admin, over the API) refuses the call and tells the model", async () => {
      fake.script(touch("denied-file", "toolu_deny_1"), { text: "Fine." });
      const from = chat.events.length;
      chat.send("Make another file.");
      await chat.next("approval_request", from);
      const answered = await call("POST", `/api/sessions/${session.id}/approvals/toolu_deny_1`, { allow: false });
      expect(answered).toMatchObject({ status: 200, body: { id: "toolu_deny_1", tool: "bash", allow: false, scope: "once", by: "admin" } });
      const result = await chat.next("tool_result", from);
      expect([result.isError, result.refused]).toEqual([true, true]);
      expect(result.output).toContain("admin did not approve this bash call");
      await chat.next("turn_end", from);
      expect(made(session, "denied-file")).toBe(false);
      expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).toContain("did not approve this bash call");
      expect(await attentionOf(session)).toBeNull();
    }, 60_000);

    test('"allow for this session" skips the next ask in this session, not in another', async () => {
      const write = (path: string, id: string) => ({ toolUse: { name: "write_file", input: { path, content: "x\n" }, id } });
      fake.script(write("first-of-two", "toolu_session_1"), write("second-of-two", "toolu_session_2"), { text: "Both made." });
      const from = chat.events.length;
      chat.send("Make two files.");
      await chat.next("approval_request", from);
      chat.sendJson({ type: "approval", id: "toolu_session_1", allow: true, scope: "session" });
      await chat.next("turn_end", from);
      const turn = chat.events.slice(from);
      expect(turn.filter((e) => e.type === "approval_request").map((e) => e.id)).toEqual(["toolu_session_1"]);
      expect(turn.find((e) => e.type === "approval_decision")).toMatchObject({ allow: true, scope: "session", by: "nell" });
      expect(made(session, "first-of-two") && made(session, "second-of-two")).toBe(true);

      // Another session of the same person and repo is asked again.
      const other = await activeSession(pier, nell, { repoId });
      const otherChat = await chatOf(other);
      fake.script(write("other-session", "toolu_other_1"));
      const start = otherChat.events.length;
      otherChat.send("Make a file here.");
      expect((await otherChat.next("approval_request", start)).id).toBe("toolu_other_1");
      otherChat.close();
      // Ending the session stops its turn: the request is refused, nothing runs.
      await end(other);
      expect(made(other, "other-session")).toBe(false);
      const kept = (await call("GET", `/api/sessions/${other.id}/transcript`, undefined, nell)).body;
      expect(kept.find((item: any) => item.kind === "approval_decision")).toMatchObject({ id: "toolu_other_1", allow: false, by: null });
      expect((await call("GET", `/api/sessions/${other.id}`, undefined, nell)).body.attention).toBeNull();
    }, 90_000);

    test("stopping the turn while it waits refuses the call and clears attention", async () => {
      fake.script(touch("never-made", "toolu_stop_1"));
      const from = chat.events.length;
      chat.send("Make a file, maybe.");
      await chat.next("approval_request", from);
      expect(await attentionOf(session)).toBe("approval");
      chat.interrupt();
      const decision = await chat.next("approval_decision", from);
      expect(decision).toMatchObject({ id: "toolu_stop_1", allow: false, by: null, reason: "The turn was stopped before anyone answered" });
      const result = await chat.next("tool_result", from);
      expect([result.isError, result.refused]).toEqual([true, true]);
      expect((await chat.next("turn_end", from)).interrupted).toBe(true);
      expect(made(session, "never-made")).toBe(false);
      expect(await attentionOf(session)).toBeNull();
      expect((await call("POST", `/api/sessions/${session.id}/approvals/toolu_stop_1`, { allow: true }, nell)).status).toBe(409);
      // Over the socket, a late or malformed answer is refused to that socket alone.
      const late = chat.events.length;
      chat.sendJson({ type: "approval", id: "toolu_stop_1", allow: true });
      expect((await chat.next("error", late)).message).toStartWith("No approval is waiting with that id");
      const malformed = chat.events.length;
      chat.sendJson({ type: "approval", id: "toolu_stop_1", allow: "yes" });
      expect((await chat.next("error", malformed)).message).toBe("An approval needs allow: true or false.");
      expect(made(session, "never-made")).toBe(false);
    }, 60_000);

    test("a reloaded chat gets the waiting card back and can answer it; Pier stopping refuses the request as not run, and says it was Pier", async () => {
      fake.script(touch("after-reload", "toolu_reload_1"), { text: "Made after the reload." });
      const from = chat.events.length;
      chat.send("Make a file after a reload.");
      await chat.next("approval_request", from);
      const reloaded = await chatOf(session);
      const history = reloaded.events[0]!;
      expect(history.pendingApprovals).toEqual(["toolu_reload_1"]);
      expect(history.messages.at(-1)).toMatchObject({ kind: "approval_request", id: "toolu_reload_1", tool: "bash" });
      reloaded.sendJson({ type: "approval", id: "toolu_reload_1", allow: true });
      await chat.next("turn_end", from);
      expect(made(session, "after-reload")).toBe(true);
      reloaded.close();

      fake.script(touch("across-a-restart", "toolu_restart_1"));
      const before = chat.events.length;
      chat.send("Make a file across a restart.");
      await chat.next("approval_request", before);
      expect(await attentionOf(session)).toBe("approval");
      chat.close();
      await pier.close();
      pier = await startTestPier({ ...env, ANTHROPIC_BASE_URL: fake.url }, dataDir);
      expect(await attentionOf(session)).toBeNull();
      chat = await chatOf(session);
      const after = chat.events[0]!;
      expect(after.pendingApprovals).toEqual([]);
      expect(after.messages.some((m: any) => m.kind === "approval_request" && m.id === "toolu_restart_1")).toBe(true);
      expect((await call("POST", `/api/sessions/${session.id}/approvals/toolu_restart_1`, { allow: true }, nell)).status).toBe(409);
      expect(made(session, "across-a-restart")).toBe(false);

      // The conversation goes on: the model hears the call never ran.
      fake.script({ text: "Understood." });
      await chat.turn("Carry on.");
      // Pier stopping (not its person) stopped the turn, and the model is told so.
      const heard = JSON.stringify(fake.requests.at(-1)!.body.messages);
      expect(heard).toContain("Pier stopped before anyone answered, so it did not run.");
      expect(heard).toContain("[interrupted by Pier restarting]");
      await end(session);
    }, 120_000);
  });
});
