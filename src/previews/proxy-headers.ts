import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { PREVIEW_COOKIE } from "./access.ts";

/**
 * The headers a preview changes on the way to the app and back. The app is a dev server that
 * thinks it runs on localhost: it is told so (`Host: localhost:<port>`, which Vite and others
 * accept where they would refuse an unknown host) and told the truth beside it in X-Forwarded-*,
 * which only Pier writes. Headers that belong to one connection (RFC 9110 §7.6.1) stay on it,
 * and Pier's own cookie never reaches the app nor is taken from it.
 */

/** How the browser reached the preview: what X-Forwarded-* tell the app. */
export interface ForwardedFor {
  /** The port in the pod the app listens on. */
  appPort: number;
  /** The preview's Host as the browser sent it (`3000-abc.localhost:7071`). */
  host: string;
  proto: "http" | "https";
  /** The browser's address, as the sign-in limits count it (see clientAddress). */
  client: string;
}

const HOP_BY_HOP = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection", "proxy-authenticate", "proxy-authorization"];
/** What a client could write to pass for a proxy: only Pier's own values reach the app. */
const CLAIMS_OF_PROXIES = /^(?:x-forwarded-.*|forwarded|x-real-ip)$/;
/** Where a browser goes to a page (it takes the HTML in which the console script is put). */
const NAVIGATIONS = new Set(["document", "iframe", "frame"]);

/** The request's headers for the app; for an upgrade, its Upgrade and Connection stay. */
export function headersToApp(incoming: IncomingHttpHeaders, as: ForwardedFor, upgrade = false): OutgoingHttpHeaders {
  const headers = withoutHopByHop(incoming);
  for (const name of Object.keys(headers)) if (CLAIMS_OF_PROXIES.test(name)) delete headers[name];
  // This listener has already answered "100 Continue" itself.
  delete headers.expect;
  headers.host = `localhost:${as.appPort}`;
  headers["x-forwarded-host"] = as.host;
  headers["x-forwarded-proto"] = as.proto;
  headers["x-forwarded-port"] = portOf(as.host) ?? (as.proto === "https" ? "443" : "80");
  headers["x-forwarded-for"] = as.client;
  const cookie = withoutPierCookie(incoming.cookie);
  if (cookie) headers.cookie = cookie;
  else delete headers.cookie;
  // A page is asked for plainly, so that the console script can go in without decoding it.
  if (isNavigation(incoming)) headers["accept-encoding"] = "identity";
  if (upgrade) {
    headers.connection = "Upgrade";
    headers.upgrade = incoming.upgrade;
  }
  return headers;
}

/**
 * The app's answer headers for the browser: redirects to the app's own localhost address are
 * made the preview's, and a Set-Cookie of Pier's cookie is dropped.
 */
export function headersToBrowser(incoming: IncomingHttpHeaders, appPort: number, previewOrigin: string): OutgoingHttpHeaders {
  const headers = withoutHopByHop(incoming);
  if (typeof headers.location === "string") headers.location = previewLocation(headers.location, appPort, previewOrigin);
  const cookies = incoming["set-cookie"]?.filter((line) => !namesPierCookie(line));
  if (cookies?.length) headers["set-cookie"] = cookies;
  else delete headers["set-cookie"];
  return headers;
}

/** A browser's navigation to a page, as Fetch Metadata says it. */
export function isNavigation(headers: IncomingHttpHeaders): boolean {
  const dest = headers["sec-fetch-dest"];
  return typeof dest === "string" && NAVIGATIONS.has(dest);
}

/** `http://localhost:<port>/x` (or 127.0.0.1, [::1]) on the app's port becomes `<preview origin>/x`; any other Location stays. */
export function previewLocation(location: string, appPort: number, previewOrigin: string): string {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return location;
  if (!["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) return location;
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  if (port !== appPort) return location;
  return previewOrigin + url.pathname + url.search + url.hash;
}

/** A Set-Cookie line (as the app sent it) that sets Pier's cookie. */
export function namesPierCookie(setCookie: string): boolean {
  const eq = setCookie.indexOf("=");
  return eq >= 0 && setCookie.slice(0, eq).trim() === PREVIEW_COOKIE;
}

/** A Cookie header without Pier's cookie (the access token of the preview), or null when nothing else is left. */
export function withoutPierCookie(cookie: string | undefined): string | null {
  if (!cookie) return null;
  const kept = cookie
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "" && pair.split("=", 1)[0]!.trim() !== PREVIEW_COOKIE);
  return kept.length ? kept.join("; ") : null;
}

function withoutHopByHop(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = String(incoming.connection ?? "")
    .split(",")
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
  const dropped = new Set([...HOP_BY_HOP, ...named]);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) if (value !== undefined && !dropped.has(name)) headers[name] = value;
  return headers;
}

function portOf(host: string): string | null {
  return host.match(/:(\d{1,5})$/)?.[1] ?? null;
}
