import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Encrypts secrets (API keys, tokens) before they reach SQLite: AES-256-GCM through WebCrypto.
 * Stored form: "v1.<base64 iv>.<base64 ciphertext+tag>". A fresh 12-byte IV per value.
 */
export interface SecretBox {
  seal(plaintext: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

const VERSION = "v1";

export async function createSecretBox(rawKey: Uint8Array<ArrayBuffer>): Promise<SecretBox> {
  if (rawKey.length !== 32) throw new Error("A secret key must be 32 bytes.");
  const key = await crypto.subtle.importKey("raw", rawKey, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return {
    async seal(plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = new TextEncoder().encode(plaintext);
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, data));
      return [VERSION, Buffer.from(iv).toString("base64"), Buffer.from(sealed).toString("base64")].join(".");
    },
    async open(sealed) {
      const [version, iv, body] = sealed.split(".");
      if (version !== VERSION || !iv || !body) throw new Error("The stored secret is not in a format Pier knows.");
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: Buffer.from(iv, "base64") },
        key,
        Buffer.from(body, "base64"),
      );
      return new TextDecoder().decode(plain);
    },
  };
}

/**
 * The key comes from PIER_SECRET_KEY when set; otherwise it is generated once into
 * <dataDir>/secret.key with mode 0600 and read back on every later start.
 */
export function loadOrCreateSecretKey(dataDir: string, fromEnv: Uint8Array<ArrayBuffer> | null): Uint8Array<ArrayBuffer> {
  if (fromEnv) return fromEnv;
  const path = join(dataDir, "secret.key");
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, "utf8").trim(), "hex");
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte hex key; restore it or set PIER_SECRET_KEY.`);
    return Uint8Array.from(key);
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  writeFileSync(path, Buffer.from(key).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return key;
}
