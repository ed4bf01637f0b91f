import { describe, expect, test } from "bun:test";
import { clientAddress } from "../../src/http/client-address.ts";
import { loadConfig } from "../../src/infra/config.ts";

/** The address the sign-in limits count, from the connecting peer and, behind trusted proxies, X-Forwarded-For. */
describe("the client's address", () => {
  const from = (peer: string, forwardedFor: string | null, trusted = "") => {
    const server = { requestIP: () => ({ address: peer }) };
    const headers: Record<string, string> = forwardedFor === null ? {} : { "x-forwarded-for": forwardedFor };
    return clientAddress(loadConfig({ PIER_TRUSTED_PROXIES: trusted }).trustedProxies, server, new Request("http://pier.test/login", { headers }));
  };

  test("is the peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(from("127.0.0.1", "203.0.113.7")).toBe("127.0.0.1");
    expect(from("::ffff:127.0.0.1", null)).toBe("127.0.0.1");
  });

  test("is the peer when the peer is not a trusted proxy", () => {
    expect(from("198.51.100.1", "203.0.113.7", "127.0.0.1/32")).toBe("198.51.100.1");
  });

  test("behind trusted proxies, is the right-most forwarded address that is not one of them", () => {
    expect(from("127.0.0.1", "203.0.113.7", "127.0.0.1/32")).toBe("203.0.113.7");
    expect(from("::ffff:127.0.0.1", "1.1.1.1, 203.0.113.7", "127.0.0.1")).toBe("203.0.113.7");
    expect(from("10.0.0.2", "203.0.113.7, 10.0.0.9, 10.0.0.5", "10.0.0.0/8")).toBe("203.0.113.7");
    expect(from("::1", "2001:db8::7", "::1/128")).toBe("2001:db8::7");
    expect(from("127.0.0.1", "[2001:db8::7]:4711", "127.0.0.1/32")).toBe("2001:db8::7");
    expect(from("127.0.0.1", "203.0.113.7:4711", "127.0.0.1/32")).toBe("203.0.113.7");
  });

  test("stops at what is not an address, and at the proxy when nothing was forwarded", () => {
    expect(from("127.0.0.1", "203.0.113.7, unknown", "127.0.0.1/32")).toBe("127.0.0.1");
    expect(from("127.0.0.1", null, "127.0.0.1/32")).toBe("127.0.0.1");
    expect(from("127.0.0.1", "10.0.0.9", "127.0.0.1/32, 10.0.0.0/8")).toBe("10.0.0.9");
  });
});
