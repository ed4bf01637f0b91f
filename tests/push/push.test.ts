/**
 * Web Push end to end on the local runtime: a real session with its real chat (the model is the
 * suite's fake Anthropic server), devices subscribed through the API with keys made as a browser
 * makes them (a P-256 key pair and a 16-byte secret, RFC 8291: Chromium's own subscription needs
 * its push service, which this machine cannot reach; tests/browser/push.test.ts subscribes there
 * against stand-ins of it), and a push service stand-in on 127.0.0.1 that checks every push's
 * VAPID signature and decrypts its payload. So this Pier allows private push endpoints
 * (PIER_PUSH_ALLOW_PRIVATE=1); a second Pier keeps to public ones, as Pier does by default.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecretBox } from "../../src/infra/secret-box.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type BrowserKeys, type PushServiceStandIn, browserKeys, startPushService } from "../support/push-service.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { until } from "../support/until.ts";

const API_KEY = "sk-ant-push-0123456789";

let anthropic: FakeAnthropic;
let service: PushServiceStandIn;
let pier: TestPier;
let admin: string;
let member: string;
let session: SessionJson;
let chat: ChatClient;

type Answer = { status: number; body: any };
const call = async (method: string, path: string, body?: unknown, cookie = admin, at: TestPier = pier): Promise<Answer> => {
  const res = await at.fetch(path, { method, headers: { cookie, origin: at.url, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};
const look = (looking: boolean) => call("POST", `/api/sessions/${session.id}/seen`, { looking });
const attentionOf = async () => (await call("GET", `/api/sessions/${session.id}`)).body.attention as string | null;

/** Subscribes a device of the person behind `cookie` at the stand-in; its id and the keys it holds. */
async function device(name: string, behaviour?: Parameters<PushServiceStandIn["endpoint"]>[1], cookie = admin): Promise<{ id: string; keys: BrowserKeys }> {
  const keys = browserKeys();
  const saved = await call("POST", "/api/me/push", { endpoint: service.endpoint(name, behaviour, keys), keys: keys.json, name }, cookie);
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  return { id: saved.body.id, keys };
}

/** Ends a turn with the person looking away (their tab closed), and waits until it has raised turn_end. */
async function turnEndsUnseen(text: string): Promise<void> {
  await look(false);
  anthropic.script({ text });
  await chat.turn(`Say ${text}`);
  await until("turn_end raised", attentionOf, (attention) => attention === "turn_end", 15_000);
}

/** Looking clears the reason, so the next turn's end is a new raise. */
async function clearRaise(): Promise<void> {
  await look(true);
  expect(await attentionOf()).toBeNull();
}

