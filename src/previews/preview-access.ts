import { AppError } from "../infra/errors.ts";
import type { PodKey } from "../runtime/runtime.ts";

/**
 * Who may see a preview, as the preview listener asks it: the contract between the proxy, which
 * carries bytes, and the access rules (grants, shares, sign-ins), which decide. Every request and
 * every upgrade on a preview origin is admitted here first, nothing cached, so signing out,
 * revoking a share or ending the session cuts a viewer off at their next request.
 */
export interface PreviewAccess {
  /** The session and port a preview Host names (`<port>-<session>.<preview domain>`), or null: not a preview. */
  parseHost(host: string): PreviewHost | null;
  /** A grant Pier handed out (`/__pier/grant?g=`), taken once for this host: the origin's own cookie, or why not. */
  redeemGrant(grant: string, host: string, now: number): PreviewCookie | PreviewRefused;
  /** A share link's token (`/__pier/share/<token>`) for this host: the origin's own cookie, or why not. */
  redeemShare(token: string, host: string, now: number): PreviewCookie | PreviewRefused;
  /** A request to this host with this Cookie header: let in (and whose), or why not. */
  admit(cookieHeader: string | undefined, host: string, now: number): Admitted | PreviewRefused;
}

/** The cookie each preview origin keeps its access in: Pier's, never shown to the app nor taken from it. */
export const PREVIEW_COOKIE = "pier_preview";

export interface PreviewHost {
  sessionId: string;
  port: number;
}

/** A cookie to set on the preview origin, as a whole Set-Cookie value (its attributes are the access rules' to choose). */
export interface PreviewCookie {
  setCookie: string;
}

/** A request let in: whose preview it is, where it goes, and the keys that end it (see OpenPreviews). */
export interface Admitted {
  sessionId: string;
  port: number;
  key: PodKey;
  /** Pier's own origin, the only one the console script speaks to. */
  pierOrigin: string;
  /** Ending any of these (the sign-in, the share, the session) closes the exchange at once. */
  closeKeys: string[];
}

/**
 * A request not let in, and why: returned, not thrown, since refusing is the usual answer to a
 * stranger. A navigation is sent to `openThrough` when there is one (Pier's own address for the
 * preview, which signs the person in and hands out a grant); anything else gets the status.
 */
export class PreviewRefused extends AppError {
  constructor(status: number, code: string, message: string, readonly openThrough: string | null = null) {
    super(status, code, message);
  }
}
