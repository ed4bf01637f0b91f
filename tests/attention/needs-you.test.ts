/**
 * "Needs you", end to end on the local runtime: a real session, its real terminal and chat (the
 * model is the suite's fake Anthropic server), a real webhook receiver on 127.0.0.1 (so this Pier
 * allows private webhook targets, as a homelab's would for its own ntfy). A session needs its
 * person after a turn ends, while an approval waits, when the terminal rings its bell, and when
 * it goes quiet after output — only while the person is not looking — and looking clears it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";

const API_KEY = "sk-ant-needs-you-0123456789";
const HOOK_SECRET = "hook-token-5e1f9c7a2b";

let anthropic: FakeAnthropic;
let pier: TestPier;
let admin: string;
let session: SessionJson;
let chat: ChatClient;
let term: TermClient;
let hook: ReturnType<typeof Bun.serve>;
const posts: Array<{ path: string; body: any; raw: string }> = [];

const headers = () => ({ cookie: admin, origin: pier.url });
const api = async (method: string, path: string, body?: unknown, cookie = admin) => {
  const res = await pier.fetch(path, { method, headers: { cookie, origin: pier.url, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};
const attentionOf = async () => (await api("GET", `/api/sessions/${session.id}`)).body.attention;
const look = (looking: boolean, cookie = admin) => api("POST", `/api/sessions/${session.id}/seen`, { looking }, cookie);
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  hook = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const raw = await req.text();
      posts.push({ path: new URL(req.url).pathname, body: JSON.parse(raw), raw });
      return new Response("ok");
    },
  });
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", PIER_WEBHOOK_ALLOW_PRIVATE: "1", ANTHROPIC_BASE_URL: anthropic.url });
  admin = await setUpAdmin(pier);
  await api("PUT", "/api/settings", { anthropicApiKey: API_KEY });
  const repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("attention").path}`, "attention");
  session = await activeSession(pier, admin, { repoId, title: "Needs-you session" });
  chat = await ChatClient.connect(pier.url, session.id, headers());
  term = await TermClient.connect(pier.url, session.id, headers());
  await term.run("echo ready-$((6*7))", /ready-42/);
}, 120_000);

afterAll(async () => {
  chat?.close();
  term?.close();
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
  hook?.stop(true);
}, 60_000);

describe("the webhook", () => {
  test("is saved sealed and shown masked; a bad URL is a 400 naming it and changes nothing", async () => {
    for (const url of ["ftp://example.com/x", "not a url", "https://user:pw@example.com/x", `https://example.com/${"x".repeat(2100)}`, 42]) {
      const bad = await api("PUT", "/api/me/notifications", { webhookUrl: url });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("webhookUrl");
    }
    expect((await api("GET", "/api/me/notifications")).body).toEqual({ set: false, mask: null });
    const saved = await api("PUT", "/api/me/notifications", { webhookUrl: `http://127.0.0.1:${hook.port}/hooks/${HOOK_SECRET}` });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ set: true, mask: `http://127.0.0.1:${hook.port}/••••` });
    expect(JSON.stringify((await api("GET", "/api/me/notifications")).body)).not.toContain(HOOK_SECRET);
    pier.pier.db.$client.exec("PRAGMA wal_checkpoint(PASSIVE)");
    for (const file of ["pier.db", "pier.db-wal"].map((f) => join(pier.dataDir, f)).filter(existsSync)) {
      expect(readFileSync(file).includes(HOOK_SECRET)).toBe(false);
    }
  });
});

describe("raised and cleared", () => {
  test("a turn that ends while the person looks away raises turn_end once, tells the hook once, and looking clears it", async () => {
    await look(false);
    const events = await fetch(`${pier.url}/api/attention/events`, { headers: headers() });
    const reader = events.body!.getReader();
    const firstFrame = new TextDecoder().decode((await reader.read()).value);
    expect(firstFrame).toContain('"count":0');

    anthropic.script({ text: "Done." });
    await chat.turn("Say done.");
    expect(await until(attentionOf, (a) => a === "turn_end", "attention")).toBe("turn_end");
    const pushed = new TextDecoder().decode((await reader.read()).value);
    expect(pushed).toContain('"count":1');
    expect(pushed).toContain('"attention":"turn_end"');
    await reader.cancel();

    const counted = (await api("GET", "/api/attention")).body;
    expect(counted).toEqual({ count: 1, sessions: [{ id: session.id, title: "Needs-you session", repo: "attention", attention: "turn_end" }] });
    const sent = await until(async () => posts.length, (n) => n >= 1, "webhook");
    expect(sent).toBe(1);
    expect(posts[0]!.path).toBe(`/hooks/${HOOK_SECRET}`);
    expect(posts[0]!.body).toMatchObject({ reason: "turn_end", sessionId: session.id, sessionTitle: "Needs-you session", repo: "attention", url: `${pier.url}/sessions/${session.id}` });
    expect(posts[0]!.body.text).toContain("needs you: the agent finished its turn");
    for (const secret of [API_KEY, HOOK_SECRET, admin.split("=")[1]!]) expect(posts[0]!.raw).not.toContain(secret);

    // A second turn while it is still raised: the same reason is not told twice.
    anthropic.script({ text: "Again." });
    await chat.turn("Once more.");
    await Bun.sleep(200);
    expect(posts).toHaveLength(1);

    expect((await look(true)).status).toBe(204);
    expect(await attentionOf()).toBeNull();
    expect((await api("GET", "/api/attention")).body.count).toBe(0);
  }, 60_000);

  test("while the person looks, an ended turn raises nothing", async () => {
    await look(true);
    anthropic.script({ text: "Seen." });
    await chat.turn("While you watch.");
    await Bun.sleep(200);
    expect(await attentionOf()).toBeNull();
    expect(posts).toHaveLength(1);
  }, 30_000);

  test("the bell raises bell; the BEL that ends a title sequence does not", async () => {
    await look(false);
    await term.run("printf '\\033]0;a title\\007'; echo title-$((1+1))", /title-2/);
    await Bun.sleep(300);
    expect(await attentionOf()).toBeNull();
    await term.run("printf 'ring\\007'; echo rang-$((2+1))", /rang-3/);
    expect(await until(attentionOf, (a) => a === "bell", "attention")).toBe("bell");
    await until(async () => posts.length, (n) => n === 2, "webhook");
    expect(posts[1]!.body.reason).toBe("bell");
    await look(true);
    expect(await attentionOf()).toBeNull();
  }, 30_000);

  test("output then quiet raises quiet after the setting's seconds; off at 0", async () => {
    expect((await api("PUT", "/api/settings", { quietSeconds: 1 })).status).toBe(200);
    await look(false);
    await term.run("echo quiet-$((3+1))", /quiet-4/);
    expect(await until(attentionOf, (a) => a === "quiet", "attention", 10_000)).toBe("quiet");
    await look(true);
    await api("PUT", "/api/settings", { quietSeconds: 0 });
    await look(false);
    await term.run("echo silent-$((4+1))", /silent-5/);
    await Bun.sleep(1500);
    expect(await attentionOf()).toBeNull();
  }, 30_000);

  test("an approval waits through a look, and only its answer clears it", async () => {
    await api("PUT", "/api/config/tool-policies", { mode: "custom", allowed: [], denied: [], ask: ["bash"] });
    await look(false);
    anthropic.script({ toolUse: { name: "bash", input: { command: "echo approved-run" } } }, { text: "Ran it." });
    const from = chat.events.length;
    chat.send("Run it.");
    const request = await chat.next("approval_request", from);
    expect(await until(attentionOf, (a) => a === "approval", "attention")).toBe("approval");
    await look(true);
    expect(await attentionOf()).toBe("approval");
    // A turn end or bell while it waits does not replace it.
    await term.run("printf '\\007'; echo still-$((5+1))", /still-6/);
    expect(await attentionOf()).toBe("approval");
    chat.sendJson({ type: "approval", id: request.id, allow: true });
    await chat.next("turn_end", from);
    expect(await attentionOf()).toBeNull();
    await api("PUT", "/api/config/tool-policies", { mode: "allow_all", allowed: [], denied: [], ask: [] });
  }, 60_000);
});

describe("who may look", () => {
  test("a member cannot say they look at someone else's session (404) and sees none of its attention; a bad value is a 400", async () => {
    const created = await pier.fetch("/api/users", json({ username: "mia", password: "mia password", role: "member" }, { cookie: admin }));
    expect(created.status).toBe(201);
    const member = await signIn(pier, "mia", "mia password");
    expect((await look(true, member)).status).toBe(404);
    expect((await api("POST", `/api/sessions/${session.id}/seen`, { looking: "yes" })).status).toBe(400);
    expect((await api("GET", "/api/attention", undefined, member)).body).toEqual({ count: 0, sessions: [] });
    // Nor its transcript, which its owner reads whole and in order.
    expect((await api("GET", `/api/sessions/${session.id}/transcript`, undefined, member)).status).toBe(404);
    expect((await pier.fetch(`/api/sessions/${session.id}/transcript`)).status).toBe(401);
    const transcript = (await api("GET", `/api/sessions/${session.id}/transcript`)).body as Array<{ kind: string; text?: string }>;
    const said = transcript.filter((item) => item.kind === "user" || item.kind === "assistant").map((item) => `${item.kind}: ${item.text}`);
    expect(said.slice(0, 6)).toEqual(["user: Say done.", "assistant: Done.", "user: Once more.", "assistant: Again.", "user: While you watch.", "assistant: Seen."]);
    expect(transcript.filter((item) => item.kind === "turn_end").length).toBeGreaterThanOrEqual(4);
  });
});

describe("the Tokens page's notifications form", () => {
  const form = async (fields: Record<string, string>) => {
    const res = await pier.fetch("/tokens/notifications", {
      method: "POST",
      headers: { cookie: admin, origin: pier.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: res.status, html: await res.text() };
  };

  test("shows the hook only as its host, refuses a bad URL without echoing it, and removes it", async () => {
    const page = await (await pier.fetch("/tokens", { headers: { cookie: admin } })).text();
    expect(page).toContain(`In use: http://127.0.0.1:${hook.port}/••••`);
    expect(page).not.toContain(HOOK_SECRET);

    const refused = await form({ webhookUrl: "ftp://example.com/secret-path-77" });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain("Webhook URL must be a full http or https URL.");
    expect(refused.html).not.toContain("secret-path-77");
    expect((await api("GET", "/api/me/notifications")).body.set).toBe(true);

    const removed = await form({ webhookUrl: "", clear_webhookUrl: "1" });
    expect(removed.status).toBe(200);
    expect(removed.html).toContain("None: Pier tells you only in the browser.");
    expect((await api("GET", "/api/me/notifications")).body).toEqual({ set: false, mask: null });
  });
});
