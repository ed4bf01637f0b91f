import type { Db } from "../infra/db.ts";
import { AppError } from "../infra/errors.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import type { LoginLimiter } from "./login-limiter.ts";
import { type SignIn, createSignIn, invalidateSignIn, signIn, userOfSignIn, validateSignIn } from "./sign-ins.ts";
import type { User } from "./user.ts";
import type { CredentialsInput } from "./users.ts";

/**
 * The sign-ins' door for the web layer: the sign-in functions, bound to the database, the login
 * rate limit, the sockets a sign-out closes and whether passwords may sign in (an admin can leave
 * sign-in to the identity providers alone).
 */
export class SignIns {
  constructor(private readonly parts: { db: Db; limiter: LoginLimiter; sockets: CredentialSockets; passwordSignIn: () => boolean }) {}

  /** The person whose username and password these are, under the login rate limit, while password sign-in is on. */
  checkCredentials(input: CredentialsInput, address: string): Promise<User> {
    if (!this.parts.passwordSignIn()) throw passwordSignInOff();
    return signIn(this.parts.db, this.parts.limiter, input, address);
  }

  create(userId: string): { token: string; signIn: SignIn } {
    return createSignIn(this.parts.db, userId);
  }

  validate(token: string): { signIn: SignIn; user: User; extended: boolean } | null {
    return validateSignIn(this.parts.db, token);
  }

  /** The person a sign-in (by id) is for while it lasts, else null (see userOfSignIn). */
  userOf(signInId: string, now?: number): User | null {
    return userOfSignIn(this.parts.db, signInId, now);
  }

  invalidate(signInId: string): void {
    invalidateSignIn(this.parts.db, this.parts.sockets, signInId);
  }
}

function passwordSignInOff(): AppError {
  return new AppError(403, "password_sign_in_off", "Password sign-in is turned off on this Pier: sign in with your identity provider instead.");
}
