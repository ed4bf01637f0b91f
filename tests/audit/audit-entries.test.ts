/**
 * The audit log over HTTP, for real: a Pier on the local runtime with the suite's fake Anthropic
 * and fake GitHub behind it, real sessions, a real chat turn waiting on an approval, real requests
 * to the gateway, a webhook trigger firing a real run, a real backup. Each act the issue lists
 * leaves exactly one entry with the right actor, target and address, and no entry (nor the CSV
 * export) holds any of the secrets the test used: passwords, tokens, keys, the settings' values, a
 * tool's input, a password typed as a username.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditEntries } from "../../src/audit/tables.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { tearDownRuns } from "../support/runs.ts";
import { type SessionJson, activeSession, addRepo, waitForState } from "../support/sessions.ts";
import { until } from "../support/until.ts";

type Entry = {
  id: string;
  at: string;
  actor: { kind: string; id: string | null; name: string | null };
  action: string;
  target: { kind: string; id: string | null; name: string | null } | null;
  detail: string | null;
  address: string | null;
};

const GITHUB_TOKEN = `ghp_${"a".repeat(36)}`;
const ANTHROPIC_KEY = "sk-ant-audit-instance-key-00000000";
const WEBHOOK_SECRET = "audit-github-webhook-secret-4711";
const MIA = { username: "mia", password: "mia's own password 0815" };
const MIA_KEY = "sk-ant-mia-own-key-000000000000000";
const HOOK_URL = "http://127.0.0.1:9/ntfy/hook-secret-path-31337";
const TOOL_SECRET = "tool-input-never-in-the-log-2718";
/** What someone typed as the username: a password in the wrong field. */
const PASSWORD_AS_USERNAME = "hunter2-typed-in-the-wrong-box";

