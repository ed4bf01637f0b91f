import { beforeEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { personActor } from "../../src/auth/actor.ts";
import { CredentialSockets } from "../../src/auth/credential-sockets.ts";
import { LoginLimiter } from "../../src/auth/login-limiter.ts";
import { SIGN_IN_LIFETIME, createSignIn, hashToken, invalidateSignIn, signInCookie, validateSignIn } from "../../src/auth/sign-ins.ts";
import { signIns } from "../../src/auth/tables.ts";
import { authenticateApiToken, createApiToken, revokeApiToken } from "../../src/auth/tokens.ts";
import { createFirstAdmin, createUser, verifyCredentials } from "../../src/auth/users.ts";
import type { User } from "../../src/auth/user.ts";
import { type Db, openDatabase } from "../../src/infra/db.ts";

const DAY = 24 * 60 * 60 * 1000;
/** An admin acting, for the functions only an admin may call. */
const ADMIN = personActor({ id: "admin0000000000", username: "admin", role: "admin", createdAt: new Date() });

describe("sign-ins (Lucia session guide)", () => {
  let db: Db;
  let user: User;
  beforeEach(async () => {
    db = openDatabase(join(mkdtempSync(join(tmpdir(), "pier-sess-")), "pier.db"));
    user = await createFirstAdmin(db, { username: "ada", password: "long enough pw" });
  }, 60_000);

  test("only the SHA-256 of the token is stored", () => {
    const { token, signIn } = createSignIn(db, user.id);
    expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(signIn.id).toBe(hashToken(token));
    const rows = db.select().from(signIns).all();
    expect(rows.map((r) => r.id)).toEqual([hashToken(token)]);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  test("a valid token yields its user; an unknown one yields null", () => {
    const { token } = createSignIn(db, user.id);
    expect(validateSignIn(db, token)?.user.username).toBe("ada");
    expect(validateSignIn(db, token + "x")).toBeNull();
  });

  test("expiry slides forward only in the second half of the lifetime", () => {
    const start = Date.now();
    const { token } = createSignIn(db, user.id, start);
    const early = validateSignIn(db, token, start + 5 * DAY)!;
    expect(early.extended).toBe(false);
    expect(early.signIn.expiresAt.getTime()).toBe(start + SIGN_IN_LIFETIME);
    const late = validateSignIn(db, token, start + 20 * DAY)!;
    expect(late.extended).toBe(true);
    expect(late.signIn.expiresAt.getTime()).toBe(start + 20 * DAY + SIGN_IN_LIFETIME);
    const stored = db.select().from(signIns).where(eq(signIns.id, hashToken(token))).get()!;
    expect(stored.expiresAt.getTime()).toBe(start + 20 * DAY + SIGN_IN_LIFETIME);
  });

  test("an expired sign-in is refused and deleted", () => {
    const start = Date.now();
    const { token } = createSignIn(db, user.id, start);
    expect(validateSignIn(db, token, start + SIGN_IN_LIFETIME + 1)).toBeNull();
    expect(db.select().from(signIns).all()).toHaveLength(0);
  });

  test("invalidation ends the sign-in", () => {
    const { token, signIn } = createSignIn(db, user.id);
    invalidateSignIn(db, new CredentialSockets(), signIn.id);
    expect(validateSignIn(db, token)).toBeNull();
  });

  test("the cookie is HttpOnly, SameSite=Lax, and Secure only when asked", () => {
    const expires = new Date(Date.now() + DAY);
    const plain = signInCookie("tok", expires, false);
    expect(plain).toContain("pier_session=tok");
    expect(plain).toContain("HttpOnly");
    expect(plain).toContain("SameSite=Lax");
    expect(plain).not.toContain("Secure");
    expect(signInCookie("tok", expires, true)).toContain("Secure");
  });
});

describe("passwords and API tokens", () => {
  let db: Db;
  beforeEach(() => {
    db = openDatabase(join(mkdtempSync(join(tmpdir(), "pier-tok-")), "pier.db"));
  });

  test("passwords are argon2id hashes and verify", async () => {
    const user = await createUser(db, ADMIN, { username: "bob", password: "bob's password", role: "member" });
    const row = db.$client.query("SELECT password_hash AS h FROM users WHERE id = ?").get(user.id) as { h: string };
    expect(row.h.startsWith("$argon2id$")).toBe(true);
    expect((await verifyCredentials(db, "bob", "bob's password"))?.id).toBe(user.id);
    expect(await verifyCredentials(db, "bob", "wrong password")).toBeNull();
    expect(await verifyCredentials(db, "nobody", "bob's password")).toBeNull();
  });

  test("first-run setup happens once", async () => {
    await createFirstAdmin(db, { username: "ada", password: "long enough pw" });
    await expect(createFirstAdmin(db, { username: "eve", password: "long enough pw" })).rejects.toMatchObject({ status: 409 });
  });

  test("tokens are stored hashed, authenticate, and stop working when revoked", async () => {
    const user = await createUser(db, ADMIN, { username: "bob", password: "bob's password" });
    const { token, secret } = createApiToken(db, personActor(user), { name: "ci" });
    expect(secret).toMatch(/^pier_[a-z2-7]{32}$/);
    const stored = db.$client.query("SELECT token_hash AS h FROM api_tokens").get() as { h: string };
    expect(stored.h).toBe(hashToken(secret));
    expect(authenticateApiToken(db, secret)).toMatchObject({ user: { username: "bob" }, tokenId: token.id });
    revokeApiToken(db, new CredentialSockets(), personActor(user), token.id);
    expect(authenticateApiToken(db, secret)).toBeNull();
  });
});

describe("login limiter", () => {
  const allowed = (result: ReturnType<LoginLimiter["begin"]>) => {
    if ("retryAfter" in result) throw new Error(`refused for ${result.retryAfter} s`);
    return result;
  };

  const MINUTE = 60 * 1000;

  test("five failures lock the (address, username) pair for a minute, then each further one twice as long, up to an hour", () => {
    const limiter = new LoginLimiter();
    let now = Date.now();
    for (let i = 0; i < 5; i++) allowed(limiter.begin("ada", "1.2.3.4", now)).failed();
    expect(limiter.begin("ADA", "1.2.3.4", now)).toEqual({ retryAfter: 60 });
    // The same person from elsewhere, and someone else from here, are not held up.
    allowed(limiter.begin("ada", "5.6.7.8", now)).succeeded();
    allowed(limiter.begin("bob", "1.2.3.4", now)).succeeded();
    for (const lock of [2, 4, 8, 16, 32, 60, 60]) {
      now += MINUTE * 61;
      allowed(limiter.begin("ada", "1.2.3.4", now)).failed();
      expect(limiter.begin("ada", "1.2.3.4", now), `${lock} min`).toEqual({ retryAfter: lock * 60 });
    }
    now += 61 * MINUTE;
    allowed(limiter.begin("ada", "1.2.3.4", now)).succeeded();
    for (let i = 0; i < 5; i++) allowed(limiter.begin("ada", "1.2.3.4", now)).failed();
  });

  test("a pair's failures are forgotten a day after its last one", () => {
    const limiter = new LoginLimiter();
    const now = Date.now();
    for (let i = 0; i < 5; i++) allowed(limiter.begin("ada", "1.2.3.4", now)).failed();
    allowed(limiter.begin("ada", "1.2.3.4", now + 2 * MINUTE)).failed();
    allowed(limiter.begin("ada", "1.2.3.4", now + 2 * MINUTE + 24 * 60 * MINUTE)).failed();
    allowed(limiter.begin("ada", "1.2.3.4", now + 2 * MINUTE + 24 * 60 * MINUTE)).succeeded();
  });

  test("twenty failures from one address across usernames refuse only usernames that failed there, until the address cools down", () => {
    const limiter = new LoginLimiter();
    const now = Date.now();
    for (let i = 0; i < 20; i++) allowed(limiter.begin(`user${i}`, "9.9.9.9", now)).failed();
    // A second guess at a username already tried from this address waits; the first at another is checked.
    expect(limiter.begin("user3", "9.9.9.9", now + MINUTE)).toEqual({ retryAfter: 14 * 60 });
    allowed(limiter.begin("someone-new", "9.9.9.9", now + MINUTE)).succeeded();
    allowed(limiter.begin("user3", "8.8.8.8", now + MINUTE));
    allowed(limiter.begin("user3", "9.9.9.9", now + 16 * MINUTE));
  });

  test("a username that failed at a busy address only before the window is not held up by it", () => {
    const limiter = new LoginLimiter();
    const now = Date.now();
    allowed(limiter.begin("ada", "9.9.9.9", now)).failed();
    for (let i = 0; i < 20; i++) allowed(limiter.begin(`user${i}`, "9.9.9.9", now + 20 * MINUTE)).failed();
    allowed(limiter.begin("ada", "9.9.9.9", now + 21 * MINUTE)).succeeded();
    expect(limiter.begin("user1", "9.9.9.9", now + 21 * MINUTE)).toMatchObject({ retryAfter: expect.any(Number) });
  });

  test("IPv6 addresses of one /64 count as one address; IPv4-mapped ones as their IPv4 address", () => {
    const limiter = new LoginLimiter();
    const now = Date.now();
    for (let i = 0; i < 5; i++) allowed(limiter.begin("ada", `2001:db8:1:2::${i + 1}`, now)).failed();
    expect(limiter.begin("ada", "2001:db8:1:2:ffff::9", now)).toEqual({ retryAfter: 60 });
    allowed(limiter.begin("ada", "2001:db8:1:3::1", now));
    for (let i = 0; i < 5; i++) allowed(limiter.begin("bob", i % 2 ? "::ffff:1.2.3.4" : "1.2.3.4", now)).failed();
    expect(limiter.begin("bob", "1.2.3.4", now)).toEqual({ retryAfter: 60 });
  });

  test("attempts still being checked count against the limit", () => {
    const limiter = new LoginLimiter();
    const pending = Array.from({ length: 5 }, () => allowed(limiter.begin("ada", "1.2.3.4")));
    expect(limiter.begin("ada", "1.2.3.4")).toMatchObject({ retryAfter: expect.any(Number) });
    for (const attempt of pending) attempt.abandoned();
    allowed(limiter.begin("ada", "1.2.3.4"));
  });

  test("a success forgives the pair; successes never count against the address", () => {
    const limiter = new LoginLimiter();
    for (let i = 0; i < 4; i++) allowed(limiter.begin("ada", "1.2.3.4")).failed();
    allowed(limiter.begin("ada", "1.2.3.4")).succeeded();
    for (let i = 0; i < 4; i++) allowed(limiter.begin("ada", "1.2.3.4")).failed();
    for (let i = 0; i < 30; i++) allowed(limiter.begin(`user${i % 3}`, "1.2.3.4")).succeeded();
    allowed(limiter.begin("ada", "1.2.3.4"));
  });
});
