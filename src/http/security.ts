/**
 * Headers on every answer. The CSP allows scripts and style sheets only from Pier itself (no
 * inline script at all), and no page may be framed. Style *attributes* are allowed: htmx carries
 * them across swaps and they cannot run code.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function changesState(request: Request): boolean {
  return !SAFE_METHODS.has(request.method);
}

/**
 * True when the browser says the request came from another site: an Origin header whose host
 * differs from the Host it was sent to, or Sec-Fetch-Site: cross-site. Requests with neither
 * header (scripts, curl) are not browsers acting for a foreign page.
 */
export function isCrossOrigin(request: Request): boolean {
  if (request.headers.get("sec-fetch-site") === "cross-site") return true;
  const origin = request.headers.get("origin");
  if (origin === null) return false;
  const host = request.headers.get("host");
  if (origin === "null" || host === null) return true;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}
