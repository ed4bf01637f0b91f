import type { Db } from "../infra/db.ts";
import { AppError } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import type { CredentialSockets } from "./credential-sockets.ts";
import type { LoginLimiter } from "./login-limiter.ts";
import type { SignInMethod } from "./sign-in-events.ts";
import { type SignIn, createSignIn, invalidateSignIn, signIn, userOfSignIn, validateSignIn } from "./sign-ins.ts";
import type { User } from "./user.ts";
import type { CredentialsInput } from "./users.ts";

const PASSWORD: SignInMethod = { kind: "password" };
/** A refused sign-in is about no one yet: listeners take every topic. */
const NO_TOPIC = "";

/**
 * The sign-ins' door for the web layer: the sign-in functions, bound to the database, the login
 * rate limit, the sockets a sign-out closes and whether passwords may sign in (an admin can leave
 * sign-in to the identity providers alone). Password sign-ins, made and refused, are said on the
 * bus (auth.signed_in, auth.sign_in_failed: see sign-in-events.ts), which the audit log hears.
 */
export class SignIns {
  constructor(private readonly parts: { db: Db; bus: EventBus; limiter: LoginLimiter; sockets: CredentialSockets; passwordSignIn: () => boolean }) {}

  /**
   * The person whose username and password these are, under the login rate limit, while password
   * sign-in is on. A wrong pair is said on the bus; an attempt the limit turns away before any
   * check is not (it proves nothing, and saying each one would let a stranger fill the audit log
   * as fast as they can send).
   */
  async checkCredentials(input: CredentialsInput, address: string): Promise<User> {
    if (!this.parts.passwordSignIn()) throw passwordSignInOff();
    try {
      return await signIn(this.parts.db, this.parts.limiter, input, address);
    } catch (error) {
      if (error instanceof AppError && error.code === "invalid_credentials") {
        this.parts.bus.publish("auth.sign_in_failed", NO_TOPIC, { username: input.username, method: PASSWORD, reason: error.message, address });
      }
      throw error;
    }
  }

  /** A new sign-in for a person who has just given their password (checkCredentials, or first-run setup), said on the bus. */
  createWithPassword(user: User, address: string): { token: string; signIn: SignIn } {
    const created = this.create(user.id);
    this.parts.bus.publish("auth.signed_in", user.id, { userId: user.id, username: user.username, method: PASSWORD, address });
    return created;
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
