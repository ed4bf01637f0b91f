import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import { eq, lt } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { AppError, RateLimited } from "../infra/errors.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import type { LoginLimiter } from "./login-limiter.ts";
import { signIns, users } from "./tables.ts";
import { type CredentialsInput, verifyCredentials } from "./users.ts";
import type { User } from "./user.ts";

/**
 * Sign-ins: a browser signed in as a person, following the Lucia session guide. The cookie holds a
 * random token, the database holds only its SHA-256. A sign-in lasts 30 days and slides forward
 * when used in its second half. (Not to be confused with sessions, the work sessions in src/sessions.)
 */
/** The cookie keeps the name it was born with (browsers hold it): renaming it would sign everyone out. */
export const SIGN_IN_COOKIE = "pier_session";
const DAY = 24 * 60 * 60 * 1000;
export const SIGN_IN_LIFETIME = 30 * DAY;

export interface SignIn {
  id: string;
  userId: string;
  expiresAt: Date;
}

export function generateToken(): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(20)));
}

export function hashToken(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

/**
 * Checks a username and password under the login rate limit: the person, or an error (401 wrong
 * credentials, 429 too many failures). Shared by the API and the sign-in page, which then create
 * the sign-in. The attempt takes its place under the limit before the (slow) password check, so
 * guesses sent all at once are limited like guesses sent one after another.
 */
export async function signIn(db: Db, limiter: LoginLimiter, input: CredentialsInput, address: string): Promise<User> {
  const { username, password } = input;
  const attempt = limiter.begin(username, address);
  if ("retryAfter" in attempt) {
    const wait = attempt.retryAfter;
    throw new RateLimited(wait, `Too many failed sign-ins; try again in ${Math.ceil(wait / 60)} minute(s).`);
  }
  let user;
  try {
    user = await verifyCredentials(db, username, password);
  } catch (error) {
    attempt.abandoned();
    throw error;
  }
  if (!user) {
    attempt.failed();
    throw new AppError(401, "invalid_credentials", "Wrong username or password.");
  }
  attempt.succeeded();
  return user;
}

export function createSignIn(db: Db, userId: string, now = Date.now()): { token: string; signIn: SignIn } {
  const token = generateToken();
  const signIn = { id: hashToken(token), userId, expiresAt: new Date(now + SIGN_IN_LIFETIME) };
  db.insert(signIns).values(signIn).run();
  return { token, signIn };
}

/**
 * The sign-in and its user for a cookie token, or null when unknown or expired.
 * `extended` says the expiry moved forward, so the cookie should be sent again.
 */
export function validateSignIn(
  db: Db,
  token: string,
  now = Date.now(),
): { signIn: SignIn; user: User; extended: boolean } | null {
  const id = hashToken(token);
  const row = db
    .select({ signIn: signIns, user: { id: users.id, username: users.username, role: users.role, createdAt: users.createdAt } })
    .from(signIns)
    .innerJoin(users, eq(users.id, signIns.userId))
    .where(eq(signIns.id, id))
    .get();
  if (!row) return null;
  const { signIn, user } = row;
  if (now >= signIn.expiresAt.getTime()) {
    db.delete(signIns).where(eq(signIns.id, id)).run();
    return null;
  }
  const extended = now >= signIn.expiresAt.getTime() - SIGN_IN_LIFETIME / 2;
  if (extended) {
    signIn.expiresAt = new Date(now + SIGN_IN_LIFETIME);
    db.update(signIns).set({ expiresAt: signIn.expiresAt }).where(eq(signIns.id, id)).run();
  }
  return { signIn, user, extended };
}

/**
 * The person signed in with the sign-in whose id this is, while it lasts; null once it expired or
 * was signed out. By id, not token: for what a sign-in vouches for elsewhere (a preview's cookie
 * names the sign-in that opened it), so it does not slide the expiry, which only the sign-in
 * cookie's own use does.
 */
export function userOfSignIn(db: Db, signInId: string, now = Date.now()): User | null {
  const row = db
    .select({ expiresAt: signIns.expiresAt, user: { id: users.id, username: users.username, role: users.role, createdAt: users.createdAt } })
    .from(signIns)
    .innerJoin(users, eq(users.id, signIns.userId))
    .where(eq(signIns.id, signInId))
    .get();
  return row && now < row.expiresAt.getTime() ? row.user : null;
}

/** Signs out: the sign-in is gone, and WebSockets opened with it close. */
export function invalidateSignIn(db: Db, sockets: CredentialSockets, signInId: string): void {
  db.delete(signIns).where(eq(signIns.id, signInId)).run();
  sockets.end({ kind: "sign_in", id: signInId }, "You signed out, so this connection has closed.");
}

export function deleteExpiredSignIns(db: Db, now = Date.now()): void {
  db.delete(signIns).where(lt(signIns.expiresAt, new Date(now))).run();
}

export function signInCookie(token: string, expiresAt: Date, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  return cookie(token, maxAge, secure);
}

export function blankSignInCookie(secure: boolean): string {
  return cookie("", 0, secure);
}

function cookie(value: string, maxAge: number, secure: boolean): string {
  const parts = [`${SIGN_IN_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAge}`];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}
