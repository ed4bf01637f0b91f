import { hmac } from "@oslojs/crypto/hmac";
import { SHA256 } from "@oslojs/crypto/sha2";
import { constantTimeEqual } from "@oslojs/crypto/subtle";
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from "@oslojs/encoding";

/**
 * What Pier signs for previews, with a key of their own: a grant (Pier's origin hands it to the
 * preview's origin in a redirect; good for 60 s, once) and the passes a preview's cookie holds
 * (a person's sign-in, or a share link's). Signed, not stored: the preview listener checks one
 * with a hash, and what it names (the sign-in, the session, the share) is read again from the
 * database at every request, so ending any of them ends the preview at once.
 *
 * Form: base64url(JSON) "." base64url(HMAC-SHA256). Short enough to audit: no library for JWTs.
 */

export const GRANT_LIFETIME_MS = 60_000;
/** A pass outlives its grant; the sign-in and the session behind it are checked at every request anyway. */
export const PASS_LIFETIME_MS = 12 * 60 * 60_000;

/** Opens the session's port for the person signed in with `si` (a sign-in's id), once, within a minute. */
export interface GrantClaims {
  v: 1;
  k: "grant";
  /** The session and the port: the preview host it is good for. */
  s: string;
  p: number;
  u: string;
  si: string;
  /** Pier's origin, which the preview's pages may speak to (postMessage). */
  o: string;
  /** Where on the preview to go, a path from Pier's `?path=`. */
  to: string;
  exp: number;
  /** Makes it single-use (see UsedNonces). */
  n: string;
}

/** The cookie of a person's preview: their sign-in, checked again at each request. */
export interface SignInPass {
  v: 1;
  k: "sign_in";
  s: string;
  p: number;
  u: string;
  si: string;
  o: string;
  exp: number;
}

/** The cookie of someone who opened a share link: the share, checked again at each request. */
export interface SharePass {
  v: 1;
  k: "share";
  id: string;
  s: string;
  p: number;
  exp: number;
}

export type Signed = GrantClaims | SignInPass | SharePass;

/** Longer than any grant or pass Pier makes: anything longer is refused before it is hashed. */
const MAX_TOKEN_CHARS = 4096;
const KINDS = new Set(["grant", "sign_in", "share"]);

/**
 * The previews' key: derived from the instance's secret key (data/secret.key or PIER_SECRET_KEY),
 * domain-separated from the AES key the same secret is for sealing stored secrets.
 */
export function previewKey(secretKey: Uint8Array): Uint8Array {
  return hmac(SHA256, secretKey, new TextEncoder().encode("pier preview v1"));
}

export class PreviewSigner {
  constructor(private readonly key: Uint8Array) {}

  sign(claims: Signed): string {
    const body = new TextEncoder().encode(JSON.stringify(claims));
    return `${encodeBase64urlNoPadding(body)}.${encodeBase64urlNoPadding(hmac(SHA256, this.key, body))}`;
  }

  /** What a token says, when Pier signed it with this key and it has not expired by `now`; else null. */
  read(token: string, now: number): Signed | null {
    if (token.length > MAX_TOKEN_CHARS) return null;
    const parts = token.split(".");
    if (parts.length !== 2) return null;
    let body: Uint8Array;
    let mac: Uint8Array;
    try {
      body = decodeBase64urlIgnorePadding(parts[0]!);
      mac = decodeBase64urlIgnorePadding(parts[1]!);
    } catch {
      return null;
    }
    if (!constantTimeEqual(mac, hmac(SHA256, this.key, body))) return null;
    const claims = JSON.parse(new TextDecoder().decode(body)) as Signed;
    // Signed by Pier, so well-formed; the version and kind guard against an older Pier's shapes.
    if (claims.v !== 1 || !KINDS.has(claims.k) || typeof claims.exp !== "number" || now >= claims.exp) return null;
    return claims;
  }
}

/**
 * The nonces of grants already redeemed, each kept until its grant expires (a grant is refused
 * after that anyway), so a grant is taken once. In memory: a restart forgets them, so the grants
 * an earlier run made are refused outright (PreviewAccess.redeemGrant); a browser opening the
 * preview then asks Pier for a new one.
 */
export class UsedNonces {
  private used = new Map<string, number>();

  /** True the first time a nonce is taken before `expiresAt`; false when it was taken already. */
  take(nonce: string, expiresAt: number, now: number): boolean {
    // Oldest first (grants live alike), so the expired ones are at the front.
    for (const [seen, until] of this.used) {
      if (until > now) break;
      this.used.delete(seen);
    }
    if (this.used.has(nonce)) return false;
    this.used.set(nonce, expiresAt);
    return true;
  }
}

/** A random nonce or token: 32 bytes, base64url. */
export function randomToken(): string {
  return encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(32)));
}
