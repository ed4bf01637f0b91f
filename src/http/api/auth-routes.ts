import { Elysia } from "elysia";
import { blankSignInCookie, createSignIn, invalidateSignIn, signIn, signInCookie } from "../../auth/sign-ins.ts";
import { CredentialsInput, NewUserInput, createFirstAdmin, createUser, listUsers, publicUser } from "../../auth/users.ts";
import { NewTokenInput, createApiToken, listApiTokens, publicToken, revokeApiToken } from "../../auth/tokens.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor, requireAuth, requireUser, secureCookies } from "../auth.ts";
import { clientAddress } from "../client-address.ts";

/** Setup, sign-in and sign-out, API tokens and users: the /api side. */
export function authApi(pier: Pier) {
  return new Elysia({ prefix: "/api" })
    .post("/setup", async ({ body, set }) => {
      const user = await createFirstAdmin(pier.db, readInput(CredentialsInput, body));
      set.status = 201;
      return { user: publicUser(user) };
    })
    .post("/auth/login", async (ctx) => {
      const user = await signIn(pier.db, pier.loginLimiter, readInput(CredentialsInput, ctx.body), clientAddress(pier.config.trustedProxies, ctx.server, ctx.request));
      const { token, signIn: created } = createSignIn(pier.db, user.id);
      ctx.set.headers["set-cookie"] = signInCookie(token, created.expiresAt, secureCookies(pier, ctx.request));
      return { user: publicUser(user) };
    })
    .post("/auth/logout", (ctx) => {
      const { credential } = requireAuth(pier, ctx);
      if (credential.kind === "sign_in") invalidateSignIn(pier.db, pier.credentialSockets, credential.id);
      ctx.set.headers["set-cookie"] = blankSignInCookie(secureCookies(pier, ctx.request));
      ctx.set.status = 204;
    })
    .get("/auth/me", (ctx) => ({ user: publicUser(requireUser(pier, ctx)) }))
    .get("/tokens", (ctx) => listApiTokens(pier.db, requireActor(pier, ctx)).map(publicToken))
    .post("/tokens", (ctx) => {
      const { token, secret } = createApiToken(pier.db, requireActor(pier, ctx), readInput(NewTokenInput, ctx.body));
      ctx.set.status = 201;
      return { ...publicToken(token), token: secret };
    })
    .delete("/tokens/:id", (ctx) => {
      revokeApiToken(pier.db, pier.credentialSockets, requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    })
    .get("/users", (ctx) => listUsers(pier.db, requireActor(pier, ctx)).map(publicUser))
    .post("/users", async (ctx) => {
      const user = await createUser(pier.db, requireActor(pier, ctx), readInput(NewUserInput, ctx.body));
      ctx.set.status = 201;
      return { user: publicUser(user) };
    });
}
