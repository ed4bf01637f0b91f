import { describe, expect, test } from "bun:test";
import { canonicalPort, isPreviewSite, isSecureContext, parsePreviewHost, previewFrameSources, previewOrigin } from "../../src/previews/preview-origin.ts";

const ID = "abcdefghij234567";
const LOCAL = { port: 7071, domain: null };
const DOMAIN = { port: 7071, domain: "preview.pier.example" };

describe("preview hosts", () => {
  test("<port>-<session>.localhost:<preview port> names the session and the port", () => {
    expect(parsePreviewHost(`3000-${ID}.localhost:7071`, LOCAL)).toEqual({ sessionId: ID, port: 3000 });
    expect(parsePreviewHost(`1-${ID}.localhost:7071`, LOCAL)).toEqual({ sessionId: ID, port: 1 });
    expect(parsePreviewHost(`65535-${ID}.localhost:7071`, LOCAL)).toEqual({ sessionId: ID, port: 65535 });
    // Host names are case-insensitive; browsers send them lowercased anyway.
    expect(parsePreviewHost(`3000-${ID.toUpperCase()}.LOCALHOST:7071`, LOCAL)).toEqual({ sessionId: ID, port: 3000 });
  });

  test("one spelling per port, 1–65535: 0, 65536, 03000, +3000 and the like are no preview", () => {
    for (const port of ["0", "65536", "99999", "03000", "+3000", "3e3", "0x10", " 3000", "", "123456"]) {
      expect(parsePreviewHost(`${port}-${ID}.localhost:7071`, LOCAL)).toBeNull();
    }
  });

  test("anything but the configured preview hosts is no preview (a DNS-rebound name, Pier's own host, a neighbour's port)", () => {
    for (const host of [
      `3000-${ID}.localhost:7070`,
      `3000-${ID}.localhost`,
      `3000-${ID}.localhost:7071.evil.example`,
      `3000-${ID}.evil.example:7071`,
      `3000-${ID}.preview.pier.example`,
      "127.0.0.1:7071",
      "localhost:7071",
      `3000-.localhost:7071`,
      `3000-${ID}-x.localhost:7071`,
      `3000-${ID}.sub.localhost:7071`,
      `3000_${ID}.localhost:7071`,
      `3000-${"a".repeat(65)}.localhost:7071`,
    ]) {
      expect(parsePreviewHost(host, LOCAL)).toBeNull();
    }
  });

  test("under PIER_PREVIEW_DOMAIN: the domain, with any port its proxy adds; localhost is then none", () => {
    expect(parsePreviewHost(`3000-${ID}.preview.pier.example`, DOMAIN)).toEqual({ sessionId: ID, port: 3000 });
    expect(parsePreviewHost(`3000-${ID}.preview.pier.example:8443`, DOMAIN)).toEqual({ sessionId: ID, port: 3000 });
    expect(parsePreviewHost(`3000-${ID}.localhost:7071`, DOMAIN)).toBeNull();
    expect(parsePreviewHost(`3000-${ID}.previewxpier.example`, DOMAIN)).toBeNull();
    expect(parsePreviewHost(`3000-${ID}.evil.preview.pier.example`, DOMAIN)).toBeNull();
    expect(parsePreviewHost(`3000-${ID}.preview.pier.example:08443`, DOMAIN)).toBeNull();
  });

  test("http's own port may be left out of the Host", () => {
    expect(parsePreviewHost(`3000-${ID}.localhost`, { port: 80, domain: null })).toEqual({ sessionId: ID, port: 3000 });
    expect(previewOrigin({ sessionId: ID, port: 3000 }, { port: 80, domain: null }, "http")).toBe(`http://3000-${ID}.localhost`);
  });

  test("canonicalPort reads what Pier's addresses carry", () => {
    expect(canonicalPort("8080")).toBe(8080);
    expect(canonicalPort("08080")).toBeNull();
    expect(canonicalPort("65536")).toBeNull();
    expect(canonicalPort("0")).toBeNull();
    expect(canonicalPort("-1")).toBeNull();
  });
});

describe("preview origins", () => {
  test("built as parsed: *.localhost is always http (a secure context all the same), a domain takes Pier's scheme", () => {
    const target = { sessionId: ID, port: 5173 };
    expect(previewOrigin(target, LOCAL, "https")).toBe(`http://5173-${ID}.localhost:7071`);
    expect(previewOrigin(target, DOMAIN, "https")).toBe(`https://5173-${ID}.preview.pier.example`);
    expect(parsePreviewHost(new URL(previewOrigin(target, LOCAL, "http")).host, LOCAL)).toEqual(target);
    expect(parsePreviewHost(new URL(previewOrigin(target, DOMAIN, "https")).host, DOMAIN)).toEqual(target);
  });

  test("secure contexts: every *.localhost origin, and https under a domain", () => {
    expect(isSecureContext(LOCAL, false)).toBe(true);
    expect(isSecureContext(DOMAIN, true)).toBe(true);
    expect(isSecureContext(DOMAIN, false)).toBe(false);
  });

  test("a preview's site, for Pier to refuse: any name under the domain, any *.localhost on the preview port", () => {
    expect(isPreviewSite(`http://3000-${ID}.localhost:7071`, LOCAL)).toBe(true);
    expect(isPreviewSite("http://anything.localhost:7071", LOCAL)).toBe(true);
    expect(isPreviewSite("http://localhost:7070", LOCAL)).toBe(false);
    expect(isPreviewSite("http://127.0.0.1:7071", LOCAL)).toBe(false);
    expect(isPreviewSite("http://app.localhost:3000", LOCAL)).toBe(false);
    expect(isPreviewSite("https://x.preview.pier.example", DOMAIN)).toBe(true);
    expect(isPreviewSite("https://preview.pier.example:8443", DOMAIN)).toBe(true);
    expect(isPreviewSite("https://pier.example", DOMAIN)).toBe(false);
    expect(isPreviewSite("null", LOCAL)).toBe(false);
  });

  test("Pier's CSP may frame them", () => {
    expect(previewFrameSources(LOCAL)).toEqual(["http://*.localhost:7071"]);
    expect(previewFrameSources(DOMAIN)).toEqual(["*.preview.pier.example:*"]);
  });
});
