import type { PodKey } from "../runtime/runtime.ts";

/**
 * Who may see a preview, as the preview listener asks it: the contract between the proxy, which
 * carries bytes, and the access rules (grants, shares, sign-ins), which decide. Every request and
 * every upgrade on a preview origin is admitted here first, nothing cached, so signing out,
 * revoking a share or ending the session cuts a viewer off at their next request (and, through
 * HoldOpen, at once for what is under way).
 */
export interface PreviewAccess {
  /** The session and port a preview Host names (`<port>-<session>.<preview domain>`), or null: not a preview. */
  parseHost(host: string): PreviewHost | null;
  /** A grant Pier handed out (`/__pier/grant?g=`), taken once for this host; `https`: the browser came over https. */
  redeemGrant(grant: string, host: string, now?: number, https?: boolean): Redeemed | Refusal;
  /** A share link's token (`/__pier/share/<token>`) for this host. */
  redeemShare(token: string, host: string, now?: number, https?: boolean): Redeemed | Refusal;
  /** A request to this host with this Cookie header: let in (and whose), or why not. */
  admit(cookieHeader: string | null | undefined, host: string, now?: number): Admitted | Refusal;
}

/**
 * Keeps an admitted exchange (a request under way, an event stream, a WebSocket) until what
 * admitted it ends: `close` is called once when the session ends, the share is revoked or the
 * sign-in signs out. Returns what forgets it, for when it ends by itself.
 */
export type HoldOpen = (admitted: Admitted, close: () => void) => () => void;

/** The cookie each preview origin keeps its access in: Pier's, never shown to the app nor taken from it. */
export const PREVIEW_COOKIE = "pier_preview";

export interface PreviewHost {
  sessionId: string;
  port: number;
}

/** A grant or share link taken: set this cookie (a whole Set-Cookie value) and go to `to`, a path on the preview's origin. */
export interface Redeemed {
  ok: true;
  setCookie: string;
  to: string;
}

/** A request let in: whose preview it is, where it goes, and the keys that end it (see HoldOpen). */
export interface Admitted {
  ok: true;
  sessionId: string;
  port: number;
  key: PodKey;
  /** Pier's own origin, the only one the console script speaks to; null for a share link's viewer, who has no Pier page. */
  pierOrigin: string | null;
  /** Ending any of these (the sign-in, the share, the session) closes the exchange at once. */
  closeKeys: readonly string[];
}

/**
 * A request not let in, and why. A top-level navigation is sent to `reopen` when there is one
 * (Pier's own address for the preview, which signs the person in and hands out a grant);
 * anything else gets the status and the message, never the app.
 */
export interface Refusal {
  ok: false;
  status: 403 | 404;
  code: string;
  message: string;
  reopen: string | null;
}
