import { eq } from "drizzle-orm";
import { NO_PASSWORD } from "../auth/users.ts";
import { users } from "../auth/tables.ts";
import type { Db } from "../infra/db.ts";
import { AppError } from "../infra/errors.ts";
import { ssoIdentities } from "./tables.ts";

/** How people could sign in after a change: with passwords or not, and without a provider or one identity about to go. */
export interface SignInPaths {
  passwordSignIn: boolean;
  withoutProvider?: string;
  withoutIdentity?: { userId: string; providerId: string };
}

/**
 * Whether some admin could still sign in: with their password while password sign-in is on, or
 * through an identity linked at a provider that stays. Without one, nobody could change the
 * instance again (no admin to turn password sign-in back on or fix a provider).
 */
export function anAdminCanSignIn(db: Db, after: SignInPaths): boolean {
  const admins = db.select({ id: users.id, passwordHash: users.passwordHash }).from(users).where(eq(users.role, "admin")).all();
  if (after.passwordSignIn && admins.some((admin) => admin.passwordHash !== NO_PASSWORD)) return true;
  const adminIds = new Set(admins.map((admin) => admin.id));
  const gone = after.withoutIdentity;
  return db
    .select({ userId: ssoIdentities.userId, providerId: ssoIdentities.providerId })
    .from(ssoIdentities)
    .all()
    .some(
      (identity) =>
        adminIds.has(identity.userId) &&
        identity.providerId !== after.withoutProvider &&
        !(gone && identity.userId === gone.userId && identity.providerId === gone.providerId),
    );
}

/** Refuses (409) a change, `change` named as the sentence's subject ("Turning password sign-in off"), that leaves no admin able to sign in. */
export function assertAnAdminCanSignIn(db: Db, after: SignInPaths, change: string): void {
  if (anAdminCanSignIn(db, after)) return;
  const remedy = after.passwordSignIn
    ? "an admin with a password, or an admin's identity at another provider, must remain"
    : "an admin must first link their identity at a provider on the Tokens page (and keep it)";
  throw new AppError(409, "no_admin_could_sign_in", `${change} would leave no admin able to sign in: ${remedy}.`);
}