beforeAll(async () => {
  service = startPushService();
  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", PIER_PUSH_ALLOW_PRIVATE: "1", ANTHROPIC_BASE_URL: anthropic.url });
  admin = await setUpAdmin(pier);
  expect((await call("PUT", "/api/settings", { anthropicApiKey: API_KEY })).status).toBe(200);
  expect((await pier.fetch("/api/users", json({ username: "mia", password: "mia password 1", role: "member" }, { cookie: admin }))).status).toBe(201);
  member = await signIn(pier, "mia", "mia password 1");
  const repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("push").path}`, "push-repo");
  session = await activeSession(pier, admin, { repoId, title: "Push session" });
  chat = await ChatClient.connect(pier.url, session.id, { cookie: admin, origin: pier.url });
}, 120_000);

afterAll(async () => {
  chat?.close();
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
  await service?.stop();
}, 60_000);

describe("subscribing", () => {
  test("the VAPID key is Pier's, one for everyone, and only for people signed in", async () => {
    const key = await call("GET", "/api/push/key");
    expect(key.status).toBe(200);
    expect(Buffer.from(key.body.publicKey, "base64url")).toHaveLength(65);
    expect((await call("GET", "/api/push/key", undefined, member)).body).toEqual(key.body);
    expect((await pier.fetch("/api/push/key")).status).toBe(401);
  });

  test("a device is saved as the person's, listed without its endpoint or keys, saved again as the same device, and removed only by its person", async () => {
    const keys = browserKeys();
    const endpoint = service.endpoint("listed", { status: 201 }, keys);
    const saved = await call("POST", "/api/me/push", { endpoint, keys: keys.json, name: "Phone" });
    expect(saved.status).toBe(201);
    expect(saved.body).toEqual({ id: expect.any(String), name: "Phone", service: new URL(service.url).host, createdAt: expect.any(String), lastPushAt: null });
    const again = await call("POST", "/api/me/push", { endpoint, keys: keys.json });
    expect(again.body.id).toBe(saved.body.id);
    expect(again.body.name).toBe("A browser");
    const listed = (await call("GET", "/api/me/push")).body as Array<{ id: string }>;
    expect(listed.filter((each) => each.id === saved.body.id)).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(keys.json.auth);
    expect(JSON.stringify(listed)).not.toContain("/push/listed");
    // The keys are sealed where Pier keeps them.
    pier.pier.db.$client.exec("PRAGMA wal_checkpoint(PASSIVE)");
    for (const file of ["pier.db", "pier.db-wal"]) {
      const bytes = readFileSync(join(pier.dataDir, file), { flag: "r" });
      expect(bytes.includes(keys.json.auth), file).toBe(false);
    }

    expect((await call("GET", "/api/me/push", undefined, member)).body).toEqual([]);
    expect((await call("DELETE", `/api/me/push/${saved.body.id}`, undefined, member)).status).toBe(404);
    expect((await call("DELETE", `/api/me/push/${saved.body.id}`)).status).toBe(204);
    expect(((await call("GET", "/api/me/push")).body as Array<{ id: string }>).some((each) => each.id === saved.body.id)).toBe(false);
    expect((await call("DELETE", `/api/me/push/${saved.body.id}`)).status).toBe(404);
  });

  test("bad input is a 400 naming the field with a sentence, and saves nothing", async () => {
    const keys = browserKeys().json;
    const offCurve = Buffer.from(keys.p256dh, "base64url");
    offCurve[40]! ^= 1;
    const cases: Array<[string, unknown, string, RegExp]> = [
      ["no endpoint", { keys }, "endpoint", /endpoint is required/],
      ["not a URL", { endpoint: "not a url", keys }, "endpoint", /full https URL/],
      ["ftp", { endpoint: "ftp://push.example/x", keys }, "endpoint", /https URL/],
      ["a user and password", { endpoint: "https://user:pw@push.example/x", keys }, "endpoint", /user name or password/],
      ["too long", { endpoint: `https://push.example/${"x".repeat(2100)}`, keys }, "endpoint", /at most 2048 characters/],
      ["plain http to a public address", { endpoint: "http://8.8.8.8/push", keys }, "endpoint", /https URL/],
      ["no keys", { endpoint: service.endpoint("bad") }, "keys", /p256dh and auth/],
      ["keys without auth", { endpoint: service.endpoint("bad"), keys: { p256dh: keys.p256dh } }, "keys", /p256dh and auth/],
      ["a short p256dh", { endpoint: service.endpoint("bad"), keys: { ...keys, p256dh: keys.p256dh.slice(0, 40) } }, "keys", /65 bytes/],
      ["a p256dh off the curve", { endpoint: service.endpoint("bad"), keys: { ...keys, p256dh: offCurve.toString("base64url") } }, "keys", /P-256 public key/],
      ["an auth of 12 bytes", { endpoint: service.endpoint("bad"), keys: { ...keys, auth: Buffer.alloc(12, 1).toString("base64url") } }, "keys", /16 bytes/],
      ["a name too long", { endpoint: service.endpoint("bad"), keys, name: "n".repeat(81) }, "name", /at most 80 characters/],
    ];
    for (const [what, body, field, sentence] of cases) {
      const refused = await call("POST", "/api/me/push", body);
      expect(refused.status, what).toBe(400);
      expect(refused.body.error.field, what).toBe(field);
      expect(refused.body.error.message, what).toMatch(sentence);
    }
    expect(((await call("GET", "/api/me/push")).body as unknown[]).length).toBe(0);
  });
});

