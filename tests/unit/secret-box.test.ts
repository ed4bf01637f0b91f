import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecretBox, loadOrCreateSecretKey } from "../../src/infra/secret-box.ts";

describe("secret box", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));

  test("seals and opens a value; the sealed form does not contain it", async () => {
    const box = await createSecretBox(key);
    const sealed = await box.seal("sk-ant-api03-very-secret");
    expect(sealed).not.toContain("very-secret");
    expect(sealed.startsWith("v1.")).toBe(true);
    expect(await box.open(sealed)).toBe("sk-ant-api03-very-secret");
  });

  test("the same value seals differently each time (fresh IV)", async () => {
    const box = await createSecretBox(key);
    expect(await box.seal("same")).not.toBe(await box.seal("same"));
  });

  test("a tampered value or another key is refused", async () => {
    const box = await createSecretBox(key);
    const sealed = await box.seal("value");
    const [v, iv, body] = sealed.split(".");
    const flipped = Buffer.from(body!, "base64");
    flipped[0]! ^= 1;
    await expect(box.open([v, iv, flipped.toString("base64")].join("."))).rejects.toThrow();
    const other = await createSecretBox(crypto.getRandomValues(new Uint8Array(32)));
    await expect(other.open(sealed)).rejects.toThrow();
  });

  test("the generated key file is created once, with mode 0600", () => {
    const dir = mkdtempSync(join(tmpdir(), "pier-key-"));
    const first = loadOrCreateSecretKey(dir, null);
    const file = join(dir, "secret.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toHaveLength(64);
    expect(loadOrCreateSecretKey(dir, null)).toEqual(first);
  });

  test("PIER_SECRET_KEY wins over the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "pier-key-"));
    expect(loadOrCreateSecretKey(dir, key)).toBe(key);
  });
});
