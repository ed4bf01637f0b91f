import { Elysia } from "elysia";
import { blankSignInCookie, signInCookie } from "../../auth/sign-ins.ts";
import { CredentialsInput } from "../../auth/users.ts";
import type { User } from "../../auth/user.ts";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { type FormState, emptyForm } from "../../../views/components.tsx";
import { LoginPage, SetupPage } from "../../../views/auth-views.tsx";
import { authenticate, secureCookies } from "../auth.ts";
import { clientAddress } from "../client-address.ts";
import { Redirect, formFailure, nextAfterSignIn, redirectResponse } from "./respond.ts";

/** The sign-in page: a button per identity provider, and the password form while password sign-in is on. */
export function signInPage(pier: Pier, form: FormState, next: string) {
  return <LoginPage form={form} next={next} providers={pier.sso.choices()} passwordSignIn={pier.settings.plain().passwordSignIn} />;
}

/** First-run setup, sign-in and sign-out pages. */
export function authPages(pier: Pier) {
  const signedIn = (request: Request, user: User, address: string, next = "/") => {
    const { token, signIn: created } = pier.signIns.createWithPassword(user, address);
    const cookie = signInCookie(token, created.expiresAt, secureCookies(pier, request));
    return redirectResponse(request, next, { "set-cookie": cookie });
  };
  /** The page a sign-in came from, as its form carries it (see signInFor). */
  const nextOf = (body: unknown) => nextAfterSignIn(body && typeof body === "object" ? (body as { next?: unknown }).next : undefined);

  return new Elysia()
    .get("/setup", () => {
      if (pier.isSetUp()) throw new Redirect("/login");
      return <SetupPage form={emptyForm} />;
    })
    .post("/setup", async ({ request, body, set, server }) => {
      if (pier.isSetUp()) throw new Redirect("/login");
      try {
        const address = clientAddress(pier.config.trustedProxies, server, request);
        const user = await pier.users.createFirstAdmin(readInput(CredentialsInput, body), address);
        return signedIn(request, user, address);
      } catch (error) {
        return <SetupPage form={formFailure(error, body, set)} />;
      }
    })
    .get("/login", (ctx) => {
      if (!pier.isSetUp()) throw new Redirect("/setup");
      const next = nextAfterSignIn(new URL(ctx.request.url).searchParams.get("next"));
      if (authenticate(pier, ctx)) throw new Redirect(next);
      return signInPage(pier, emptyForm, next);
    })
    .post("/login", async ({ request, body, set, server }) => {
      try {
        const address = clientAddress(pier.config.trustedProxies, server, request);
        const user = await pier.signIns.checkCredentials(readInput(CredentialsInput, body), address);
        return signedIn(request, user, address, nextOf(body));
      } catch (error) {
        return signInPage(pier, formFailure(error, body, set), nextOf(body));
      }
    })
    .post("/logout", (ctx) => {
      const auth = authenticate(pier, ctx);
      if (auth?.credential.kind === "sign_in") pier.signIns.invalidate(auth.credential.id);
      return redirectResponse(ctx.request, "/login", { "set-cookie": blankSignInCookie(secureCookies(pier, ctx.request)) });
    });
}
