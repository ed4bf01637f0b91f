import { afterEach, describe, expect, test } from "bun:test";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";

/**
 * The sign-in limits, over HTTP from 127.0.0.1 — where every sign-in comes from when Pier is behind
 * the reverse proxy SECURITY.md recommends. Failures lock an (address, username) pair, not the
 * username or the address, so nobody's failures refuse someone else's right password.
 */
const ALICE = { username: "alice", password: "alice's long password" };

describe("the login limits", () => {
  let pier: TestPier;
  afterEach(async () => {
    if (pier) await closeForGood(pier);
  });

  async function start(env: Record<string, string> = {}) {
    pier = await startTestPier(env);
    const cookie = await setUpAdmin(pier);
    const created = await pier.fetch("/api/users", json({ ...ALICE, role: "member" }, { cookie, origin: pier.url }));
    expect(created.status).toBe(201);
  }

  const attempt = (username: string, password: string, forwardedFor?: string) =>
    pier.fetch("/api/auth/login", json({ username, password }, forwardedFor ? { "x-forwarded-for": forwardedFor } : {}));

  test("20 failures for random usernames from 127.0.0.1 do not refuse alice's right password, nor admin's", async () => {
    await start();
    for (let i = 0; i < 20; i++) expect((await attempt(`guess-${crypto.randomUUID().slice(0, 8)}`, "password123")).status).toBe(401);
    expect((await attempt(ALICE.username, ALICE.password)).status).toBe(200);
    expect((await attempt(ADMIN.username, ADMIN.password)).status).toBe(200);
  }, 60_000);

  test("a spray's second round from a busy address is refused for the usernames it already tried, never for others", async () => {
    await start();
    const sprayed = Array.from({ length: 25 }, (_, i) => `sprayed-${i}`);
    const first = await Promise.all(sprayed.map((username) => attempt(username, "password123")));
    expect(first.map((res) => res.status)).toEqual(sprayed.map(() => 401));
    const second = await Promise.all(sprayed.map((username) => attempt(username, "letmein-2024")));
    expect(second.map((res) => res.status)).toEqual(sprayed.map(() => 429));
    expect(Number(second[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await attempt(ALICE.username, ALICE.password)).status).toBe(200);
  }, 60_000);

  test("alice's own failures lock her (429 with Retry-After, even for the right password) and no one else", async () => {
    await start();
    for (let i = 0; i < 5; i++) expect((await attempt(ALICE.username, `wrong-${i}`)).status).toBe(401);
    const locked = await attempt(ALICE.username, ALICE.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await locked.json()) as { error: { code: string } }).error.code).toBe("too_many_attempts");
    expect((await attempt(ADMIN.username, ADMIN.password)).status).toBe(200);
  }, 60_000);

  test("40 parallel wrong passwords for one user: at most 5 are checked, the rest get 429; then even the right one is 429", async () => {
    await start();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(ADMIN.username, `wrong-${i}`)));
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    for (const res of answers.filter((r) => r.status === 429)) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    const right = await attempt(ADMIN.username, ADMIN.password);
    expect(right.status).toBe(429);
    expect(((await right.json()) as { error: { code: string } }).error.code).toBe("too_many_attempts");
  }, 60_000);

  test("signing in successfully uses up nothing", async () => {
    await start();
    for (let i = 0; i < 25; i++) {
      expect((await attempt(ADMIN.username, ADMIN.password)).status).toBe(200);
    }
  }, 60_000);

  test("behind a trusted proxy the limits follow the address it forwards", async () => {
    await start({ PIER_TRUSTED_PROXIES: "127.0.0.1/32" });
    // A client that writes its own X-Forwarded-For gets the proxy's appended after it: the right-most counts.
    for (let i = 0; i < 5; i++) expect((await attempt(ALICE.username, `wrong-${i}`, `192.0.2.${i}, 203.0.113.7`)).status).toBe(401);
    expect((await attempt(ALICE.username, ALICE.password, "203.0.113.7")).status).toBe(429);
    expect((await attempt(ALICE.username, ALICE.password, "198.51.100.20")).status).toBe(200);
    // A chain of trusted proxies is walked past; an address left of the client is the client's own say.
    for (let i = 0; i < 5; i++) expect((await attempt(ADMIN.username, `wrong-${i}`, "198.51.100.30, 127.0.0.1")).status).toBe(401);
    expect((await attempt(ADMIN.username, ADMIN.password, "198.51.100.30")).status).toBe(429);
    expect((await attempt(ADMIN.username, ADMIN.password, "198.51.100.30, 198.51.100.31")).status).toBe(200);
  }, 60_000);

  test("without PIER_TRUSTED_PROXIES, X-Forwarded-For is ignored", async () => {
    await start();
    for (let i = 0; i < 5; i++) expect((await attempt(ALICE.username, `wrong-${i}`, `203.0.113.${i}`)).status).toBe(401);
    expect((await attempt(ALICE.username, ALICE.password, "198.51.100.20")).status).toBe(429);
  }, 60_000);
});
