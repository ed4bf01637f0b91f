import { type TestProvider, signInAtProvider } from "./oidc-provider.ts";
import { type TestPier, json } from "./pier.ts";

/** The callback address a Pier on `pierUrl` gives a provider with this id. */
export function callbackUrl(pierUrl: string, providerId: string): string {
  return `${pierUrl}/auth/sso/${providerId}/callback`;
}

/** Adds the test provider to Pier as `id` (an admin's cookie), with the given rules; returns the provider as the API answered. */
export async function addProvider(pier: TestPier, adminCookie: string, provider: TestProvider, id: string, rules: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await pier.fetch(
    "/api/config/sso",
    json({ id, name: `Test IdP ${id}`, issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, scopes: ["openid", "profile", "email", "groups"], ...rules }, { cookie: adminCookie }),
  );
  if (res.status !== 201) throw new Error(`adding the provider failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** One browser's side of a round trip: its binding cookie and, once the provider sent it back, the callback it was sent to. */
export interface RoundTrip {
  binding: string;
  callback: URL;
}

/**
 * A person starts signing in to Pier with the provider (`cookie`: their Pier sign-in, for a link)
 * and signs in at the provider as `login`; stops before the callback.
 */
export async function toProviderAndBack(pier: TestPier, provider: TestProvider, providerId: string, login: string, options: { next?: string; link?: string } = {}): Promise<RoundTrip> {
  const start = options.link
    ? await pier.fetch(`/auth/sso/${providerId}/link`, { method: "POST", headers: { cookie: options.link, "hx-request": "true" } })
    : await pier.fetch(`/auth/sso/${providerId}${options.next ? `?next=${encodeURIComponent(options.next)}` : ""}`);
  const to = start.headers.get("location") ?? start.headers.get("hx-redirect");
  if (!to) throw new Error(`starting the sign-in answered ${start.status}: ${await start.text()}`);
  const binding = start.headers.getSetCookie().find((cookie) => cookie.startsWith("pier_sso="))?.split(";")[0]?.slice("pier_sso=".length);
  if (!binding) throw new Error("starting the sign-in set no binding cookie");
  return { binding, callback: await signInAtProvider(provider, to, login) };
}

/**
 * The browser arrives at Pier's callback with its binding cookie (and its Pier sign-in, if any);
 * `from`: the address it comes from, as a trusted proxy says (PIER_TRUSTED_PROXIES=127.0.0.1), so
 * each test's failures count against an address of its own under the login limits.
 */
export function finishAt(pier: TestPier, trip: { binding: string | null; callback: URL }, options: { signIn?: string; from?: string } = {}): Promise<Response> {
  const cookies = [trip.binding ? `pier_sso=${trip.binding}` : "", options.signIn ?? ""].filter(Boolean).join("; ");
  const headers: Record<string, string> = {};
  if (cookies) headers.cookie = cookies;
  if (options.from) headers["x-forwarded-for"] = options.from;
  return pier.fetch(`${trip.callback.pathname}${trip.callback.search}`, { headers });
}

/** The sign-in cookie ("pier_session=…") an answer set, or null. */
export function signInCookieOf(response: Response): string | null {
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith("pier_session=") && !cookie.startsWith("pier_session=;"))?.split(";")[0] ?? null;
}
