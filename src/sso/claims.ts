import type { Role } from "../auth/tables.ts";
import { isUsername } from "../auth/users.ts";

/** What a provider says about a person: the ID token's claims, completed by its userinfo endpoint's. */
export type Claims = Record<string, unknown>;

/** A provider's rules for who may sign in, who is an admin, and what a new person is called. */
export interface ClaimRules {
  name: string;
  usernameClaim: string;
  groupsClaim: string | null;
  adminGroup: string | null;
  allowedGroups: readonly string[];
  allowedDomains: readonly string[];
}

/** The person's groups: the groups claim as a list of names (one name alone counts as a list of one). */
export function groupsOf(rules: ClaimRules, claims: Claims): string[] {
  if (!rules.groupsClaim) return [];
  const value = claims[rules.groupsClaim];
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((group): group is string => typeof group === "string") : [];
}

/**
 * The domain of the person's email address when the provider vouches for it (email_verified), else
 * null: an address a provider lets anyone type in proves nothing about where they work.
 */
export function verifiedDomain(claims: Claims): string | null {
  const email = claims.email;
  const verified = claims.email_verified === true || claims.email_verified === "true";
  if (typeof email !== "string" || !verified) return null;
  const at = email.lastIndexOf("@");
  return at > 0 ? email.slice(at + 1).toLowerCase() : null;
}

/**
 * Null when the person may sign in, else why not. With no allowed groups or domains, everyone the
 * provider signs in may; otherwise a member of an allowed group (or of the admin group) or someone
 * with a verified address at an allowed domain.
 */
export function whyRefused(rules: ClaimRules, claims: Claims): string | null {
  if (rules.allowedGroups.length === 0 && rules.allowedDomains.length === 0) return null;
  const groups = groupsOf(rules, claims);
  if (groups.some((group) => rules.allowedGroups.includes(group) || group === rules.adminGroup)) return null;
  const domain = verifiedDomain(claims);
  if (domain !== null && rules.allowedDomains.includes(domain)) return null;
  return `Your ${rules.name} account is not among those allowed to sign in to this Pier (by group or email domain); ask an admin.`;
}

/** What a first sign-in makes the person: an admin when in the admin group, else a member. */
export function roleFor(rules: ClaimRules, claims: Claims): Role {
  return rules.adminGroup !== null && groupsOf(rules, claims).includes(rules.adminGroup) ? "admin" : "member";
}

/**
 * A new person's username from the username claim: lowercased, an email address's local part,
 * anything but letters, digits, - and _ made a hyphen, at most 32 characters; or why it cannot be.
 */
export function usernameFrom(rules: ClaimRules, claims: Claims): { username: string } | { problem: string } {
  const value = claims[rules.usernameClaim];
  if (typeof value !== "string" || value.trim() === "") {
    return { problem: `${rules.name} sent no ${rules.usernameClaim} claim to make a username of; an admin can name another username claim.` };
  }
  const local = value.includes("@") ? value.slice(0, value.indexOf("@")) : value;
  const username = local
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 32)
    .replace(/-+$/, "");
  if (isUsername(username)) return { username };
  return { problem: `The ${rules.usernameClaim} claim "${value.slice(0, 100)}" from ${rules.name} does not make a username (2–32 letters, digits, - or _).` };
}
