// src/auth/sign-in-events.ts
/** How a person signed in: their password, or an identity provider (its id in /api/config/sso). */
export type SignInMethod = { kind: "password" } | { kind: "oidc"; providerId: string; providerName: string };

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A person signed in (a new sign-in cookie); topic: the user id. */
    "auth.signed_in": { userId: string; username: string; method: SignInMethod; address: string | null };
    /** A sign-in was refused (wrong password, a provider's answer refused, a user outside the allowed groups); topic: null. */
    "auth.sign_in_failed": { username: string | null; method: SignInMethod; reason: string; address: string | null };
  }
}
export {};
