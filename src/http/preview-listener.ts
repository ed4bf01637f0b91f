import { type IncomingMessage, STATUS_CODES, type ServerResponse, createServer } from "node:http";
import { type AddressInfo, type Server as NetServer, type Socket, createServer as createNetServer } from "node:net";
import type { Cidr } from "../infra/config.ts";
import { AppError, errorMessage } from "../infra/errors.ts";
import { CONSOLE_SCRIPT_PATH, consoleScript } from "../previews/console-script.ts";
import type { Admitted, PreviewAdmission, Redeemed, Refusal } from "../previews/access.ts";
import type { Exchange, PreviewProxy } from "../previews/proxy.ts";
import { isNavigation } from "../previews/proxy-headers.ts";
import { clientBehind } from "./client-address.ts";

/** Browsers' request heads above this are refused (431): a page's cookies and headers fit many times over. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Pier's own paths on every preview origin; the app's paths under it are not reachable. */
const PIER_PATHS = "/__pier/";
const GRANT_PATH = "/__pier/grant";
const SHARE_PATH = /^\/__pier\/share\/([A-Za-z0-9_-]{1,128})$/;

export interface PreviewListenerDeps {
  access: PreviewAdmission;
  proxy: PreviewProxy;
  /** Reverse proxies whose X-Forwarded-For is believed (PIER_TRUSTED_PROXIES). */
  trustedProxies: readonly Cidr[];
  /** Previews are reached over https even where this listener sees http (PIER_COOKIE_SECURE). */
  secure: boolean;
  now?: () => number;
}

export interface PreviewListener {
  port: number;
  /** Stops taking connections and ends the ones open, upgrades included. */
  close(): Promise<void>;
}

/**
 * The second listener (PIER_PREVIEW_PORT), where web apps running in pods are served on origins
 * of their own (`<port>-<session>.localhost:7071`, or under PIER_PREVIEW_DOMAIN). Nothing of
 * Pier's app lives here, not its routes, its cookie nor its headers, so no slip in routing can
 * serve Pier's API on a preview origin. node:http, not Bun.serve: an upgrade must hand over the
 * browser's raw socket to be spliced to the app's. Connections are accepted by node:net and given
 * to node:http, whose own sockets under Bun do not tell their descriptor: a large answer is handed
 * to the splicer with the browser's connection (proxy.ts).
 *
 * Every request: the Host must name a preview, `/__pier/*` is Pier's (the grant and share links
 * that set the origin's cookie, the console script), and everything else is admitted by the
 * access rules before it is carried to the app.
 */
export async function listenForPreviews(deps: PreviewListenerDeps, at: { port: number; host: string }): Promise<PreviewListener> {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    answer(deps, req, res).catch((error: unknown) => fail(res, error));
  });
  // node:http gives an upgrade the connection's net.Socket (its type says only Duplex).
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrade(deps, req, socket, head).catch((error: unknown) => refuseUpgrade(socket, error));
  });
  const connections = new Set<Socket>();
  const acceptor = createNetServer((socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    server.emit("connection", socket);
  });
  await new Promise<void>((resolve, reject) => {
    acceptor.once("error", reject);
    acceptor.listen(at.port, at.host, () => {
      acceptor.off("error", reject);
      resolve();
    });
  });
  return {
    port: (acceptor.address() as AddressInfo).port,
    close: () => close(acceptor, connections, deps.proxy),
  };
}

async function answer(deps: PreviewListenerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const host = req.headers.host ?? "";
  if (!deps.access.parseHost(host)) return plain(res, 404, "There is no preview at this address.");
  const url = req.url ?? "";
  // Origin-form only ("/path"): an absolute URL asks for a forward proxy, which this is not.
  if (!url.startsWith("/")) return plain(res, 400, "A preview is asked for by its path.");
  const path = url.split("?", 1)[0]!;
  const now = (deps.now ?? Date.now)();
  const exchange = forwardedOf(deps, req);
  if (path === GRANT_PATH || SHARE_PATH.test(path)) {
    if (req.method !== "GET") return plain(res, 405, "Open this link with GET.");
    const share = path.match(SHARE_PATH)?.[1];
    const https = exchange.proto === "https";
    const redeemed = share ? deps.access.redeemShare(share, host, now, https) : deps.access.redeemGrant(new URLSearchParams(url.slice(path.length + 1)).get("g") ?? "", host, now, https);
    return redeemed.ok ? setCookieAndGo(res, redeemed) : refuse(res, redeemed, false);
  }
  const admitted = deps.access.admit(req.headers.cookie, host, now);
  if (!admitted.ok) return refuse(res, admitted, req.method === "GET" && isNavigation(req.headers));
  if (path === CONSOLE_SCRIPT_PATH) return script(res, admitted);
  if (path.startsWith(PIER_PATHS)) return plain(res, 404, "Nothing of Pier's is at this address.");
  await deps.proxy.forward(req, res, { admitted, forwarded: exchange });
}

