import { personActor } from "../auth/actor.ts";
import type { User } from "../auth/user.ts";
import type { PodKey } from "../runtime/runtime.ts";
import { maySeeSession } from "../sessions/session-scope.ts";
import type { Session } from "../sessions/session.ts";
import { GRANT_LIFETIME_MS, type GrantClaims, PASS_LIFETIME_MS, type PreviewSigner, type SharePass, type SignInPass, UsedNonces, randomToken } from "./grants.ts";
import { type PreviewHosts, type PreviewTarget, isSecureContext, parsePreviewHost, previewOrigin } from "./preview-origin.ts";
import { type PreviewShare, shareWorks } from "./shares.ts";

/** The preview origin's own cookie: a signed pass, never Pier's sign-in cookie (which stays on Pier's host). */
export const PREVIEW_COOKIE = "pier_preview";

/** What ends a preview's open connections (its WebSockets) at once: the session ending, the share revoked, the sign-out. */
export type CloseKey = `session:${string}` | `share:${string}` | `sign_in:${string}`;

/** A request the preview listener may pass to the app. */
export interface Admitted {
  ok: true;
  sessionId: string;
  port: number;
  /** The pod the port listens in: the session's person's pod of its repo. */
  key: PodKey;
  /** Pier's origin, which the preview's pages may speak to; null for a share link's viewer, who has no Pier page. */
  pierOrigin: string | null;
  closeKeys: CloseKey[];
}

/** A grant or share link taken: set this cookie and go there. */
export interface Redeemed {
  ok: true;
  setCookie: string;
  /** A path on the preview's origin. */
  to: string;
}

/** Why not, as the preview listener answers it: a page with `message`, never the app. */
export interface Refusal {
  ok: false;
  status: 403 | 404;
  code: string;
  message: string;
  /**
   * Pier's address that opens this preview afresh (a new grant, or sign-in first), when Pier's
   * origin is known; for top-level navigations only, as an iframe whose cookie will not stick
   * would go round in circles.
   */
  reopen: string | null;
}

/**
 * What the preview listener asks of the access rules for every request and upgrade (PreviewAccess
 * is the one Pier runs): nothing cached, so signing out, revoking a share or ending the session
 * cuts a viewer off at their next request.
 */
export type PreviewAdmission = Pick<PreviewAccess, "parseHost" | "redeemGrant" | "redeemShare" | "admit">;

/**
 * Keeps an admitted exchange (a WebSocket, an event stream) until what admitted it ends: `close`
 * is called once when the session ends, the share is revoked or the sign-in signs out. Returns what
 * forgets it, for when it ends by itself (Previews.holdOpen).
 */
export type HoldOpen = (admitted: Admitted, close: () => void) => () => void;

export interface PreviewAccessDeps {
  signer: PreviewSigner;
  /** Where previews are served now. */
  hosts(): PreviewHosts;
  /** The person of a sign-in (by id) while it lasts; null once signed out or expired. */
  userOfSignIn(signInId: string, now: number): User | null;
  /** A live session (provisioning or active), or null. */
  liveSession(id: string): Session | null;
  shareById(id: string): PreviewShare | null;
  shareByToken(token: string): PreviewShare | null;
}

/**
 * Who may see a preview, decided at its own origin: the grants Pier's origin signs become the
 * preview origin's cookie, and every request there is admitted afresh from that cookie: the
 * sign-in behind it must last, its person may still see the session (its own person, or an
 * admin), and the session must be live; or the share link behind it must still work. Nothing is
 * cached, so signing out, ending the session or revoking a link bites at the next request.
 */
export class PreviewAccess {
  private nonces = new UsedNonces();
  /** Grants an earlier run of Pier made are refused: which of them were used went with it. */
  private readonly startedAt = Date.now();
  /** Pier's origin as the last grant named it: where a cookieless visitor is sent to open the preview. */
  private lastPierOrigin: string | null = null;

  constructor(private readonly deps: PreviewAccessDeps) {}

