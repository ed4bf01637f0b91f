import { describe, expect, test } from "bun:test";
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from "@oslojs/encoding";
import { GRANT_LIFETIME_MS, type GrantClaims, PreviewSigner, UsedNonces, previewKey } from "../../src/previews/grants.ts";

const NOW = 1_800_000_000_000;
const secret = new Uint8Array(32).fill(7);
const signer = new PreviewSigner(previewKey(secret));
const grant: GrantClaims = { v: 1, k: "grant", s: "abcdefghij234567", p: 3000, u: "u1", si: "si1", o: "http://localhost:7070", to: "/", exp: NOW + GRANT_LIFETIME_MS, n: "n1" };

describe("preview grants", () => {
  test("what Pier signs reads back until it expires", () => {
    const token = signer.sign(grant);
    expect(signer.read(token, NOW)).toEqual(grant);
    expect(signer.read(token, NOW + GRANT_LIFETIME_MS - 1)).toEqual(grant);
    expect(signer.read(token, NOW + GRANT_LIFETIME_MS)).toBeNull();
  });

  test("a changed claim, a changed signature, or another instance's key is refused", () => {
    const token = signer.sign(grant);
    const [body, mac] = token.split(".") as [string, string];
    const claims = JSON.parse(new TextDecoder().decode(decodeBase64urlIgnorePadding(body)));
    const forged = encodeBase64urlNoPadding(new TextEncoder().encode(JSON.stringify({ ...claims, p: 3001 })));
    expect(signer.read(`${forged}.${mac}`, NOW)).toBeNull();
    const flipped = decodeBase64urlIgnorePadding(mac);
    flipped[0]! ^= 1;
    expect(signer.read(`${body}.${encodeBase64urlNoPadding(flipped)}`, NOW)).toBeNull();
    expect(new PreviewSigner(previewKey(new Uint8Array(32).fill(8))).read(token, NOW)).toBeNull();
    // The previews' key is not the instance's secret itself (that one seals stored secrets).
    expect(new PreviewSigner(secret).read(token, NOW)).toBeNull();
  });

  test("garbage is refused, not thrown", () => {
    for (const token of ["", ".", "a.b.c", "not base64!.x", "x".repeat(5000), `${encodeBase64urlNoPadding(new TextEncoder().encode("{}"))}.`]) {
      expect(signer.read(token, NOW)).toBeNull();
    }
  });

  test("a version or kind this Pier does not make is refused even when signed", () => {
    expect(signer.read(signer.sign({ ...grant, v: 2 } as unknown as GrantClaims), NOW)).toBeNull();
    expect(signer.read(signer.sign({ ...grant, k: "admin" } as unknown as GrantClaims), NOW)).toBeNull();
  });
});

describe("used nonces", () => {
  test("a nonce is taken once while its grant lasts, and forgotten after", () => {
    const nonces = new UsedNonces();
    expect(nonces.take("a", NOW + 60_000, NOW)).toBe(true);
    expect(nonces.take("a", NOW + 60_000, NOW + 1)).toBe(false);
    expect(nonces.take("b", NOW + 60_000, NOW + 1)).toBe(true);
    // After its expiry the grant itself is refused, so the nonce need not be kept.
    expect(nonces.take("c", NOW + 200_000, NOW + 120_000)).toBe(true);
    expect((nonces as unknown as { used: Map<string, number> }).used.size).toBe(1);
  });
});
