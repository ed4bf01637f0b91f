/**
 * Where a preview is served: each session's port on an origin of its own, never Pier's and never
 * another preview's, so nothing an app serves can read Pier's cookie, call Pier's API, or reach a
 * neighbour's preview. The host names the session and the port:
 *
 *   <port>-<session id>.localhost:<PIER_PREVIEW_PORT>   (browsers resolve *.localhost to loopback)
 *   <port>-<session id>.<PIER_PREVIEW_DOMAIN>           (a wildcard name at a reverse proxy)
 *
 * A port is written one way only (no leading zero), so one port is one origin. Any other Host is
 * not a preview: refusing it also keeps a DNS-rebound name from reaching the pod.
 */

/** Where previews are served now: the listener's port (known once it listens) and the configured domain. */
export interface PreviewHosts {
  port: number;
  domain: string | null;
}

/** The session and the port a preview host names. */
export interface PreviewTarget {
  sessionId: string;
  port: number;
}

/** `<port>-<session id>.` in front of the rest; session ids are lowercase letters and digits. */
const PREVIEW_HOST = /^([1-9]\d{0,4})-([a-z0-9]{1,64})\.(.+)$/;

/** A TCP port as Pier writes it: 1–65535, no sign, no leading zero. */
export function canonicalPort(text: string): number | null {
  if (!/^[1-9]\d{0,4}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

/**
 * The session and port a Host header names, or null when it is not one of Pier's preview hosts
 * as configured: `localhost:<preview port>` after the label without PIER_PREVIEW_DOMAIN, the
 * domain (with any port its proxy adds) with it.
 */
export function parsePreviewHost(host: string, hosts: PreviewHosts): PreviewTarget | null {
  const match = PREVIEW_HOST.exec(host.toLowerCase());
  if (!match) return null;
  const [, portText, sessionId, rest] = match as unknown as [string, string, string, string];
  const port = canonicalPort(portText);
  if (port === null || !isPreviewRest(rest, hosts)) return null;
  return { sessionId, port };
}

function isPreviewRest(rest: string, hosts: PreviewHosts): boolean {
  if (hosts.domain !== null) return rest === hosts.domain || new RegExp(`^${escaped(hosts.domain)}:[1-9]\\d{0,4}$`).test(rest);
  // Browsers leave out the port when it is http's own.
  return rest === `localhost:${hosts.port}` || (hosts.port === 80 && rest === "localhost");
}

/**
 * Whether an Origin header's value is on a preview's site: any name under PIER_PREVIEW_DOMAIN,
 * or any `*.localhost` name on the preview port. Wider than parsePreviewHost on purpose: Pier's
 * API refuses everything from there, well-formed preview or not.
 */
export function isPreviewSite(origin: string, hosts: PreviewHosts): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const name = url.hostname;
  if (hosts.domain !== null && (name === hosts.domain || name.endsWith(`.${hosts.domain}`))) return true;
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return name.endsWith(".localhost") && port === hosts.port;
}

/**
 * The preview's origin, as Pier sends browsers to it. On `*.localhost` always http (a secure
 * context all the same); under PIER_PREVIEW_DOMAIN the scheme Pier itself is reached with.
 */
export function previewOrigin(target: PreviewTarget, hosts: PreviewHosts, scheme: "http" | "https"): string {
  const label = `${target.port}-${target.sessionId}`;
  if (hosts.domain !== null) return `${scheme}://${label}.${hosts.domain}`;
  return hosts.port === 80 ? `http://${label}.localhost` : `http://${label}.localhost:${hosts.port}`;
}

/**
 * Whether browsers treat the preview's origin as a secure context, where its cookie can be
 * `Secure` (and so `SameSite=None; Partitioned`, the only kind a framed preview keeps: see
 * previewCookie): every `*.localhost` origin, and https ones.
 */
export function isSecureContext(hosts: PreviewHosts, https: boolean): boolean {
  return hosts.domain === null || https;
}

/**
 * Pier's Content-Security-Policy `frame-src` sources for previews: Pier's session page frames
 * them (and its own `/sessions/:id/ports/:port`, which redirects there).
 */
export function previewFrameSources(hosts: PreviewHosts): string[] {
  if (hosts.domain !== null) return [`*.${hosts.domain}:*`];
  return [hosts.port === 80 ? "http://*.localhost" : `http://*.localhost:${hosts.port}`];
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
