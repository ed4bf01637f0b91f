/**
 * What a preview changes in headers on the way to the app and back: the app is told it runs on
 * localhost and, beside it, the truth in X-Forwarded-* that only Pier writes; one connection's
 * headers stay on it; Pier's cookie neither reaches the app nor is set by it.
 */
import { describe, expect, test } from "bun:test";
import { headersToApp, headersToBrowser, previewLocation, withoutPierCookie } from "../../src/previews/proxy-headers.ts";

const AS = { appPort: 5173, host: "5173-abcdefghijklmnop.localhost:7071", proto: "http" as const, client: "203.0.113.9" };
const ORIGIN = "http://5173-abcdefghijklmnop.localhost:7071";

describe("to the app", () => {
  test("Host is localhost:<port>; X-Forwarded-* say the preview host, proto, port and client, whatever the client claimed", () => {
    const headers = headersToApp(
      { host: AS.host, "x-forwarded-for": "10.0.0.1", "x-forwarded-host": "evil.example", forwarded: "for=10.0.0.1", "x-real-ip": "10.0.0.1", accept: "*/*" },
      AS,
    );
    expect(headers).toEqual({
      host: "localhost:5173",
      accept: "*/*",
      "x-forwarded-host": AS.host,
      "x-forwarded-proto": "http",
      "x-forwarded-port": "7071",
      "x-forwarded-for": "203.0.113.9",
    });
    expect(headersToApp({ host: "5173-abcdefghijklmnop.preview.example" }, { ...AS, host: "5173-abcdefghijklmnop.preview.example", proto: "https" })["x-forwarded-port"]).toBe("443");
  });

  test("hop-by-hop headers and those the Connection header names stay behind; an upgrade keeps its own", () => {
    const incoming = { host: AS.host, connection: "keep-alive, X-Secret", "x-secret": "1", "keep-alive": "timeout=5", te: "trailers", "transfer-encoding": "chunked", "proxy-authorization": "Basic x", expect: "100-continue", "content-type": "text/plain" };
    const headers = headersToApp(incoming, AS);
    expect(Object.keys(headers).sort()).toEqual(["content-type", "host", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port", "x-forwarded-proto"]);
    const upgrade = headersToApp({ host: AS.host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "k" }, AS, true);
    expect(upgrade).toMatchObject({ connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "k" });
    expect(headersToApp({ host: AS.host, connection: "Upgrade", upgrade: "websocket" }, AS).upgrade).toBeUndefined();
  });

  test("Pier's pier_preview cookie is taken out of Cookie; the app's own cookies stay", () => {
    expect(headersToApp({ host: AS.host, cookie: "a=1; pier_preview=secret; b=2" }, AS).cookie).toBe("a=1; b=2");
    expect(headersToApp({ host: AS.host, cookie: "pier_preview=secret" }, AS).cookie).toBeUndefined();
    expect(withoutPierCookie("pier_preview=one;pier_preview=two; pier_previewed=kept")).toBe("pier_previewed=kept");
  });

  test("a page is asked for without compression, so the console script can go in as it streams", () => {
    expect(headersToApp({ host: AS.host, "sec-fetch-dest": "document", "accept-encoding": "gzip, br" }, AS)["accept-encoding"]).toBe("identity");
    expect(headersToApp({ host: AS.host, "sec-fetch-dest": "script", "accept-encoding": "gzip, br" }, AS)["accept-encoding"]).toBe("gzip, br");
  });
});

describe("back to the browser", () => {
  test("a redirect to the app's own localhost address goes to the preview's origin instead", () => {
    expect(previewLocation("http://localhost:5173/login?next=%2F#top", 5173, ORIGIN)).toBe(`${ORIGIN}/login?next=%2F#top`);
    expect(previewLocation("http://127.0.0.1:5173/", 5173, ORIGIN)).toBe(`${ORIGIN}/`);
    expect(previewLocation("http://[::1]:5173/x", 5173, ORIGIN)).toBe(`${ORIGIN}/x`);
    expect(previewLocation("http://localhost/x", 80, ORIGIN)).toBe(`${ORIGIN}/x`);
  });

  test("other redirects stay as the app wrote them: relative ones, another port, another host", () => {
    for (const location of ["/relative", "other", "http://localhost:3000/x", "https://example.com/", "http://localhost.example:5173/", "javascript:alert(1)"]) {
      expect(previewLocation(location, 5173, ORIGIN)).toBe(location);
    }
  });

  test("a Set-Cookie of pier_preview is dropped, the app's own kept; hop-by-hop headers stay behind", () => {
    const headers = headersToBrowser(
      {
        "set-cookie": ["pier_preview=forged; Path=/", "session=app; HttpOnly", " pier_preview =x"],
        connection: "keep-alive",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
        location: "http://localhost:5173/next",
        "content-type": "text/plain",
      },
      5173,
      ORIGIN,
    );
    expect(headers).toEqual({ "set-cookie": ["session=app; HttpOnly"], location: `${ORIGIN}/next`, "content-type": "text/plain" });
    expect(headersToBrowser({ "set-cookie": ["pier_preview=forged"] }, 5173, ORIGIN)["set-cookie"]).toBeUndefined();
  });
});