  /** The session and port a Host header names, or null when it is not a preview host. */
  parseHost(host: string): PreviewTarget | null {
    return parsePreviewHost(host, this.deps.hosts());
  }

  /**
   * The preview's address that takes the person (signed in with `signInId`) there: a grant good
   * for a minute, once, for this preview host alone. The caller has checked that they may.
   */
  grantUrl(grant: { target: PreviewTarget; userId: string; signInId: string; pierOrigin: string; path: string; https: boolean }, now = Date.now()): string {
    this.lastPierOrigin = grant.pierOrigin;
    const claims: GrantClaims = {
      v: 1,
      k: "grant",
      s: grant.target.sessionId,
      p: grant.target.port,
      u: grant.userId,
      si: grant.signInId,
      o: grant.pierOrigin,
      to: grant.path,
      exp: now + GRANT_LIFETIME_MS,
      n: randomToken(),
    };
    return `${previewOrigin(grant.target, this.deps.hosts(), grant.https ? "https" : "http")}/__pier/grant?g=${this.deps.signer.sign(claims)}`;
  }

  /** A share link's address on the preview's origin. */
  shareUrl(target: PreviewTarget, token: string, https: boolean): string {
    return `${previewOrigin(target, this.deps.hosts(), https ? "https" : "http")}/__pier/share/${token}`;
  }

  /**
   * `/__pier/grant?g=…` on a preview host: the grant becomes the origin's cookie when it is Pier's,
   * unexpired, for this very host, not used before, and its person may still see the live
   * session. `https`: the browser reached the preview over https (its proxy says so).
   */
  redeemGrant(grant: string, host: string, now = Date.now(), https = false): Redeemed | Refusal {
    const target = this.parseHost(host);
    if (!target) return notAPreview();
    const claims = this.deps.signer.read(grant, now);
    if (claims?.k !== "grant" || claims.s !== target.sessionId || claims.p !== target.port) {
      return this.refuse(403, "grant_invalid", "This preview link has expired or is not for this preview: open the preview from its session in Pier again.", target, null);
    }
    if (claims.exp - GRANT_LIFETIME_MS < this.startedAt) {
      return this.refuse(403, "grant_invalid", "This preview link was made before Pier restarted: open the preview from its session in Pier again.", target, claims.o);
    }
    if (!this.nonces.take(claims.n, claims.exp, now)) {
      return this.refuse(403, "grant_used", "This preview link was used already: open the preview from its session in Pier again.", target, claims.o);
    }
    const pass: SignInPass = { v: 1, k: "sign_in", s: claims.s, p: claims.p, u: claims.u, si: claims.si, o: claims.o, exp: now + PASS_LIFETIME_MS };
    const admitted = this.admitSignIn(pass, target, now);
    if (!admitted.ok) return admitted;
    return { ok: true, setCookie: this.cookie(pass, now, https), to: claims.to };
  }

  /** `/__pier/share/<token>` on a preview host: a working share link of this host becomes the origin's cookie. */
  redeemShare(token: string, host: string, now = Date.now(), https = false): Redeemed | Refusal {
    const target = this.parseHost(host);
    if (!target) return notAPreview();
    const share = this.deps.shareByToken(token);
    if (!share || share.sessionId !== target.sessionId || share.port !== target.port) return shareGone();
    // Not ending with the link: its viewers are told it expired (404), read from the share at each request.
    const pass: SharePass = { v: 1, k: "share", id: share.id, s: share.sessionId, p: share.port, exp: now + PASS_LIFETIME_MS };
    const admitted = this.admitShare(pass, target, now);
    if (!admitted.ok) return admitted;
    return { ok: true, setCookie: this.cookie(pass, now, https), to: "/" };
  }

