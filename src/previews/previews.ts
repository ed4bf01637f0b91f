import { type Actor, assertPerson } from "../auth/actor.ts";
import type { Credential, CredentialSockets } from "../auth/credential-sockets.ts";
import type { User } from "../auth/user.ts";
import type { Db } from "../infra/db.ts";
import { AppError, forbidden } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { readInput } from "../infra/input.ts";
import { MAX_OWN_PATH_CHARS, isOwnPath } from "../infra/own-path.ts";
import type { PodKey } from "../runtime/runtime.ts";
import { maySeeSession, sessionFor } from "../sessions/session-scope.ts";
import type { Session } from "../sessions/session.ts";
import { type Admitted, type CloseKey, PreviewAccess } from "./access.ts";
import { PreviewSigner, previewKey } from "./grants.ts";
import { assertSpeaker } from "../chat/speaker.ts";
import { PreviewReportInput, previewReportMessage } from "./console-report.ts";
import { type PreviewHosts, type PreviewTarget, canonicalPort, isPreviewSite, isSecureContext, previewFrameSources, previewOrigin } from "./preview-origin.ts";
import { ShareInput, createShare, revokeShares, shareById, shareByToken } from "./shares.ts";

/** A port listening in a pod, as the ports list shows it. */
export interface ListedPort {
  port: number;
  /** From the repo's environment (forwardPorts, portsAttributes), else null. */
  label: string | null;
  /** The listening process's name, where it can be told. */
  process: string | null;
}

/** What listens in a person's pod of a repo. */
export interface PortSource {
  list(key: PodKey): Promise<ListedPort[]>;
}

/** A port of GET /api/sessions/:id/ports (see API.md, "Previews"). */
export interface PreviewPort extends ListedPort {
  /** Pier's own address that opens the preview (with a grant), on Pier's origin. */
  url: string;
}

/** How the person reached Pier: the origin their browser is on, and whether over https. */
export interface PierRequest {
  origin: string;
  https: boolean;
}

/** Where to send the browser for GET /sessions/:id/ports/:port. */
export type Opening = { kind: "grant"; url: string } | { kind: "not_listening"; session: Session; port: number };

export interface PreviewsDeps {
  db: Db;
  bus: EventBus;
  /** The instance's secret key, which the previews' own key is derived from. */
  secretKey: Uint8Array;
  /** PIER_PREVIEW_PORT and PIER_PREVIEW_DOMAIN; the port is replaced by the real one once the listener listens. */
  hosts: PreviewHosts;
  sessions: { get(id: string): Session; findLive(id: string): Session | null };
  signIns: { userOf(signInId: string, now?: number): User | null };
  ports: PortSource;
  /** Where a sign-out closes what its sign-in opened. */
  credentialSockets: CredentialSockets;
  /** The live session's conversation, to send the person's preview report in; null when it has none (not active here). */
  chatOf(sessionId: string): { send(text: string): void } | null;
}

/**
 * Web app previews' door (pier.previews): the ports listening in a session's pod, opening one on
 * its own origin with a grant, public share links, and (through `access`) what the preview
 * listener admits. Who may: the session's own person and admins, as for the session itself.
 */
export class Previews {
  readonly access: PreviewAccess;
  private hostsNow: PreviewHosts;
  private open = new Map<CloseKey, Set<() => void>>();

  constructor(private readonly deps: PreviewsDeps) {
    this.hostsNow = { ...deps.hosts };
    this.access = new PreviewAccess({
      signer: new PreviewSigner(previewKey(deps.secretKey)),
      hosts: () => this.hostsNow,
      userOfSignIn: (signInId, now) => deps.signIns.userOf(signInId, now),
      liveSession: (id) => deps.sessions.findLive(id),
      shareById: (id) => shareById(deps.db, id),
      shareByToken: (token) => shareByToken(deps.db, token),
    });
    // Ending a session closes its previews' open connections; its next request is refused anyway.
    deps.bus.subscribe("session.state", null, ({ sessionId, state }) => {
      if (state !== "active") this.closeAll(`session:${sessionId}`);
    });
  }

  /** The preview listener listens on this port now (PIER_PREVIEW_PORT=0 picks one). */
  listening(port: number): void {
    this.hostsNow = { ...this.hostsNow, port };
  }

  /** Pier's CSP frame-src sources for the preview origins. */
  frameSources(): string[] {
    return previewFrameSources(this.hostsNow);
  }

  /** The origin a session's port is previewed on, for a person who reached Pier over https or not. */
  originOf(target: PreviewTarget, https: boolean): string {
    return previewOrigin(target, this.hostsNow, https ? "https" : "http");
  }

  /** Whether a preview framed in Pier's page keeps its cookie, for a person on https or not (see previewCookie). */
  framable(https: boolean): boolean {
    return isSecureContext(this.hostsNow, https);
  }

  /** Whether an Origin header comes from a preview's site, which Pier's own routes refuse. */
  isPreviewSite(origin: string): boolean {
    return isPreviewSite(origin, this.hostsNow);
  }

  /** GET /api/sessions/:id/ports: what listens in the session's pod, while it is live. */
  async ports(actor: Actor, sessionId: string): Promise<PreviewPort[]> {
    const session = sessionFor(this.deps.db, actor, sessionId);
    if (!this.deps.sessions.findLive(session.id)) return [];
    const listed = await this.deps.ports.list(keyOf(session));
    const byPort = new Map(listed.map((port) => [port.port, port]));
    return [...byPort.values()].sort((a, b) => a.port - b.port).map((port) => ({ port: port.port, label: port.label, process: port.process, url: `/sessions/${session.id}/ports/${port.port}` }));
  }

