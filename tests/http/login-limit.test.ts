import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ADMIN, type TestPier, json, setUpAdmin, startTestPier } from "../support/pier.ts";

/** The sign-in limit (5 per username, 20 per address, per 15 minutes) holds when guesses arrive at once. */
describe("the login rate limit under concurrency", () => {
  let pier: TestPier;

  beforeEach(async () => {
    pier = await startTestPier();
    await setUpAdmin(pier);
  });
  afterEach(() => pier.close());

  const attempt = (username: string, password: string) => pier.fetch("/api/auth/login", json({ username, password }));

  test("40 parallel wrong passwords for one user: at most 5 are checked, the rest get 429; then even the right one is 429", async () => {
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

  test("40 parallel guesses at different usernames from one address: at most 20 are checked", async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(`nobody-${i}`, "guess-password")));
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
  }, 60_000);

  test("signing in successfully does not use up the address's allowance", async () => {
    for (let i = 0; i < 25; i++) {
      expect((await attempt(ADMIN.username, ADMIN.password)).status).toBe(200);
    }
  }, 60_000);
});