  /**
   * Every request on a preview host: admitted when one of its `pier_preview` cookies is a pass
   * for this host that still holds (a cookie tossed in from a sibling host, or made up, is
   * passed over). `cookieHeader` is the request's Cookie header as it came.
   */
  admit(cookieHeader: string | null | undefined, host: string, now = Date.now()): Admitted | Refusal {
    const target = this.parseHost(host);
    if (!target) return notAPreview();
    let refusal: Refusal | null = null;
    for (const value of cookieValues(cookieHeader ?? "", PREVIEW_COOKIE)) {
      const pass = this.deps.signer.read(value, now);
      if (!pass || pass.k === "grant" || pass.s !== target.sessionId || pass.p !== target.port) continue;
      const result = pass.k === "share" ? this.admitShare(pass, target, now) : this.admitSignIn(pass, target, now);
      if (result.ok) return result;
      refusal = result;
    }
    return refusal ?? this.refuse(403, "no_preview_access", "Open this preview from its session in Pier.", target, null);
  }

  private admitSignIn(pass: SignInPass, target: PreviewTarget, now: number): Admitted | Refusal {
    const user = this.deps.userOfSignIn(pass.si, now);
    if (!user || user.id !== pass.u) return this.refuse(403, "signed_out", "You are signed out of Pier: sign in and open the preview again.", target, pass.o);
    const session = this.deps.liveSession(target.sessionId);
    if (!session) return sessionEnded();
    if (!maySeeSession(personActor(user), session)) return this.refuse(403, "not_yours", "This preview belongs to another person's session.", target, null);
    return {
      ok: true,
      sessionId: session.id,
      port: target.port,
      key: { repoId: session.repoId, userId: session.userId },
      pierOrigin: pass.o,
      closeKeys: [`session:${session.id}`, `sign_in:${pass.si}`],
    };
  }

  private admitShare(pass: SharePass, target: PreviewTarget, now: number): Admitted | Refusal {
    const share = this.deps.shareById(pass.id);
    if (!share || !shareWorks(share, now) || share.sessionId !== target.sessionId || share.port !== target.port) return shareGone();
    const session = this.deps.liveSession(target.sessionId);
    if (!session) return sessionEnded();
    return {
      ok: true,
      sessionId: session.id,
      port: target.port,
      key: { repoId: session.repoId, userId: session.userId },
      pierOrigin: null,
      closeKeys: [`session:${session.id}`, `share:${share.id}`],
    };
  }

  private refuse(status: 403 | 404, code: string, message: string, target: PreviewTarget, pierOrigin: string | null): Refusal {
    const origin = pierOrigin ?? this.lastPierOrigin;
    return { ok: false, status, code, message, reopen: origin && `${origin}/sessions/${target.sessionId}/ports/${target.port}` };
  }

  /**
   * The pass as the preview origin's cookie: host-only (no Domain, so no sibling preview gets it),
   * HttpOnly (the app's scripts cannot read it), and, where the origin is a secure context,
   * `SameSite=None; Secure; Partitioned`: the only kind Chromium keeps and sends inside Pier's
   * iframe, a cross-site frame (see ISSUE26.md, "Spike: the preview cookie in an iframe"). On plain
   * http under PIER_PREVIEW_DOMAIN `Secure` cannot be set, so it is Lax: the preview then works in
   * a tab of its own, or framed by a Pier on the same site.
   */
  private cookie(pass: SignInPass | SharePass, now: number, https: boolean): string {
    const maxAge = Math.max(0, Math.floor((pass.exp - now) / 1000));
    const parts = [`${PREVIEW_COOKIE}=${this.deps.signer.sign(pass)}`, "Path=/", "HttpOnly", `Max-Age=${maxAge}`];
    if (isSecureContext(this.deps.hosts(), https)) parts.push("SameSite=None", "Secure", "Partitioned");
    else parts.push("SameSite=Lax");
    return parts.join("; ");
  }
}

function notAPreview(): Refusal {
  return { ok: false, status: 404, code: "not_a_preview", message: "There is no preview at this address.", reopen: null };
}

function shareGone(): Refusal {
  return { ok: false, status: 404, code: "share_gone", message: "This preview link has expired or was revoked.", reopen: null };
}

function sessionEnded(): Refusal {
  return { ok: false, status: 403, code: "session_ended", message: "This session has ended, so its previews are closed.", reopen: null };
}

/** Every value of the named cookie in a Cookie header (a tossed cookie may share the name). */
function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}
