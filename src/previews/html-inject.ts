import type { IncomingHttpHeaders } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { CONSOLE_SCRIPT_PATH } from "./console-script.ts";
import { isNavigation } from "./proxy-headers.ts";

/**
 * Pier's console script (console-script.ts) put into the app's pages as they stream through, so
 * that the preview pane can show the page's errors and where it is. Only pages: a 200 answer
 * of text/html to a GET, not a range of one, and not HTML fetched by a script (a fragment an
 * htmx page swaps in would get a second copy); JSON, images and the rest pass untouched.
 */

export const SCRIPT_TAG = `<script src="${CONSOLE_SCRIPT_PATH}"></script>`;
/** How much of a page is held back while looking for its <head>: pages put it first. */
const SEARCH_LIMIT = 64 * 1024;
const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** Whether this answer is a page the script goes into (see above); an encoding Pier cannot decode is left alone. */
export function takesScript(method: string | undefined, requestHeaders: IncomingHttpHeaders, status: number | undefined, headers: IncomingHttpHeaders): boolean {
  if (method !== "GET" || status !== 200 || requestHeaders.range || headers["content-range"]) return false;
  if (requestHeaders["sec-fetch-dest"] !== undefined && !isNavigation(requestHeaders)) return false;
  const type = String(headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "text/html") return false;
  const encoding = contentEncoding(headers);
  return encoding === null || encoding in DECODERS;
}

/**
 * The streams the app's page goes through on its way to the browser: a decoder when the app
 * compressed it anyway (the page was asked for as identity, see headersToApp), then the
 * injector. The answer loses its Content-Length (and its Content-Encoding when decoded).
 */
export function scriptInjection(headers: IncomingHttpHeaders): Transform[] {
  const encoding = contentEncoding(headers);
  const decoder = encoding === null ? null : DECODERS[encoding]!();
  return decoder ? [decoder, new ScriptInjector()] : [new ScriptInjector()];
}

/** The single coding the answer says it has, lowercased; null for none (or identity). */
function contentEncoding(headers: IncomingHttpHeaders): string | null {
  const encoding = String(headers["content-encoding"] ?? "").trim().toLowerCase();
  return encoding === "" || encoding === "identity" ? null : encoding;
}

/**
 * Puts the script tag right after the page's <head …> tag, however the page is cut into chunks:
 * what comes before it is held (at most SEARCH_LIMIT), the rest streams on untouched.
 */
export class ScriptInjector extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private start: PageStart | null = new PageStart();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.start) return done(null, chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const at = this.start.read(chunk.toString("latin1"));
    if (at !== null) this.place(at);
    else if (this.heldBytes >= SEARCH_LIMIT) this.place(this.start.fallback());
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.start) this.place(this.start.fallback());
    done();
  }

  private place(at: number): void {
    this.start = null;
    const page = Buffer.concat(this.held);
    this.held = [];
    this.push(Buffer.concat([page.subarray(0, at), Buffer.from(SCRIPT_TAG), page.subarray(at)]));
  }
}

/** The tags that decide where the script goes, and "<!--", which starts a comment to skip. */
const MARKS = ["<!--", "<!doctype", "<head", "<html", "<body"] as const;
type Mark = (typeof MARKS)[number];

/**
 * Where in a page the script goes, read as the page arrives (as latin1, so offsets are bytes),
 * each byte looked at about once however it is cut: after the <head …> tag; when there is none
 * (a <body> came first, or the page or the search ended: fallback()), after <html …>, else after
 * the doctype, else at the very start. A <head> in a comment is not taken.
 */
export class PageStart {
  private text = "";
  /** Where reading goes on. */
  private at = 0;
  private inComment = false;
  /** A tag of these begun and not closed by its ">" yet. */
  private open: Mark | null = null;
  private afterHtml: number | null = null;
  private afterDoctype: number | null = null;

  /** Reads more of the page; the place once it is known, else null. */
  read(more: string): number | null {
    this.text += more;
    const text = this.text;
    while (this.at < text.length) {
      if (this.inComment) {
        const close = text.indexOf("-->", this.at);
        if (close < 0) {
          this.at = Math.max(this.at, text.length - 2);
          return null;
        }
        this.inComment = false;
        this.at = close + 3;
      } else if (this.open) {
        const close = text.indexOf(">", this.at);
        if (close < 0) {
          this.at = text.length;
          return null;
        }
        const tag = this.open;
        this.open = null;
        this.at = close + 1;
        if (tag === "<head") return this.at;
        if (tag === "<html") this.afterHtml ??= this.at;
        if (tag === "<!doctype") this.afterDoctype ??= this.at;
      } else {
        const lt = text.indexOf("<", this.at);
        if (lt < 0) {
          this.at = text.length;
          return null;
        }
        const mark = markAt(text, lt);
        if (mark === "more") {
          this.at = lt;
          return null;
        }
        if (mark === "<body") return this.fallback();
        if (mark === "<!--") this.inComment = true;
        else if (mark) this.open = mark;
        this.at = lt + (mark?.length ?? 1);
      }
    }
    return null;
  }

  /** The place when the page has no <head> (or it came too late). */
  fallback(): number {
    return this.afterHtml ?? this.afterDoctype ?? 0;
  }
}

/** Which mark starts at `lt` (a "<"), null for none, or "more" when the text ends too soon to tell. */
function markAt(text: string, lt: number): Mark | null | "more" {
  let more = false;
  for (const mark of MARKS) {
    // A tag's name must end there (<header> is not <head>); a comment's and the doctype's need not.
    const whole = mark === "<!--" || mark === "<!doctype" ? mark.length : mark.length + 1;
    const piece = text.slice(lt, lt + whole).toLowerCase();
    if (piece.length < whole) {
      if (mark.startsWith(piece.slice(0, mark.length))) more = true;
      continue;
    }
    if (piece.startsWith(mark) && (whole === mark.length || /[\s/>]/.test(piece[mark.length]!))) return mark;
  }
  return more ? "more" : null;
}