  /**
   * GET /sessions/:id/ports/:port: a grant to the preview's origin for a person signed in there
   * with a browser (an API token has no browser to keep the preview's cookie in). 404 no such
   * session; 403 someone else's or no longer live (API.md: 403, not the scope's usual 404); 400 a
   * port outside 1–65535 or a path that is not one.
   */
  async openUrl(actor: Actor, credential: Credential, sessionId: string, portText: string, path: string | null, pier: PierRequest): Promise<Opening> {
    const port = readPort(portText);
    const to = readPath(path);
    const session = this.deps.sessions.get(sessionId);
    if (!maySeeSession(actor, session)) throw forbidden("This preview belongs to another person's session.");
    if (credential.kind !== "sign_in") throw forbidden("Previews open in a browser signed in to Pier, not with an API token.");
    if (!this.deps.sessions.findLive(session.id)) throw new AppError(403, "session_ended", "This session has ended, so its previews are closed.");
    const listed = await this.deps.ports.list(keyOf(session));
    if (!listed.some((p) => p.port === port)) return { kind: "not_listening", session, port };
    const target: PreviewTarget = { sessionId: session.id, port };
    return { kind: "grant", url: this.access.grantUrl({ target, userId: actor.user.id, signInId: credential.id, pierOrigin: pier.origin, path: to, https: pier.https }) };
  }

  /**
   * POST /api/sessions/:id/ports/:port/share: a link that works signed out for `minutes`,
   * replacing the port's live link. The session must be live. Publishing is the person's own
   * decision, never an agent's for them (whatever it was asked to do by what it read).
   */
  share(actor: Actor, sessionId: string, portText: string, body: unknown, pier: PierRequest): { url: string; expiresAt: string } {
    const port = readPort(portText);
    const { minutes } = readInput(ShareInput, body);
    const session = sessionFor(this.deps.db, actor, sessionId);
    assertPerson(actor, "Only the person can make a public link to their preview, not an agent acting for them.");
    if (!this.deps.sessions.findLive(session.id)) throw new AppError(409, "session_ended", "This session has ended; only a live session's preview can be shared.");
    const { share, token, revokedIds } = createShare(this.deps.db, { sessionId: session.id, port, userId: actor.user.id, minutes });
    for (const id of revokedIds) this.closeAll(`share:${id}`);
    return { url: this.access.shareUrl({ sessionId: session.id, port }, token, pier.https), expiresAt: share.expiresAt.toISOString() };
  }

  /** DELETE /api/sessions/:id/ports/:port/share: the port's live link stops working, and its viewers' open connections close. */
  revoke(actor: Actor, sessionId: string, portText: string): void {
    const port = readPort(portText);
    const session = sessionFor(this.deps.db, actor, sessionId);
    const revoked = revokeShares(this.deps.db, session.id, port);
    if (revoked.length === 0) throw new AppError(404, "not_found", "This port has no working share link.");
    for (const id of revoked) this.closeAll(`share:${id}`);
  }

  /**
   * POST /api/sessions/:id/preview-report ("Send to chat" in the preview pane): the page's address
   * and console errors go to the session's agent as the person's own message, with the app's words
   * quoted as data. Only the session's person speaks in it; it must be active.
   */
  report(actor: Actor, sessionId: string, body: unknown): { message: string } {
    const input = readInput(PreviewReportInput, body);
    const session = sessionFor(this.deps.db, actor, sessionId);
    assertSpeaker(actor, session, "send a preview's report to its agent");
    const chat = session.state === "active" ? this.deps.chatOf(session.id) : null;
    if (!chat) throw new AppError(409, "session_not_active", `The session is ${session.state}; resume it to send the preview's report to its agent.`);
    const message = previewReportMessage(input);
    chat.send(message);
    return { message };
  }

  /**
   * Keeps an admitted connection (a WebSocket piped to the app) until what admitted it ends:
   * `close` is called once when the session ends, its share is revoked, or its sign-in signs out.
   * Returns what forgets it, for when it closes by itself.
   */
  holdOpen(admitted: Admitted, close: () => void): () => void {
    let closed = false;
    const once = () => {
      if (closed) return;
      closed = true;
      forget();
      close();
    };
    const releases = admitted.closeKeys.map((key) => {
      if (key.startsWith("sign_in:")) {
        // Sign-outs already tell the credential's sockets (see invalidateSignIn).
        return this.deps.credentialSockets.add({ kind: "sign_in", id: key.slice("sign_in:".length) }, { sendText: () => undefined, close: once });
      }
      const set = this.open.get(key) ?? new Set();
      set.add(once);
      this.open.set(key, set);
      return () => {
        set.delete(once);
        if (set.size === 0 && this.open.get(key) === set) this.open.delete(key);
      };
    });
    const forget = () => {
      for (const release of releases) release();
    };
    return () => {
      closed = true;
      forget();
    };
  }

  private closeAll(key: CloseKey): void {
    const closers = this.open.get(key);
    this.open.delete(key);
    for (const close of closers ?? []) close();
  }
}

function keyOf(session: Session): PodKey {
  return { repoId: session.repoId, userId: session.userId };
}

/** A port as written in Pier's addresses: 1–65535, one spelling each (no leading zero), else 400. */
function readPort(text: string): number {
  const port = canonicalPort(text);
  if (port === null) throw new AppError(400, "invalid_port", `A port is a whole number from 1 to 65535 written without a leading zero, not "${text.slice(0, 20)}".`, "port");
  return port;
}

/** Where on the preview to open: a path of its own origin (one slash, no scheme or host), "/" when none. */
function readPath(path: string | null): string {
  if (path === null || path === "") return "/";
  if (!isOwnPath(path)) {
    throw new AppError(400, "invalid_path", `The path must start with a single "/" and be at most ${MAX_OWN_PATH_CHARS} characters of one line.`, "path");
  }
  return path;
}
