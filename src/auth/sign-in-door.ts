import type { Db } from "../infra/db.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import type { LoginLimiter } from "./login-limiter.ts";
import { type SignIn, createSignIn, invalidateSignIn, signIn, userOfSignIn, validateSignIn } from "./sign-ins.ts";
import type { User } from "./user.ts";
import type { CredentialsInput } from "./users.ts";

/**
 * The sign-ins' door for the web layer: the sign-in functions, bound to the database, the login
 * rate limit and the sockets a sign-out closes.
 */
export class SignIns {
  constructor(private readonly parts: { db: Db; limiter: LoginLimiter; sockets: CredentialSockets }) {}

  /** The person whose username and password these are, under the login rate limit. */
  checkCredentials(input: CredentialsInput, address: string): Promise<User> {
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