describe("a raise", () => {
  test("a turn ending with the person's tab closed sends each of their devices one push naming the session, signed and encrypted; another person's device gets nothing", async () => {
    const laptop = await device("laptop");
    const phone = await device("phone");
    await device("mia-phone", { status: 201 }, member);
    const { publicKey } = (await call("GET", "/api/push/key")).body;

    await turnEndsUnseen("done");
    for (const name of ["laptop", "phone"]) await until(`a push to ${name}`, async () => service.to(name).length, (n) => n >= 1, 15_000);
    const expected = { title: "Push session", body: "push-repo: The agent finished its turn.", url: `/sessions/${session.id}`, tag: `pier-${session.id}`, reason: "turn_end", sessionId: session.id };
    for (const name of ["laptop", "phone"]) {
      const [push] = service.to(name);
      expect(push!.message).toEqual(expected);
      expect(push!.vapid).toMatchObject({ aud: service.url, sub: "mailto:pier@127.0.0.1", publicKey });
      expect(push!.headers.urgency).toBe("high");
    }
    expect(service.problems).toEqual([]);

    // A second turn while the first is still raised is no new raise: nothing more is sent.
    anthropic.script({ text: "again" });
    await chat.turn("Once more.");
    await Bun.sleep(500);
    expect(service.to("laptop")).toHaveLength(1);
    expect(service.to("phone")).toHaveLength(1);
    expect(service.to("mia-phone")).toHaveLength(0);
    const devices = (await call("GET", "/api/me/push")).body as Array<{ id: string; lastPushAt: string | null }>;
    for (const id of [laptop.id, phone.id]) expect(devices.find((each) => each.id === id)?.lastPushAt).toEqual(expect.any(String));
    await clearRaise();

    // While the person looks at the session, a turn's end raises nothing, and nothing is pushed.
    anthropic.script({ text: "watched" });
    await chat.turn("While you watch.");
    await Bun.sleep(500);
    expect(service.to("laptop")).toHaveLength(1);
    for (const id of [laptop.id, phone.id]) expect((await call("DELETE", `/api/me/push/${id}`)).status).toBe(204);
  }, 60_000);

  test("a push service answering 410 or 404 has dropped the subscription: Pier removes the device, and tries it no more", async () => {
    const gone = await device("gone", { status: 410 });
    const missing = await device("missing", { status: 404 });
    await turnEndsUnseen("gone");
    const listed = await until("both removed", async () => ((await call("GET", "/api/me/push")).body as Array<{ id: string }>).map((each) => each.id), (ids) => !ids.includes(gone.id) && !ids.includes(missing.id), 15_000);
    expect(listed).toEqual([]);
    await Bun.sleep(1500);
    expect(service.to("gone")).toHaveLength(1);
    expect(service.to("missing")).toHaveLength(1);
    await clearRaise();
  }, 60_000);

  test("a failing push service is tried again until it takes the push, and neither it nor one that never answers holds up the raise or the other devices", async () => {
    const flaky = await device("flaky", { failTimes: 2, status: 503 });
    const silent = await device("silent", "hang");
    const steady = await device("steady");
    await turnEndsUnseen("flaky");
    // The steady device has its push while the flaky one has had only its first try, and the silent one has not answered.
    await until("the steady device's push", async () => service.to("steady").length, (n) => n === 1, 15_000);
    expect(service.to("flaky").length).toBeLessThanOrEqual(1);
    expect(service.to("silent").map((push) => push.answered)).toEqual(["never"]);
    expect(await attentionOf()).toBe("turn_end");
    const tries = await until("the flaky device's third try", async () => service.to("flaky"), (pushes) => pushes.length === 3, 30_000);
    expect(tries.map((push) => push.answered)).toEqual([503, 503, 201]);
    // The same message each time, decrypted from each try.
    for (const push of tries) expect(push.message).toMatchObject({ title: "Push session", reason: "turn_end" });
    expect(service.problems).toEqual([]);
    // The service has answered 201; Pier writes down the push once it has read that answer.
    const listDevices = async () => (await call("GET", "/api/me/push")).body as Array<{ id: string; lastPushAt: string | null }>;
    const devices = await until("the flaky device's push written down", listDevices, (list) => typeof list.find((each) => each.id === flaky.id)?.lastPushAt === "string", 15_000);
    expect(devices.find((each) => each.id === silent.id)?.lastPushAt).toBeNull();
    for (const id of [flaky.id, silent.id, steady.id]) expect((await call("DELETE", `/api/me/push/${id}`)).status).toBe(204);
    await clearRaise();
  }, 60_000);

  test("a device removed while its push waits to be tried again is tried no more", async () => {
    const removed = await device("removed", { failTimes: 5, status: 500 });
    await turnEndsUnseen("removed");
    await until("the first try", async () => service.to("removed").length, (n) => n === 1, 15_000);
    expect((await call("DELETE", `/api/me/push/${removed.id}`)).status).toBe(204);
    // The next try was due a second after the first.
    await Bun.sleep(2500);
    expect(service.to("removed")).toHaveLength(1);
    await clearRaise();
  }, 30_000);

  test("an approval waiting is a raise too, pushed once", async () => {
    await device("approvals");
    await call("PUT", "/api/config/tool-policies", { mode: "custom", allowed: [], denied: [], ask: ["bash"] });
    await look(false);
    anthropic.script({ toolUse: { name: "bash", input: { command: "echo approved" } } }, { text: "Ran it." });
    const from = chat.events.length;
    chat.send("Run it.");
    const request = await chat.next("approval_request", from);
    const [push] = await until("the approval's push", async () => service.to("approvals"), (pushes) => pushes.length === 1, 15_000);
    expect(push!.message).toMatchObject({ title: "Push session", body: "push-repo: The agent waits for your approval.", reason: "approval" });
    chat.sendJson({ type: "approval", id: request.id, allow: true });
    await chat.next("turn_end", from);
    await call("PUT", "/api/config/tool-policies", { mode: "allow_all", allowed: [], denied: [], ask: [] });
  }, 60_000);
});