async function upgrade(deps: PreviewListenerDeps, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  const host = req.headers.host ?? "";
  if (!deps.access.parseHost(host)) throw new AppError(404, "not_a_preview", "There is no preview at this address.");
  if (String(req.headers.upgrade).toLowerCase() !== "websocket") throw new AppError(400, "upgrade_refused", "Only WebSocket upgrades reach a preview.");
  if (!(req.url ?? "").startsWith("/") || (req.url ?? "").startsWith(PIER_PATHS)) throw new AppError(404, "not_found", "Nothing of Pier's is at this address.");
  const admitted = deps.access.admit(req.headers.cookie, host, (deps.now ?? Date.now)());
  if (!admitted.ok) throw new AppError(admitted.status, admitted.code, admitted.message);
  await deps.proxy.forwardUpgrade(req, socket, head, { admitted, forwarded: forwardedOf(deps, req) });
}

/** How the browser reached this preview, as the app is told it. */
function forwardedOf(deps: PreviewListenerDeps, req: IncomingMessage): Exchange["forwarded"] {
  // As for Pier's own cookies (secureCookies): the proxy in front says whether the browser used https.
  const secure = deps.secure || req.headers["x-forwarded-proto"] === "https";
  const forwardedFor = req.headers["x-forwarded-for"];
  return {
    host: req.headers.host ?? "",
    proto: secure ? "https" : "http",
    client: clientBehind(deps.trustedProxies, req.socket.remoteAddress, Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor),
  };
}

/** The origin's cookie is set, and the browser goes on to the path the grant named on this origin (anything else: "/"). */
function setCookieAndGo(res: ServerResponse, redeemed: Redeemed): void {
  const to = redeemed.to;
  const path = /^\/(?![/\\])/.test(to) && !/[\x00-\x20\x7f]/.test(to) ? to : "/";
  res.writeHead(302, {
    location: path,
    "set-cookie": redeemed.setCookie,
    // The link carried a grant or a share token: the app's page must not find it in its Referer.
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  });
  res.end();
}

function refuse(res: ServerResponse, refusal: Refusal, navigation: boolean): void {
  if (navigation && refusal.reopen) {
    res.writeHead(302, { location: refusal.reopen, "cache-control": "no-store", "referrer-policy": "no-referrer" });
    res.end();
    return;
  }
  plain(res, refusal.status, refusal.message);
}

function script(res: ServerResponse, admitted: Admitted): void {
  res.writeHead(200, {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(consoleScript(admitted.pierOrigin));
}

/** The listener's own answers: a sentence, nothing the browser could run or frame into something else. */
function plain(res: ServerResponse, status: number, sentence: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'",
  });
  res.end(`${sentence}\n`);
}

function fail(res: ServerResponse, error: unknown): void {
  if (error instanceof AppError) return plain(res, error.status, error.message);
  console.error(`pier: a preview request failed: ${errorMessage(error)}`);
  if (res.headersSent) res.destroy();
  else plain(res, 500, "Pier could not carry this request to the app.");
}

/** An upgrade not carried: a short HTTP answer on the raw socket, which is then closed. */
function refuseUpgrade(socket: Socket, error: unknown): void {
  const known = error instanceof AppError;
  if (!known) console.error(`pier: a preview upgrade failed: ${errorMessage(error)}`);
  const status = known ? error.status : 500;
  const body = `${known ? error.message : "Pier could not carry this upgrade to the app."}\n`;
  if (!socket.destroyed && socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
}

async function close(acceptor: NetServer, connections: Set<Socket>, proxy: PreviewProxy): Promise<void> {
  const closed = new Promise<void>((resolve) => acceptor.close(() => resolve()));
  proxy.closeAll();
  for (const socket of connections) socket.destroy();
  await closed;
}
