import { type Static, Type } from "@sinclair/typebox";
import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../infra/db.ts";
import { AppError, forbidden } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { NO_CONTROL_CHARS, readField, requiredText } from "../infra/input.ts";
import type { Actor } from "./actor.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import { generateToken, hashToken } from "./sign-ins.ts";
import { apiTokens, users } from "./tables.ts";
import type { User } from "./user.ts";

/** API tokens for scripts: "pier_" + 32 random base32 characters, stored only as a SHA-256. */
const PREFIX = "pier_";

export interface ApiToken {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function publicToken(token: ApiToken) {
  return {
    id: token.id,
    name: token.name,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
  };
}

const MAX_NAME = 100;

export const NewTokenInput = Type.Object({
  name: requiredText("Name", { trim: true, maxLength: MAX_NAME, pattern: NO_CONTROL_CHARS, rule: `Name must be 1–${MAX_NAME} characters without control characters.` }),
});
export type NewTokenInput = Static<typeof NewTokenInput>;

/** A person makes an API token of their own (an agent never does). */
export function createApiToken(db: Db, actor: Actor, input: NewTokenInput): { token: ApiToken; secret: string } {
  if (actor.kind !== "person") throw forbidden("Only a person can make an API token.");
  const userId = actor.user.id;
  const name = readField(NewTokenInput, "name", input.name);
  const secret = PREFIX + generateToken();
  const token = { id: newId(), name, createdAt: new Date(), lastUsedAt: null };
  db.insert(apiTokens).values({ ...token, userId, tokenHash: hashToken(secret) }).run();
  return { token, secret };
}

/** The actor's own tokens. */
export function listApiTokens(db: Db, actor: Actor): ApiToken[] {
  const userId = actor.user.id;
  return db
    .select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.createdAt))
    .all();
}

/** Revokes one of the actor's own tokens (returned as it was); WebSockets opened with it close. */
export function revokeApiToken(db: Db, sockets: CredentialSockets, actor: Actor, tokenId: string): { id: string; name: string } {
  const userId = actor.user.id;
  const [removed] = db
    .delete(apiTokens)
    .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, userId)))
    .returning({ id: apiTokens.id, name: apiTokens.name })
    .all();
  if (!removed) throw new AppError(404, "not_found", "No API token of yours with that id.");
  sockets.end({ kind: "api_token", id: tokenId }, "The API token this connection used was revoked.");
  return removed;
}

/** The token's user and the token's id, or null when the token is unknown. */
export function authenticateApiToken(db: Db, secret: string): { user: User; tokenId: string } | null {
  if (!secret.startsWith(PREFIX)) return null;
  const tokenHash = hashToken(secret);
  const row = db
    .select({ tokenId: apiTokens.id, id: users.id, username: users.username, role: users.role, createdAt: users.createdAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenHash, tokenHash))
    .get();
  if (!row) return null;
  db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, row.tokenId)).run();
  const { tokenId, ...user } = row;
  return { user, tokenId };
}
