import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { generateToken, signInCookie } from "../../auth/sign-ins.ts";
import { AppError, RateLimited } from "../../infra/errors.ts";
import { type Input, asInput, readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { NewProviderInput, ProviderChangesInput } from "../../sso/provider-input.ts";
import { callbackPath, publicProvider } from "../../sso/providers.ts";
import { FLOW_LIFETIME_MS } from "../../sso/sign-in-flows.ts";
import { type FormState, emptyForm } from "../../../views/components.tsx";
import { ContinueToProvider, SsoProviderPage, SsoSettingsPage, ssoFormValues } from "../../../views/sso-views.tsx";
import { authenticate, readCookie, secureCookies } from "../auth.ts";
import { clientAddress } from "../client-address.ts";
import { pierRequestOf } from "../pier-request.ts";
import { signInPage } from "./auth-pages.tsx";
import { type PageContext, Redirect, formFailure, isHtmx, nextAfterSignIn, pageAdmin, pageUser, redirectResponse, signInFor } from "./respond.ts";

/** The cookie binding a round trip to the browser that started it (see SignInFlows); sent only to /auth/sso. */
const BINDING_COOKIE = "pier_sso";
const BINDING = /^[a-z2-7]{32}$/;

/**
 * Single sign-on's pages: the round trip to a provider (GET /auth/sso/:id, its callback), linking
 * and unlinking an account from the Tokens page, and the admins' Single sign-on settings page.
 */
export function ssoPages(pier: Pier) {
  const common = { runtime: pier.runtime.kind };
  const origin = (request: Request) => pierRequestOf(pier, request).origin;
  /** The browser's binding (kept, so round trips started in two tabs both finish), or a new one. */
  const bindingOf = (request: Request) => {
    const kept = readCookie(request, BINDING_COOKIE);
    return kept && BINDING.test(kept) ? kept : generateToken();
  };
  const bindingCookie = (request: Request, binding: string) =>
    [`${BINDING_COOKIE}=${binding}`, "Path=/auth/sso", "HttpOnly", "SameSite=Lax", `Max-Age=${FLOW_LIFETIME_MS / 1000}`, ...(secureCookies(pier, request) ? ["Secure"] : [])].join("; ");
  const start = (request: Request, providerId: string, next: string) => ({ redirectUri: `${origin(request)}${callbackPath(providerId)}`, next, binding: bindingOf(request) });
  /** The sign-in page with why the sign-in failed, under the failure's status. */
  const refusedPage = (ctx: { set: { status?: number | string; headers: Record<string, unknown> } }, error: AppError, next = "/") => {
    ctx.set.status = error.status;
    if (error instanceof RateLimited) ctx.set.headers["retry-after"] = String(error.retryAfter);
    return signInPage(pier, { values: {}, error: { message: error.message } }, next);
  };

  const settingsPage = (ctx: PageContext, form: FormState, notice?: string, passwordForm: FormState = emptyForm) => {
    const viewer = pageAdmin(pier, ctx);
    return (
      <SsoSettingsPage viewer={viewer} {...common} providers={pier.sso.list(personActor(viewer)).map(publicProvider)} origin={origin(ctx.request)}
        form={form} notice={notice} passwordSignIn={pier.settings.plain().passwordSignIn} passwordForm={passwordForm} />
    );
  };
  const providerPage = (ctx: PageContext & { params: { id: string } }, form?: FormState) => {
    const viewer = pageAdmin(pier, ctx);
    const provider = pier.sso.list(personActor(viewer)).find((p) => p.id === ctx.params.id);
    if (!provider) throw new AppError(404, "not_found", "No sign-in provider with that id.");
    const shown = publicProvider(provider);
    return <SsoProviderPage viewer={viewer} {...common} provider={shown} origin={origin(ctx.request)} form={form ?? { values: ssoFormValues(shown) }} />;
  };
  /** A failed provider form, shown again without the secret typed into it. */
  const failure = (error: unknown, ctx: { body: unknown; set: { status?: number | string } }): FormState => {
    const form = formFailure(error, ctx.body, ctx.set);
    const { clientSecret: _typed, ...values } = form.values;
    return { ...form, values };
  };

  return new Elysia()
    .get("/auth/sso/:id", async (ctx) => {
      if (!pier.isSetUp()) throw new Redirect("/setup");
      const next = nextAfterSignIn(new URL(ctx.request.url).searchParams.get("next"));
      const begun = start(ctx.request, ctx.params.id, next);
      try {
        const url = await pier.sso.startSignIn(ctx.params.id, begun);
        return new Response(null, { status: 302, headers: { location: url.href, "set-cookie": bindingCookie(ctx.request, begun.binding) } });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return refusedPage(ctx, error, next);
      }
    })
    .get("/auth/sso/:id/callback", async (ctx) => {
      const auth = authenticate(pier, ctx);
      const finished = await pier.sso.finish(ctx.params.id, {
        query: new URL(ctx.request.url).searchParams,
        binding: readCookie(ctx.request, BINDING_COOKIE),
        address: clientAddress(pier.config.trustedProxies, ctx.server, ctx.request),
        signedIn: auth?.credential.kind === "sign_in" ? { userId: auth.user.id, signInId: auth.credential.id } : null,
      });
      if (finished.kind === "signed_in") {
        const cookie = signInCookie(finished.token, finished.expiresAt, secureCookies(pier, ctx.request));
        // The next page is Pier's own, checked when the round trip began.
        return new Response(null, { status: 303, headers: { location: nextAfterSignIn(finished.next), "set-cookie": cookie } });
      }
      if (finished.kind === "linked") return new Response(null, { status: 303, headers: { location: "/tokens#sign-in-providers" } });
      if (finished.purpose === "link") throw finished.error;
      return refusedPage(ctx, finished.error);
    })
    .post("/auth/sso/:id/link", async (ctx) => {
      const auth = authenticate(pier, ctx);
      if (!auth) throw new Redirect(signInFor(ctx.request));
      const begun = start(ctx.request, ctx.params.id, "/tokens");
      const url = await pier.sso.startLink(personActor(auth.user), auth.credential, ctx.params.id, begun);
      const cookie = bindingCookie(ctx.request, begun.binding);
      // htmx leaves the page for the provider itself; a plain form's redirect to another site would break the pages' form-action rule.
      if (isHtmx(ctx.request)) return new Response(null, { status: 200, headers: { "hx-redirect": url.href, "set-cookie": cookie } });
      ctx.set.headers["set-cookie"] = cookie;
      const providerName = pier.sso.choices().find((choice) => choice.id === ctx.params.id)?.name ?? ctx.params.id;
      return <ContinueToProvider viewer={auth.user} {...common} providerName={providerName} url={url.href} />;
    })
    .post("/tokens/sso/:id/unlink", (ctx) => {
      pier.sso.unlink(personActor(pageUser(pier, ctx)), ctx.params.id);
      return redirectResponse(ctx.request, "/tokens");
    })
    .get("/settings/sso", (ctx) => settingsPage(ctx, emptyForm))
    .post("/settings/sso", async (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        const provider = await pier.sso.create(actor, readInput(NewProviderInput, fromForm(asInput(ctx.body))));
        return settingsPage(ctx, emptyForm, `Added ${provider.name}. Register ${origin(ctx.request)}${callbackPath(provider.id)} as its callback address at the provider.`);
      } catch (error) {
        return settingsPage(ctx, failure(error, ctx));
      }
    })
    .post("/settings/sso/password-sign-in", async (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        await pier.settings.update(actor, { passwordSignIn: asInput(ctx.body).passwordSignIn });
        return settingsPage(ctx, emptyForm, "Password sign-in saved.");
      } catch (error) {
        return settingsPage(ctx, emptyForm, undefined, formFailure(error, ctx.body, ctx.set));
      }
    })
    .get("/settings/sso/providers/:id", (ctx) => providerPage(ctx))
    .post("/settings/sso/providers/:id", async (ctx) => {
      const actor = personActor(pageAdmin(pier, ctx));
      try {
        await pier.sso.update(actor, ctx.params.id, readInput(ProviderChangesInput, fromForm(asInput(ctx.body))));
        return redirectResponse(ctx.request, "/settings/sso");
      } catch (error) {
        return providerPage(ctx, failure(error, ctx));
      }
    })
    .post("/settings/sso/providers/:id/delete", (ctx) => {
      pier.sso.remove(personActor(pageAdmin(pier, ctx)), ctx.params.id);
      return redirectResponse(ctx.request, "/settings/sso");
    });
}

/** The form's fields as the API's input: scopes split at spaces, groups and domains one per line, a blank secret or id left out. */
function fromForm(form: Input): Input {
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const words = (value: unknown) => text(value).split(/\s+/).filter(Boolean);
  const lines = (value: unknown) =>
    text(value)
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
  return {
    ...(text(form.id).trim() ? { id: text(form.id).trim() } : {}),
    name: form.name,
    issuer: form.issuer,
    clientId: form.clientId,
    ...(text(form.clientSecret) ? { clientSecret: form.clientSecret } : {}),
    ...(words(form.scopes).length ? { scopes: words(form.scopes) } : {}),
    usernameClaim: form.usernameClaim,
    groupsClaim: form.groupsClaim,
    adminGroup: form.adminGroup,
    allowedGroups: lines(form.allowedGroups),
    allowedDomains: lines(form.allowedDomains),
  };
}
