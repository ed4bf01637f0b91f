import { type Actor, personActor } from "../../auth/actor.ts";
import type { User } from "../../auth/user.ts";
import { AppError } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import type { FormState } from "../../../views/components.tsx";
import { MAX_OWN_PATH_CHARS, isOwnPath } from "../../infra/own-path.ts";
import { authenticate } from "../auth.ts";
import { requestAddress } from "../request-address.ts";

/** Thrown by page handlers to send the browser elsewhere; the app's error hook answers it. */
export class Redirect extends Error {
  constructor(readonly location: string) {
    super(`Redirect to ${location}`);
  }
}

/**
 * Where a signed-out person asking for `request`'s page is sent: sign-in, with the page to come
 * back to (a GET of a page other than the dashboard; a form posted signed out is not posted again).
 */
export function signInFor(request: Request): string {
  const url = new URL(request.url);
  const back = `${url.pathname}${url.search}`;
  return request.method === "GET" && back !== "/" && back.length <= MAX_OWN_PATH_CHARS ? `/login?next=${encodeURIComponent(back)}` : "/login";
}

/**
 * The page sign-in sends a person to: `next` when it is a path of Pier's own (one leading slash,
 * no scheme, host or backslash, one line), else the dashboard, so a link to Pier's sign-in can
 * never send a person to another site.
 */
export function nextAfterSignIn(next: unknown): string {
  return typeof next === "string" && isOwnPath(next) ? next : "/";
}

export function isHtmx(request: Request): boolean {
  return request.headers.get("hx-request") === "true";
}

/**
 * After a successful form post: htmx follows HX-Redirect; a plain form follows 303 See Other.
 */
export function redirectResponse(request: Request, location: string, headers: Record<string, string> = {}): Response {
  if (isHtmx(request)) return new Response(null, { status: 200, headers: { ...headers, "hx-redirect": location } });
  return new Response(null, { status: 303, headers: { ...headers, location } });
}

export type PageContext = Parameters<typeof authenticate>[1];

/** The signed-in user for a page, or a redirect to setup (no user yet) or sign-in. */
export function pageUser(pier: Pier, ctx: PageContext): User {
  if (!pier.isSetUp()) throw new Redirect("/setup");
  const auth = authenticate(pier, ctx);
  if (!auth) throw new Redirect(signInFor(ctx.request));
  return auth.user;
}

export function pageAdmin(pier: Pier, ctx: PageContext): User {
  const user = pageUser(pier, ctx);
  if (user.role !== "admin") throw new AppError(403, "forbidden", "Only an admin can open this page.");
  return user;
}

/** The signed-in person as the actor domain functions take, with the address they asked from (for the audit log). */
export function pageActor(pier: Pier, ctx: PageContext): Actor {
  return personActor(pageUser(pier, ctx), requestAddress(ctx.request));
}

/** The same for an admin's page (403 for a member). */
export function pageAdminActor(pier: Pier, ctx: PageContext): Actor {
  return personActor(pageAdmin(pier, ctx), requestAddress(ctx.request));
}

/** The text fields of a submitted form, to show again next to its error. Passwords are never kept. */
export function formValues(body: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  if (body && typeof body === "object") {
    for (const [key, value] of Object.entries(body)) {
      if (typeof value === "string" && !/password|token|key/i.test(key)) values[key] = value;
    }
  }
  return values;
}

/** Turns a client error into a form to show again (with its status); anything else propagates. */
export function formFailure(error: unknown, body: unknown, set: { status?: number | string }): FormState {
  if (!(error instanceof AppError) || error.status >= 500) throw error;
  set.status = error.status;
  return { values: formValues(body), error: { field: error.field, message: error.message } };
}