describe("a Pier that keeps to public addresses (the default)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-push-strict-"));
  let strict: TestPier;
  let cookie: string;
  beforeAll(async () => {
    strict = await startTestPier({}, dataDir);
    cookie = await setUpAdmin(strict);
  }, 60_000);
  afterAll(async () => {
    await strict?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("refuses endpoints on this machine or a private network, however written, with a sentence naming the setting; takes a public one", async () => {
    const keys = browserKeys().json;
    for (const endpoint of [service.endpoint("private"), "https://127.0.0.1/push", "https://10.1.2.3/push", "https://[::ffff:192.168.1.1]/push", "https://[fd00::1]/push", "https://169.254.169.254/push"]) {
      const refused = await call("POST", "/api/me/push", { endpoint, keys }, cookie, strict);
      expect(refused.status, endpoint).toBe(400);
      expect(refused.body.error.field, endpoint).toBe("endpoint");
      expect(refused.body.error.message, endpoint).toMatch(/https URL|this machine or a private network/);
    }
    const named = await call("POST", "/api/me/push", { endpoint: "https://10.1.2.3/push", keys }, cookie, strict);
    expect(named.body.error.message).toContain("PIER_PUSH_ALLOW_PRIVATE=1");
    expect((await call("GET", "/api/me/push", undefined, cookie, strict)).body).toEqual([]);
    // An address needs no lookup, so saving reaches nothing.
    const taken = await call("POST", "/api/me/push", { endpoint: "https://[2606:4700:4700::1111]/push/abc", keys }, cookie, strict);
    expect(taken.status).toBe(201);
    expect(taken.body.service).toBe("[2606:4700:4700::1111]");
    expect(service.to("private")).toHaveLength(0);
  });

  test("the VAPID key pair is made once and kept, its private key sealed: a restarted Pier signs with the same", async () => {
    const { publicKey } = (await call("GET", "/api/push/key", undefined, cookie, strict)).body;
    const row = strict.pier.db.$client.query("SELECT public_key, private_key FROM push_server_keys").all() as Array<{ public_key: string; private_key: string }>;
    expect(row).toHaveLength(1);
    expect(row[0]!.public_key).toBe(publicKey);
    const box = await createSecretBox(Uint8Array.from(Buffer.from(readFileSync(join(strict.dataDir, "secret.key"), "utf8").trim(), "hex")));
    const privateKey = await box.open(row[0]!.private_key);
    expect(Buffer.from(privateKey, "base64url")).toHaveLength(32);
    strict.pier.db.$client.exec("PRAGMA wal_checkpoint(PASSIVE)");
    for (const file of ["pier.db", "pier.db-wal"]) expect(readFileSync(join(strict.dataDir, file)).includes(privateKey), file).toBe(false);

    await strict.close();
    strict = await startTestPier({}, dataDir);
    cookie = await signIn(strict, ADMIN.username, ADMIN.password);
    expect((await call("GET", "/api/push/key", undefined, cookie, strict)).body.publicKey).toBe(publicKey);
  });
});
