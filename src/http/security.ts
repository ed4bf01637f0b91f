/**
 * Headers on every answer. The CSP allows scripts and style sheets only from Pier itself (no
 * inline script at all), and no page may be framed. Style *attributes* are allowed: htmx carries
 * them across swaps and they cannot run code. Frames: Pier's own pages and the web app previews'
 * origins (`previewFrames`), which the session page shows in its preview pane.
 */
export function securityHeaders(previewFrames: string[]): Record<string, string> {
  return {
    "content-security-policy": [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "style-src-attr 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      // Pier's /sessions/:id/ports/:port first, which redirects the frame to the preview's origin.
      ["frame-src 'self'", ...previewFrames].join(" "),
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
}

/**
 * The same headers for a page Pier's preview pane may show in its frame (the preview's "nothing
 * listens here yet" and refusal pages): framed by Pier itself, never by anyone else.
 */
export function framableByPier(headers: Record<string, string>): Record<string, string> {
  return {
    ...headers,
    "content-security-policy": headers["content-security-policy"]!.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
    "x-frame-options": "SAMEORIGIN",
  };
}

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

/**
 * True when the request comes from a web app preview, whatever its method: an Origin on a
 * preview's site, or a same-site request that is no navigation (a preview under the same site as
 * Pier sends Pier's Lax cookie with its fetches; Pier's own pages are same-origin, never
 * same-site). Pier answers none of them: nothing a repository serves may call Pier's API.
 */
export function fromPreview(request: Request, isPreviewSite: (origin: string) => boolean): boolean {
  const origin = request.headers.get("origin");
  if (origin !== null && isPreviewSite(origin)) return true;
  return request.headers.get("sec-fetch-site") === "same-site" && request.headers.get("sec-fetch-mode") !== "navigate";
}
