import { Elysia } from "elysia";
import { blankSignInCookie, signInCookie } from "../../auth/sign-ins.ts";
import { CredentialsInput, NewUserInput, publicUser } from "../../auth/users.ts";
import { NewTokenInput, publicToken } from "../../auth/tokens.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { requireActor, requireAuth, requireUser, secureCookies } from "../auth.ts";
import { clientAddress } from "../client-address.ts";
import { requestAddress } from "../request-address.ts";

/** Setup, sign-in and sign-out, API tokens and users: the /api side. */
export function authApi(pier: Pier) {
  return new Elysia({ prefix: "/api" })
    .post("/setup", async ({ body, set, request }) => {
      const user = await pier.users.createFirstAdmin(readInput(CredentialsInput, body), requestAddress(request) ?? null);
      set.status = 201;
      return { user: publicUser(user) };
    })
    .post("/auth/login", async (ctx) => {
      const address = clientAddress(pier.config.trustedProxies, ctx.server, ctx.request);
      const user = await pier.signIns.checkCredentials(readInput(CredentialsInput, ctx.body), address);
      const { token, signIn: created } = pier.signIns.createWithPassword(user, address);
      ctx.set.headers["set-cookie"] = signInCookie(token, created.expiresAt, secureCookies(pier, ctx.request));
      return { user: publicUser(user) };
    })
    .post("/auth/logout", (ctx) => {
      const { credential } = requireAuth(pier, ctx);
      if (credential.kind === "sign_in") pier.signIns.invalidate(credential.id);
      ctx.set.headers["set-cookie"] = blankSignInCookie(secureCookies(pier, ctx.request));
      ctx.set.status = 204;
    })
    .get("/auth/me", (ctx) => ({ user: publicUser(requireUser(pier, ctx)) }))
    .get("/tokens", (ctx) => pier.apiTokens.list(requireActor(pier, ctx)).map(publicToken))
    .post("/tokens", (ctx) => {
      const { token, secret } = pier.apiTokens.create(requireActor(pier, ctx), readInput(NewTokenInput, ctx.body));
      ctx.set.status = 201;
      return { ...publicToken(token), token: secret };
    })
    .delete("/tokens/:id", (ctx) => {
      pier.apiTokens.revoke(requireActor(pier, ctx), ctx.params.id);
      ctx.set.status = 204;
    })
    .get("/users", (ctx) => pier.users.list(requireActor(pier, ctx)).map(publicUser))
    .post("/users", async (ctx) => {
      const user = await pier.users.create(requireActor(pier, ctx), readInput(NewUserInput, ctx.body));
      ctx.set.status = 201;
      return { user: publicUser(user) };
    });
}