describe("the audit log's entries", () => {
  let github: FakeGitHub;
  let anthropic: FakeAnthropic;
  let pier: TestPier;
  let admin: string;
  let mia: string;
  let adminId: string;
  let miaId: string;
  let repoId: string;
  /** Every secret the test handed Pier, to look for in the log. */
  const secrets: string[] = [ADMIN.password, MIA.password, GITHUB_TOKEN, ANTHROPIC_KEY, WEBHOOK_SECRET, MIA_KEY, HOOK_URL, "hook-secret-path-31337", TOOL_SECRET, PASSWORD_AS_USERNAME];

  const call = async (method: string, path: string, body?: unknown, cookie = admin, headers: Record<string, string> = {}) => {
    const res = await pier.fetch(path, { method, headers: { cookie, "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    return res;
  };
  /** Every entry, newest first, through the API's pages. */
  const everything = async (): Promise<Entry[]> => {
    const all: Entry[] = [];
    let path: string | null = "/api/audit?limit=200";
    while (path) {
      const res: Response = await call("GET", path);
      expect(res.status).toBe(200);
      all.push(...((await res.json()) as Entry[]));
      path = res.headers.get("link")?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null;
    }
    return all;
  };
  /** The entries of one action, optionally about one target. */
  const entriesOf = async (action: string, targetId?: string | null) =>
    (await everything()).filter((entry) => entry.action === action && (targetId === undefined || entry.target?.id === targetId));
  /** The one entry of that action (about that target): there must be exactly one. */
  const theEntry = async (action: string, targetId?: string | null) => {
    const found = await entriesOf(action, targetId);
    expect(found, `${action} ${targetId ?? ""}`).toHaveLength(1);
    return found[0]!;
  };

  beforeAll(async () => {
    github = await startFakeGitHub({ token: GITHUB_TOKEN });
    await github.createRepo("octo", "widgets", { from: makeRemoteRepo("widgets").path });
    anthropic = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
    pier = await startTestPier(
      { PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", PIER_WEBHOOK_ALLOW_PRIVATE: "1", GITHUB_API_URL: github.apiUrl, ANTHROPIC_BASE_URL: anthropic.url },
      mkdtempSync(join(tmpdir(), "pier-audit-")),
    );
    admin = await setUpAdmin(pier);
    adminId = ((await (await call("GET", "/api/auth/me")).json()) as { user: { id: string } }).user.id;
    expect((await call("PUT", "/api/settings", { githubToken: GITHUB_TOKEN, anthropicApiKey: ANTHROPIC_KEY })).status).toBe(200);
    repoId = await addRepo(pier, admin, `${github.url}/octo/widgets.git`, "widgets");
  }, 120_000);

  afterAll(() => tearDownRuns({ pier, github, anthropic }), 60_000);

  test("first-run setup and the sign-in after it: the admin made, by themself, and signed in with their password, from 127.0.0.1", async () => {
    const made = await theEntry("user_created", adminId);
    expect(made).toMatchObject({ actor: { kind: "person", id: adminId, name: "admin" }, target: { kind: "user", id: adminId, name: "admin" }, detail: "admin, at first-run setup", address: "127.0.0.1" });
    expect(await entriesOf("sign_in")).toEqual([expect.objectContaining({ actor: { kind: "person", id: adminId, name: "admin" }, target: null, detail: "password", address: "127.0.0.1" })]);
  });

  test("a person added by the admin, their sign-in from the page, and refused sign-ins: a known username named, an unknown one kept by no one", async () => {
    expect((await call("POST", "/api/users", { ...MIA, role: "member" })).status).toBe(201);
    const added = (await entriesOf("user_created")).find((entry) => entry.target?.name === "mia")!;
    miaId = added.target!.id!;
    expect(added).toMatchObject({ actor: { kind: "person", id: adminId, name: "admin" }, target: { kind: "user", name: "mia" }, detail: "member", address: "127.0.0.1" });

    // Signed in from the sign-in page, as a browser does.
    const page = await pier.fetch("/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(MIA).toString() });
    expect(page.status).toBe(303);
    expect(await entriesOf("sign_in")).toContainEqual(expect.objectContaining({ actor: { kind: "person", id: miaId, name: "mia" }, detail: "password", address: "127.0.0.1" }));
    mia = await signIn(pier, MIA.username, MIA.password);
    expect((await entriesOf("sign_in")).filter((entry) => entry.actor.id === miaId)).toHaveLength(2);

    expect((await pier.fetch("/api/auth/login", json({ username: "mia", password: "not mia's password" }))).status).toBe(401);
    expect((await pier.fetch("/api/auth/login", json({ username: PASSWORD_AS_USERNAME, password: MIA.password }))).status).toBe(401);
    const refused = await entriesOf("sign_in_failed");
    expect(refused).toHaveLength(2);
    expect(refused).toContainEqual(expect.objectContaining({ actor: { kind: "person", id: miaId, name: "mia" }, detail: "password: Wrong username or password.", address: "127.0.0.1" }));
    expect(refused).toContainEqual(expect.objectContaining({ actor: { kind: "person", id: null, name: null }, detail: "password: Wrong username or password.", address: "127.0.0.1" }));
  });

  test("an API token made and revoked: one entry each, naming the token, never holding it", async () => {
    const made = await call("POST", "/api/tokens", { name: "deploy script" }, mia);
    expect(made.status).toBe(201);
    const { id, token } = (await made.json()) as { id: string; token: string };
    secrets.push(token);
    expect(await theEntry("token_created", id)).toMatchObject({ actor: { kind: "person", id: miaId }, target: { kind: "token", id, name: "deploy script" }, address: "127.0.0.1" });
    expect((await call("DELETE", `/api/tokens/${id}`, undefined, mia)).status).toBe(204);
    expect(await theEntry("token_revoked", id)).toMatchObject({ actor: { kind: "person", id: miaId }, target: { kind: "token", id, name: "deploy script" } });
    // Revoking what is not there changes nothing, and records nothing.
    expect((await call("DELETE", `/api/tokens/${id}`, undefined, mia)).status).toBe(404);
    expect(await entriesOf("token_revoked")).toHaveLength(1);
  });

  test("settings: each key set, changed or cleared is one entry (the setup's two secrets too), a plain one only when its value changes, from the API and the page", async () => {
    expect((await entriesOf("setting_changed")).map((entry) => [entry.target?.id, entry.detail]).sort()).toEqual([
      ["anthropicApiKey", "set"],
      ["githubToken", "set"],
    ]);
    expect((await call("PUT", "/api/settings", { githubWebhookSecret: WEBHOOK_SECRET, quietSeconds: 45 })).status).toBe(200);
    expect(await theEntry("setting_changed", "githubWebhookSecret")).toMatchObject({
      actor: { kind: "person", id: adminId },
      target: { kind: "setting", id: "githubWebhookSecret", name: "GitHub webhook secret" },
      detail: "set",
      address: "127.0.0.1",
    });
    expect(await theEntry("setting_changed", "quietSeconds")).toMatchObject({ detail: "changed" });
    // The same value again is no change; a bad one changes nothing.
    expect((await call("PUT", "/api/settings", { quietSeconds: 45 })).status).toBe(200);
    expect((await call("PUT", "/api/settings", { quietSeconds: -1, podCpus: 3 })).status).toBe(400);
    expect(await entriesOf("setting_changed", "quietSeconds")).toHaveLength(1);
    expect(await entriesOf("setting_changed", "podCpus")).toHaveLength(0);
    // The settings page sends every field: only what differs from the values in force is recorded.
    const form = new URLSearchParams({ quietSeconds: "45", podCpus: "2", podMemoryMb: "4096", recordingLimitMiB: "64", auditRetentionDays: "365", prPollSeconds: "15", clear_githubWebhookSecret: "1" });
    const page = await pier.fetch("/settings", { method: "POST", headers: { cookie: admin, "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
    expect(page.status).toBe(200);
    expect((await entriesOf("setting_changed")).filter((entry) => !["anthropicApiKey", "githubToken", "quietSeconds"].includes(entry.target!.id!)).map((entry) => [entry.target?.id, entry.detail]).sort()).toEqual([
      ["githubWebhookSecret", "cleared"],
      ["githubWebhookSecret", "set"],
      ["prPollSeconds", "changed"],
    ]);
  });

  test("a person's own credentials and needs-you webhook: which one was set or cleared, by them, never the value", async () => {
    expect((await call("PUT", "/api/me/credentials", { anthropicApiKey: MIA_KEY }, mia)).status).toBe(200);
    expect(await theEntry("credential_changed", "anthropicApiKey")).toMatchObject({
      actor: { kind: "person", id: miaId },
      target: { kind: "credential", id: "anthropicApiKey", name: "Anthropic API key" },
      detail: "set",
      address: "127.0.0.1",
    });
    expect((await call("PUT", "/api/me/credentials", { anthropicApiKey: "", githubToken: "" }, mia)).status).toBe(200);
    // The GitHub token was never hers: clearing it changed nothing.
    expect((await entriesOf("credential_changed")).map((entry) => [entry.target?.id, entry.detail])).toEqual([
      ["anthropicApiKey", "cleared"],
      ["anthropicApiKey", "set"],
    ]);
    expect((await call("PUT", "/api/me/notifications", { webhookUrl: HOOK_URL }, mia)).status).toBe(200);
    expect((await call("PUT", "/api/me/notifications", { webhookUrl: "" }, mia)).status).toBe(200);
    expect((await entriesOf("credential_changed", "webhookUrl")).map((entry) => [entry.actor.id, entry.detail])).toEqual([
      [miaId, "cleared"],
      [miaId, "set"],
    ]);
  });

  test("repositories added and removed, by the admin, named as they were", async () => {
    expect(await theEntry("repo_added", repoId)).toMatchObject({ actor: { kind: "person", id: adminId }, target: { kind: "repo", id: repoId, name: "widgets" }, address: "127.0.0.1" });
    const spare = await addRepo(pier, admin, `file://${makeRemoteRepo("spare").path}`, "spare");
    const page = await pier.fetch(`/repos/${spare}/delete`, { method: "POST", headers: { cookie: admin } });
    expect(page.status).toBe(303);
    expect(await theEntry("repo_removed", spare)).toMatchObject({ actor: { kind: "person", id: adminId }, target: { kind: "repo", id: spare, name: "spare" }, address: "127.0.0.1" });
    // A member may not: refused, and nothing recorded.
    expect((await call("DELETE", `/api/repos/${repoId}`, undefined, mia)).status).toBe(403);
    expect(await entriesOf("repo_removed")).toHaveLength(1);
  });

  describe("a session of Mia's", () => {
    let session: SessionJson;

    beforeAll(async () => {
      session = await activeSession(pier, mia, { repoId, title: "Audit me" });
    }, 120_000);

    test("started by her, ended by the admin, resumed by her: one entry each, saying who", async () => {
      expect(await theEntry("session_started", session.id)).toMatchObject({ actor: { kind: "person", id: miaId }, target: { kind: "session", id: session.id, name: "Audit me" }, detail: null, address: "127.0.0.1" });
      expect((await call("POST", `/api/sessions/${session.id}/end`, {})).status).toBe(200);
      expect(await theEntry("session_ended", session.id)).toMatchObject({ actor: { kind: "person", id: adminId, name: "admin" }, target: { kind: "session", id: session.id } });
      // Ending it again is nothing new.
      expect((await call("POST", `/api/sessions/${session.id}/end`, {})).status).toBe(200);
      expect(await entriesOf("session_ended", session.id)).toHaveLength(1);
      const page = await pier.fetch(`/sessions/${session.id}/resume`, { method: "POST", headers: { cookie: mia } });
      expect(page.status).toBe(303);
      expect(await theEntry("session_resumed", session.id)).toMatchObject({ actor: { kind: "person", id: miaId }, address: "127.0.0.1" });
      session = await waitForState(pier, mia, session.id, "active");
    }, 120_000);

    test("an approval answered: who, which tool and how, never the tool's input", async () => {
      expect((await call("PUT", "/api/config/tool-policies", { mode: "custom", allowed: [], denied: [], ask: ["bash"] })).status).toBe(200);
      anthropic.script({ toolUse: { name: "bash", input: { command: `echo ${TOOL_SECRET}` }, id: "toolu_audit_1" } }, { text: "I did not run it." });
      const chat = await ChatClient.connect(pier.url, session.id, { cookie: mia, origin: pier.url });
      chat.send("Print the word.");
      await until("the approval", async () => (await (await call("GET", `/api/sessions/${session.id}/approvals`, undefined, mia)).json()) as unknown[], (pending) => pending.length === 1);
      // Answered over the chat socket, as the page does: its upgrade request's address is the one kept.
      chat.sendJson({ type: "approval", id: "toolu_audit_1", allow: false });
      await chat.next("turn_end");
      chat.close();
      expect(await theEntry("approval_answered", session.id)).toMatchObject({
        actor: { kind: "person", id: miaId },
        target: { kind: "session", id: session.id, name: "Audit me" },
        detail: "denied bash (once)",
        address: "127.0.0.1",
      });
      expect((await call("PUT", "/api/config/tool-policies", { mode: "allow_all", allowed: [], denied: [], ask: [] })).status).toBe(200);
    }, 60_000);

    test("the gateway refusing the session's agent a path it does not forward, and its budget once reached: its agent the actor; a stranger's refusals not recorded", async () => {
      const token = pier.pier.gateway.mint(session.id);
      secrets.push(token);
      const gateway = (path: string, init: RequestInit) => pier.fetch(`/api/gateway/anthropic${path}`, init);
      expect((await gateway("/v1/files", { method: "POST", headers: { "x-api-key": token } })).status).toBe(404);
      expect((await gateway("/v1/messages", { method: "GET", headers: { "x-api-key": token } })).status).toBe(405);
      expect((await gateway("/v1/files", { method: "POST", headers: { "x-api-key": "pier_gw_not-a-token" } })).status).toBe(404);
      const refused = await entriesOf("gateway_refused", session.id);
      expect(refused.map((entry) => entry.detail)).toEqual(["path: GET /v1/messages", "path: POST /v1/files"]);
      for (const entry of refused) expect(entry).toMatchObject({ actor: { kind: "agent", id: session.id, name: "mia" }, target: { kind: "session", id: session.id, name: "Audit me" }, address: null });

      // A cent more than the session has spent (its chat turn above was paid for).
      const spent = ((await (await call("GET", `/api/sessions/${session.id}`)).json()) as { costUsd: number }).costUsd;
      const budgetUsd = Math.ceil((spent + 0.01) * 100) / 100;
      expect((await call("PUT", "/api/settings", { sessionBudgetUsd: budgetUsd })).status).toBe(200);
      const ask = () =>
        gateway("/v1/messages", {
          method: "POST",
          headers: { "x-api-key": token, "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
        });
      anthropic.script({ text: "Expensive.", usage: { input_tokens: 10_000, output_tokens: 1_000 } });
      const paid = await ask();
      expect(paid.status).toBe(200);
      await paid.text();
      for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(429);
      const budget = await until("the budget's entry", () => entriesOf("gateway_refused", session.id), (entries) => entries.length === 3);
      expect(budget[0]).toMatchObject({ actor: { kind: "agent", id: session.id, name: "mia" }, target: { kind: "session", id: session.id } });
      expect(budget[0]!.detail).toStartWith("budget: ");
      expect(budget[0]!.detail).toContain(`of $${budgetUsd.toFixed(2)}`);
      expect((await call("PUT", "/api/settings", { sessionBudgetUsd: "" })).status).toBe(200);
    }, 60_000);
  });

  test("a webhook trigger fired (its caller's address kept) and refused, the trigger the actor; a wrong secret records nothing", async () => {
    const made = await call("POST", "/api/triggers", { kind: "webhook", name: "Deploy alarm", repoId, promptTemplate: "Look at {{payload.service}}.", enabled: true });
    expect(made.status).toBe(201);
    const trigger = (await made.json()) as { id: string; secret: string };
    secrets.push(trigger.secret);
    const fire = (secret: string) => pier.fetch(`/api/triggers/${trigger.id}/fire`, json({ service: "api" }, { authorization: `Bearer ${secret}` }));
    expect((await fire("pierhook_wrong")).status).toBe(401);
    anthropic.script({ text: "Looked; nothing to change." });
    const fired = await fire(trigger.secret);
    expect(fired.status).toBe(202);
    const { runs } = (await fired.json()) as { runs: Array<{ id: string }> };
    expect(await theEntry("trigger_fired", runs[0]!.id)).toMatchObject({
      actor: { kind: "trigger", id: trigger.id, name: "Deploy alarm" },
      target: { kind: "run", id: runs[0]!.id },
      address: "127.0.0.1",
    });
    // The run's session is started as the trigger's owner, and says for which run.
    const started = await until("the run's session", () => entriesOf("session_started"), (entries) => entries.some((entry) => entry.detail === `for run ${runs[0]!.id}`));
    expect(started.find((entry) => entry.detail === `for run ${runs[0]!.id}`)).toMatchObject({ actor: { kind: "person", id: adminId }, address: null });
    // Its turn made no commits, so the run fails; waited for, so no turn is left running when Pier closes.
    await until("the run's end", async () => ((await (await call("GET", `/api/runs/${runs[0]!.id}`)).json()) as { state: string }).state, (state) => state === "failed");

    expect((await call("PATCH", `/api/triggers/${trigger.id}`, { enabled: false })).status).toBe(200);
    expect((await fire(trigger.secret)).status).toBe(409);
    expect(await entriesOf("trigger_refused")).toEqual([
      expect.objectContaining({ actor: { kind: "trigger", id: trigger.id, name: "Deploy alarm" }, target: null, detail: "The trigger is turned off.", address: "127.0.0.1" }),
    ]);
    expect(await entriesOf("trigger_fired")).toHaveLength(1);
  }, 120_000);

  test("a backup downloaded by the admin is one entry; a member's refused download none", async () => {
    expect((await call("GET", "/api/admin/backup", undefined, mia)).status).toBe(403);
    const backup = await call("GET", "/api/admin/backup");
    expect(backup.status).toBe(200);
    const name = backup.headers.get("content-disposition")!.match(/filename="([^"]+)"/)![1];
    await backup.arrayBuffer();
    expect(await theEntry("backup_taken")).toMatchObject({ actor: { kind: "person", id: adminId }, target: { kind: "backup", id: null, name }, address: "127.0.0.1" });
  }, 60_000);

  test("no entry, in the table or in the CSV export, holds any secret the test used", async () => {
    const table = JSON.stringify(pier.pier.db.select().from(auditEntries).all());
    const csv = await (await call("GET", "/api/audit?format=csv")).text();
    expect(csv.split("\r\n").length - 2).toBe((await everything()).length);
    for (const secret of secrets) {
      expect(table.includes(secret), secret).toBe(false);
      expect(csv.includes(secret), secret).toBe(false);
    }
    // Every action the issue lists was seen.
    expect(new Set((await everything()).map((entry) => entry.action))).toEqual(
      new Set(["sign_in", "sign_in_failed", "token_created", "token_revoked", "user_created", "setting_changed", "credential_changed", "repo_added", "repo_removed", "session_started", "session_ended", "session_resumed", "approval_answered", "gateway_refused", "trigger_fired", "trigger_refused", "backup_taken"]),
    );
  });
});
