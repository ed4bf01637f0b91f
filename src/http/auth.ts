import type { Credential } from "../auth/credential-sockets.ts";
import { SIGN_IN_COOKIE, signInCookie } from "../auth/sign-ins.ts";
import type { User } from "../auth/user.ts";
import { forbidden, unauthorized } from "../infra/errors.ts";
import type { Pier } from "../pier.ts";
import { type Actor, personActor } from "../auth/actor.ts";
import { requestAddress } from "./request-address.ts";

/** Who is asking, and with what: a browser sign-in (the sign-in cookie) or an API token. */
export interface Auth {
  user: User;
  credential: Credential;
}

interface RequestContext {
  request: Request;
  set: { headers: Record<string, string | string[] | number> & { "set-cookie"?: string | string[] } };
}

const resolved = new WeakMap<Request, Auth | null>();

/** Resolves the caller once per request; refreshes the cookie when the sign-in slid forward. */
export function authenticate(pier: Pier, ctx: RequestContext): Auth | null {
  if (resolved.has(ctx.request)) return resolved.get(ctx.request)!;
  const auth = resolve(pier, ctx);
  resolved.set(ctx.request, auth);
  return auth;
}

/**
 * True when the request may be authenticated by the browser's cookie: only when it sends no
 * Authorization header at all. The app's request hook checks the Origin of exactly these
 * requests, so a header that is present but not a valid bearer token must never fall back to
 * the cookie: a foreign page could add one to skip that check.
 */
export function usesCookie(request: Request): boolean {
  return !request.headers.has("authorization");
}

function resolve(pier: Pier, ctx: RequestContext): Auth | null {
  if (!usesCookie(ctx.request)) {
    const header = ctx.request.headers.get("authorization")!;
    if (!header.startsWith("Bearer ")) return null;
    const found = pier.apiTokens.authenticate(header.slice("Bearer ".length).trim());
    return found ? { user: found.user, credential: { kind: "api_token", id: found.tokenId } } : null;
  }
  const token = readCookie(ctx.request, SIGN_IN_COOKIE);
  if (!token) return null;
  const result = pier.signIns.validate(token);
  if (!result) return null;
  if (result.extended) {
    ctx.set.headers["set-cookie"] = signInCookie(token, result.signIn.expiresAt, secureCookies(pier, ctx.request));
  }
  return { user: result.user, credential: { kind: "sign_in", id: result.signIn.id } };
}

export function requireAuth(pier: Pier, ctx: RequestContext): Auth {
  const auth = authenticate(pier, ctx);
  if (!auth) throw unauthorized();
  return auth;
}

export function requireUser(pier: Pier, ctx: RequestContext): User {
  return requireAuth(pier, ctx).user;
}

export function requireAdmin(pier: Pier, ctx: RequestContext): User {
  const user = requireUser(pier, ctx);
  if (user.role !== "admin") throw forbidden();
  return user;
}

/** Secure cookies when configured, or when the request reached us (or our proxy) over https. */
export function secureCookies(pier: Pier, request: Request): boolean {
  return (
    pier.config.cookieSecure ||
    new URL(request.url).protocol === "https:" ||
    request.headers.get("x-forwarded-proto") === "https"
  );
}

export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** The signed-in caller as the actor domain functions take, with the address they asked from (401 without one). */
export function requireActor(pier: Pier, ctx: RequestContext): Actor {
  return personActor(requireUser(pier, ctx), requestAddress(ctx.request));
}
