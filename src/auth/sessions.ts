import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import { eq, lt } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import { authSessions, users } from "./tables.ts";
import type { User } from "./users.ts";

/**
 * Browser sessions, following the Lucia guide: the cookie holds a random token, the database
 * holds only its SHA-256. Sessions last 30 days and slide forward when used in their second half.
 */
export const SESSION_COOKIE = "pier_session";
const DAY = 24 * 60 * 60 * 1000;
export const SESSION_LIFETIME = 30 * DAY;

export interface AuthSession {
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

export function createSession(db: Db, userId: string, now = Date.now()): { token: string; session: AuthSession } {
  const token = generateToken();
  const session = { id: hashToken(token), userId, expiresAt: new Date(now + SESSION_LIFETIME) };
  db.insert(authSessions).values(session).run();
  return { token, session };
}

/**
 * The session and its user for a cookie token, or null when unknown or expired.
 * `extended` says the expiry moved forward, so the cookie should be sent again.
 */
export function validateSession(
  db: Db,
  token: string,
  now = Date.now(),
): { session: AuthSession; user: User; extended: boolean } | null {
  const id = hashToken(token);
  const row = db
    .select({ session: authSessions, user: { id: users.id, username: users.username, role: users.role, createdAt: users.createdAt } })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(eq(authSessions.id, id))
    .get();
  if (!row) return null;
  const { session, user } = row;
  if (now >= session.expiresAt.getTime()) {
    db.delete(authSessions).where(eq(authSessions.id, id)).run();
    return null;
  }
  const extended = now >= session.expiresAt.getTime() - SESSION_LIFETIME / 2;
  if (extended) {
    session.expiresAt = new Date(now + SESSION_LIFETIME);
    db.update(authSessions).set({ expiresAt: session.expiresAt }).where(eq(authSessions.id, id)).run();
  }
  return { session, user, extended };
}

/** Signs out: the session is gone, and WebSockets opened with it close. */
export function invalidateSession(db: Db, sockets: CredentialSockets, sessionId: string): void {
  db.delete(authSessions).where(eq(authSessions.id, sessionId)).run();
  sockets.end({ kind: "sign_in", id: sessionId }, "You signed out, so this connection has closed.");
}

export function deleteExpiredSessions(db: Db, now = Date.now()): void {
  db.delete(authSessions).where(lt(authSessions.expiresAt, new Date(now))).run();
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  return cookie(token, maxAge, secure);
}

export function blankSessionCookie(secure: boolean): string {
  return cookie("", 0, secure);
}

function cookie(value: string, maxAge: number, secure: boolean): string {
  const parts = [`${SESSION_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAge}`];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}
