/**
 * The small script the proxy puts into a preview's pages (html-inject.ts), served by the preview
 * listener from the preview's own origin, so an app's `script-src 'self'` lets it run. In Pier's
 * preview pane it tells the pane, by postMessage to Pier's origin only, what the page says went
 * wrong and where the page is; it takes orders from Pier's origin only. Opened on its own (no
 * pane around it) it does nothing. The app can change or silence it: what it says is the app's
 * words, data for the pane, never more.
 *
 * Messages to the pane (`event.origin` is the preview's), each with `doc`, the same for one loaded page:
 *   {pier: "location", url}           on load and on each history change
 *   {pier: "error", url, text}        each console.error, uncaught error and unhandled rejection
 *   {pier: "errors", url, errors}     the last MAX_ERRORS of them, when the pane asks
 * Messages from the pane (only from Pier's origin, only from the parent window):
 *   {pier: "back"} · {pier: "forward"} · {pier: "errors"}
 */

export const CONSOLE_SCRIPT_PATH = "/__pier/console.js";
/** The errors a page keeps for "Send to chat", as many as the report takes. */
export const MAX_ERRORS = 50;
/** Each error's text is cut to this many characters, as the report takes. */
export const MAX_ERROR_CHARS = 2000;

/**
 * The script's source, for previews opened from `pierOrigin` (Pier's own origin, as the grant
 * said); for a share link's viewer, who has no Pier page around the preview, a script that does nothing.
 */
export function consoleScript(pierOrigin: string | null): string {
  if (pierOrigin === null) return "// Opened from a share link: no Pier page to tell.\n";
  return `(() => {
  "use strict";
  if (window.parent === window || window.__pierConsole) return;
  window.__pierConsole = true;
  const pier = ${JSON.stringify(pierOrigin)};
  const errors = [];
  // Which document speaks: the pane starts its count of errors afresh with each page loaded.
  const doc = Math.random().toString(36).slice(2);
  const tell = (message) => {
    try { window.parent.postMessage({ ...message, doc }, pier); } catch {}
  };
  const text = (value) => {
    try {
      if (value instanceof Error) return value.stack || String(value);
      if (typeof value === "string") return value;
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  };
  const keep = (line) => {
    line = String(line).slice(0, ${MAX_ERROR_CHARS});
    if (errors.length === ${MAX_ERRORS}) errors.shift();
    errors.push(line);
    tell({ pier: "error", url: location.href, text: line });
  };
  const consoleError = console.error;
  console.error = function (...args) {
    keep(args.map(text).join(" "));
    return consoleError.apply(this, args);
  };
  addEventListener("error", (event) => keep(event.error ? text(event.error) : event.message + " (" + event.filename + ":" + event.lineno + ")"));
  addEventListener("unhandledrejection", (event) => keep("Unhandled rejection: " + text(event.reason)));
  const where = () => tell({ pier: "location", url: location.href });
  for (const name of ["pushState", "replaceState"]) {
    const change = history[name];
    history[name] = function (...args) {
      const result = change.apply(this, args);
      where();
      return result;
    };
  }
  addEventListener("popstate", where);
  addEventListener("hashchange", where);
  addEventListener("message", (event) => {
    if (event.origin !== pier || event.source !== window.parent) return;
    const order = event.data && event.data.pier;
    if (order === "back") history.back();
    else if (order === "forward") history.forward();
    else if (order === "errors") tell({ pier: "errors", url: location.href, errors: errors.slice() });
  });
  if (document.readyState === "loading") addEventListener("DOMContentLoaded", where);
  else where();
})();
`;
}
