import { and, eq } from "drizzle-orm";
import type { Role } from "../auth/tables.ts";
import type { User } from "../auth/user.ts";
import { findUser, insertPasswordlessUser } from "../auth/users.ts";
import type { Db } from "../infra/db.ts";
import { AppError } from "../infra/errors.ts";
import { ssoIdentities } from "./tables.ts";

/** The person a provider's subject is, or null when nobody linked it yet. */
export function personOf(db: Db, providerId: string, subject: string): User | null {
  const row = db
    .select({ userId: ssoIdentities.userId })
    .from(ssoIdentities)
    .where(and(eq(ssoIdentities.providerId, providerId), eq(ssoIdentities.subject, subject)))
    .get();
  return row ? findUser(db, row.userId) : null;
}

/**
 * A first sign-in: the person and their identity, together or not at all. Null when the username
 * is taken: a person of that name exists already and is never given to whoever a provider names
 * so (they link their identity themself, signed in, from the Tokens page).
 */
export function createFromFirstSignIn(db: Db, identity: { providerId: string; subject: string }, username: string, role: Role): User | null {
  return db.transaction((tx) => {
    const user = insertPasswordlessUser(tx, username, role);
    if (user) tx.insert(ssoIdentities).values({ ...identity, userId: user.id, createdAt: new Date() }).run();
    return user;
  });
}

/** Links a provider's subject to a person signed in to Pier: one person per subject, one identity per person at a provider. */
export function linkIdentity(db: Db, identity: { providerId: string; subject: string; userId: string }, providerName: string): void {
  db.transaction((tx) => {
    const holder = tx
      .select({ userId: ssoIdentities.userId })
      .from(ssoIdentities)
      .where(and(eq(ssoIdentities.providerId, identity.providerId), eq(ssoIdentities.subject, identity.subject)))
      .get();
    if (holder?.userId === identity.userId) return;
    if (holder) throw new AppError(409, "identity_taken", `That ${providerName} account is linked to another person of this Pier already.`);
    const own = tx
      .select({ subject: ssoIdentities.subject })
      .from(ssoIdentities)
      .where(and(eq(ssoIdentities.providerId, identity.providerId), eq(ssoIdentities.userId, identity.userId)))
      .get();
    if (own) throw new AppError(409, "already_linked", `You have another ${providerName} account linked already: unlink it first.`);
    tx.insert(ssoIdentities).values({ ...identity, createdAt: new Date() }).run();
  });
}

export function unlinkIdentity(db: Db, userId: string, providerId: string): boolean {
  const removed = db
    .delete(ssoIdentities)
    .where(and(eq(ssoIdentities.userId, userId), eq(ssoIdentities.providerId, providerId)))
    .returning({ subject: ssoIdentities.subject })
    .all();
  return removed.length > 0;
}

/** When the person linked an identity at each provider where they have one. */
export function linkedAt(db: Db, userId: string): Map<string, Date> {
  const rows = db.select({ providerId: ssoIdentities.providerId, createdAt: ssoIdentities.createdAt }).from(ssoIdentities).where(eq(ssoIdentities.userId, userId)).all();
  return new Map(rows.map((row) => [row.providerId, row.createdAt]));
}
