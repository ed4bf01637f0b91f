import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

/** A random, URL-safe, lowercase id: 80 bits as 16 base32 characters. */
export function newId(): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(10)));
}
