import { type Static, Type } from "@sinclair/typebox";
import { invalid } from "../infra/errors.ts";
import { NO_CONTROL_CHARS, optionalText, requiredText } from "../infra/input.ts";

/** A provider's id: part of its callback address (/auth/sso/<id>/callback), registered at the provider. */
export const PROVIDER_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_ID = 40;
const MAX_NAME = 60;
const MAX_TEXT = 500;
const MAX_CLAIM = 200;
const MAX_LIST = 50;
/** RFC 6749's scope token: printable ASCII but space, quote and backslash. */
const SCOPE = "^[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,100}$";
/** A DNS name as an email address ends with. */
const DOMAIN = "^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$";

export const DEFAULT_SCOPES = ["openid", "profile", "email"];
export const DEFAULT_USERNAME_CLAIM = "preferred_username";

const oneLine = (title: string, maxLength: number) => ({
  trim: true,
  maxLength,
  pattern: NO_CONTROL_CHARS,
  rule: `${title} must be one line of at most ${maxLength} characters.`,
});

const fields = {
  name: { ...oneLine("Name", MAX_NAME), description: 'Shown on the sign-in page as "Sign in with <name>".' },
  issuer: { ...oneLine("Issuer", MAX_TEXT), description: "The provider's issuer URL, as its /.well-known/openid-configuration names it." },
  clientId: oneLine("Client id", MAX_TEXT),
  usernameClaim: { ...oneLine("Username claim", MAX_CLAIM), description: `The claim whose value becomes a new person's username; ${DEFAULT_USERNAME_CLAIM} unless said.` },
  groupsClaim: { ...oneLine("Groups claim", MAX_CLAIM), description: "The claim listing the person's groups (often groups); empty for none." },
  adminGroup: { ...oneLine("Admin group", MAX_CLAIM), description: "Members of this group are made admins at their first sign-in; empty for none." },
};

const scopes = Type.Optional(
  Type.Array(Type.String({ pattern: SCOPE, rule: "Each scope must be one word of printable characters." }), {
    title: "Scopes",
    error: "Scopes must be a list of words, such as [\"openid\", \"profile\", \"email\"].",
    maxItems: 20,
    rule: "At most 20 scopes.",
    description: `What Pier asks the provider for; openid is always asked. ${DEFAULT_SCOPES.join(" ")} unless said.`,
  }),
);
const allowedGroups = Type.Optional(
  Type.Array(Type.String({ minLength: 1, maxLength: MAX_CLAIM, pattern: NO_CONTROL_CHARS, rule: `Each allowed group must be one line of at most ${MAX_CLAIM} characters.` }), {
    title: "Allowed groups",
    error: "Allowed groups must be a list of group names.",
    maxItems: MAX_LIST,
    rule: `At most ${MAX_LIST} allowed groups.`,
    description: "Only members of these groups (or people of an allowed domain) may sign in; empty lists allow everyone the provider signs in.",
  }),
);
const allowedDomains = Type.Optional(
  Type.Array(Type.String({ pattern: DOMAIN, rule: "Each allowed domain must be a lowercase domain name such as example.com." }), {
    title: "Allowed domains",
    error: "Allowed domains must be a list of domain names.",
    maxItems: MAX_LIST,
    rule: `At most ${MAX_LIST} allowed domains.`,
    description: "People whose verified email address is at one of these domains may sign in.",
  }),
);

/** A new provider (POST /api/config/sso). */
export const NewProviderInput = Type.Object({
  id: optionalText("Id", {
    maxLength: MAX_ID,
    pattern: PROVIDER_ID.source,
    rule: `Id must be lowercase letters and digits in words joined by single hyphens (such as authentik), at most ${MAX_ID} characters.`,
    description: "Part of the callback address registered at the provider; made up when left out.",
  }),
  name: requiredText("Name", fields.name),
  issuer: requiredText("Issuer", fields.issuer),
  clientId: requiredText("Client id", fields.clientId),
  clientSecret: requiredText("Client secret", { description: "Sealed at rest and never shown again." }),
  scopes,
  usernameClaim: optionalText("Username claim", fields.usernameClaim),
  groupsClaim: optionalText("Groups claim", fields.groupsClaim),
  adminGroup: optionalText("Admin group", fields.adminGroup),
  allowedGroups,
  allowedDomains,
});
export type NewProviderInput = Static<typeof NewProviderInput>;

/** Changes to a provider (PATCH /api/config/sso/:id): what is left out stays; an empty groups claim or admin group is none; a secret left out is kept. */
export const ProviderChangesInput = Type.Object({
  name: optionalText("Name", fields.name),
  issuer: optionalText("Issuer", fields.issuer),
  clientId: optionalText("Client id", fields.clientId),
  clientSecret: optionalText("Client secret"),
  scopes,
  usernameClaim: optionalText("Username claim", fields.usernameClaim),
  groupsClaim: optionalText("Groups claim", fields.groupsClaim),
  adminGroup: optionalText("Admin group", fields.adminGroup),
  allowedGroups,
  allowedDomains,
});
export type ProviderChangesInput = Static<typeof ProviderChangesInput>;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost"]);

/**
 * The issuer as Pier keeps it, or a 400: an https URL without credentials, query or fragment, or
 * http on this machine's loopback only (a provider beside Pier, as in the tests): everything the
 * sign-in trusts comes from it, so it never travels in clear over a network.
 */
export function checkIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw invalid("issuer", "Issuer must be a URL such as https://auth.example.com.");
  }
  const loopback = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !loopback) throw invalid("issuer", "Issuer must be an https:// URL (http:// only on this machine, at 127.0.0.1 or localhost).");
  if (url.username || url.password || url.search || url.hash) throw invalid("issuer", "Issuer must have no user, password, query or fragment.");
  return issuer;
}

/** Whether Pier may talk to this issuer over plain http (loopback only; see checkIssuer). */
export function isLoopbackIssuer(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
}

/** The scopes Pier asks for: openid first, each once. */
export function withOpenid(scopes: readonly string[]): string[] {
  return ["openid", ...new Set(scopes.filter((scope) => scope !== "openid"))];
}

/** Group rules need a claim to read groups from. */
export function checkGroupRules(rules: { groupsClaim: string | null; adminGroup: string | null; allowedGroups: readonly string[] }): void {
  if (rules.groupsClaim) return;
  if (rules.adminGroup) throw invalid("groupsClaim", "Name the groups claim (often groups) for the admin group to be read.");
  if (rules.allowedGroups.length > 0) throw invalid("groupsClaim", "Name the groups claim (often groups) for the allowed groups to be read.");
}
