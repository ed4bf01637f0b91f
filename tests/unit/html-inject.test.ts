/**
 * The console script goes into a preview's pages, right after <head …>, however the page is cut
 * into chunks and whether the app compressed it; into nothing else.
 */
import { describe, expect, test } from "bun:test";
import type { IncomingHttpHeaders } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { PageStart, SCRIPT_TAG, ScriptInjector, scriptInjection, takesScript } from "../../src/previews/html-inject.ts";

/** The page through the injection streams, fed in the given pieces; what comes out. */
async function through(pieces: Buffer[], headers: IncomingHttpHeaders = { "content-type": "text/html" }): Promise<Buffer> {
  const out: Buffer[] = [];
  const streams = scriptInjection(headers);
  const last = streams.at(-1)!;
  last.on("data", (chunk: Buffer) => out.push(chunk));
  await pipeline([Readable.from(pieces, { objectMode: false }), ...streams]);
  return Buffer.concat(out);
}

/** `text` cut into pieces of `size` bytes. */
const cut = (text: string | Buffer, size: number) => {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
};

const PAGE = `<!doctype html><html lang="en"><head data-x="1"><title>Ünïcode app</title></head><body><p>hello</p></body></html>`;
const WITH_SCRIPT = PAGE.replace(`<head data-x="1">`, `<head data-x="1">${SCRIPT_TAG}`);

describe("where the script goes", () => {
  const place = (page: string) => {
    const start = new PageStart();
    return start.read(page) ?? start.fallback();
  };
  const after = (page: string, tag: string) => page.indexOf(tag) + tag.length;

  test("right after the <head …> tag, whatever its case and attributes", () => {
    expect(place(PAGE)).toBe(after(PAGE, `<head data-x="1">`));
    const upper = "<HTML><HEAD>\n<TITLE>x</TITLE></HEAD><BODY></BODY></HTML>";
    expect(place(upper)).toBe(after(upper, "<HEAD>"));
  });

  test("not after <header>, nor after a <head> in a comment", () => {
    const page = "<html><!-- <head> was here --><body><header>x</header></body></html>";
    expect(place(page)).toBe(after(page, "<html>"));
  });

  test("without a <head>: after <html …>, else after the doctype, else at the start", () => {
    expect(place("<!DOCTYPE html><html class=a><body>x</body></html>")).toBe("<!DOCTYPE html><html class=a>".length);
    expect(place("<!doctype html><p>bare</p>")).toBe("<!doctype html>".length);
    expect(place("<p>just a fragment</p>")).toBe(0);
  });

  test("a <body> before any <head> decides at once; otherwise more of the page is awaited", () => {
    expect(new PageStart().read("<html><body>")).toBe("<html>".length);
    expect(new PageStart().read("<html><he")).toBeNull();
    expect(new PageStart().read("<html><head")).toBeNull();
    expect(new PageStart().read("<html><!-- <head> ")).toBeNull();
  });

  test("fed a byte at a time it finds the same place", () => {
    const start = new PageStart();
    let found: number | null = null;
    for (const char of PAGE) found ??= start.read(char);
    expect(found).toBe(after(PAGE, `<head data-x="1">`));
  });
});

describe("the injection stream", () => {
  test("a <head> split across chunks: the page comes out whole with the script after it", async () => {
    for (const size of [1, 3, 17, 1000]) {
      expect((await through(cut(PAGE, size))).toString()).toBe(WITH_SCRIPT);
    }
  });

  test("what follows the head streams on as it comes, byte for byte", async () => {
    const injector = new ScriptInjector();
    const out: Buffer[] = [];
    injector.on("data", (chunk: Buffer) => out.push(chunk));
    injector.write(Buffer.from("<html><head>"));
    expect(Buffer.concat(out).toString()).toBe(`<html><head>${SCRIPT_TAG}`);
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    injector.write(binary);
    expect(out.at(-1)).toEqual(binary);
    injector.end();
  });

  test("a page whose head does not come within 64 KiB gets the script at the start and streams on", async () => {
    const page = "<p>" + "x".repeat(70 * 1024) + "</p><head></head>";
    const out = (await through(cut(page, 4096))).toString();
    expect(out).toBe(SCRIPT_TAG + page);
  });

  test("gzip, deflate and br pages are decoded and get the script", async () => {
    const encoded: Array<[string, Buffer]> = [
      ["gzip", gzipSync(PAGE)],
      ["deflate", deflateSync(PAGE)],
      ["br", brotliCompressSync(PAGE)],
    ];
    for (const [encoding, body] of encoded) {
      const out = await through(cut(body, 7), { "content-type": "text/html; charset=utf-8", "content-encoding": encoding });
      expect(out.toString()).toBe(WITH_SCRIPT);
    }
  });
});

describe("which answers get the script", () => {
  const html = { "content-type": "text/html; charset=utf-8" };
  const page = { "sec-fetch-dest": "document" };

  test("a page asked for with GET and answered 200 as text/html: by a browser's navigation, or a client that says nothing", () => {
    expect(takesScript("GET", page, 200, html)).toBe(true);
    expect(takesScript("GET", { "sec-fetch-dest": "iframe" }, 200, html)).toBe(true);
    expect(takesScript("GET", {}, 200, { "content-type": "TEXT/HTML" })).toBe(true);
    expect(takesScript("GET", page, 200, { ...html, "content-encoding": "gzip" })).toBe(true);
  });

  test("never JSON, images, scripts, other methods or statuses, ranges, HTML a script fetched, or an encoding Pier cannot decode", () => {
    expect(takesScript("GET", page, 200, { "content-type": "application/json" })).toBe(false);
    expect(takesScript("GET", page, 200, { "content-type": "image/png" })).toBe(false);
    expect(takesScript("GET", page, 200, {})).toBe(false);
    expect(takesScript("GET", page, 200, { "content-type": "text/html-sandboxed" })).toBe(false);
    expect(takesScript("POST", page, 200, html)).toBe(false);
    expect(takesScript("HEAD", page, 200, html)).toBe(false);
    expect(takesScript("GET", page, 404, html)).toBe(false);
    expect(takesScript("GET", page, 206, { ...html, "content-range": "bytes 0-9/100" })).toBe(false);
    expect(takesScript("GET", { ...page, range: "bytes=0-9" }, 200, html)).toBe(false);
    expect(takesScript("GET", { "sec-fetch-dest": "empty" }, 200, html)).toBe(false);
    expect(takesScript("GET", page, 200, { ...html, "content-encoding": "zstd" })).toBe(false);
  });
});
