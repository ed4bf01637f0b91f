import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BellDetector } from "../../src/attention/bell.ts";
import { Webhooks } from "../../src/attention/webhooks.ts";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { personActor } from "../../src/auth/actor.ts";
import { createFirstAdmin } from "../../src/auth/users.ts";
import { openDatabase } from "../../src/infra/db.ts";
import { whyNotPublic } from "../../src/infra/public-address.ts";
import { createSecretBox } from "../../src/infra/secret-box.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("the terminal bell", () => {
  const rings = (...chunks: string[]) => {
    const bell = new BellDetector();
    return chunks.map((chunk) => bell.feed(bytes(chunk)));
  };

  test("a BEL in text rings; one that ends a title (OSC) does not, wherever the chunks are cut", () => {
    expect(rings("done\x07")).toEqual([true]);
    expect(rings("\x1b]0;my title\x07$ ")).toEqual([false]);
    const text = "a\x1b]0;title\x07b\x1b]2;x\x1b\\c\x07";
    for (let cut = 0; cut <= text.length; cut++) {
      const result = rings(text.slice(0, cut), text.slice(cut));
      expect(result.some(Boolean)).toBe(true);
      // Only the last BEL rings, so it is in whichever chunk holds it.
      expect(result[cut <= text.length - 1 ? 1 : 0]).toBe(true);
    }
  });

  test("strings that end with ST (DCS, APC) keep their BELs; a broken OSC gives the bell back after a while", () => {
    expect(rings("\x1bPq\x07data\x1b\\")).toEqual([false]);
    expect(rings("\x1b_apc\x07\x1b\\", "\x07")).toEqual([false, true]);
    expect(rings("\x1b]never ends", "x".repeat(5000), "\x07")).toEqual([false, false, true]);
  });
});

describe("webhook addresses", () => {
  test("loopback, private, link-local, CGNAT, unique-local, reserved and the IPv6 forms carrying them are not public; public ones are", () => {
    const notPublic = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.10", "169.254.169.254", "100.64.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.1", "192.0.2.1", "240.0.0.1"];
    const notPublic6 = ["::1", "::", "fd00::1", "fe80::1", "ff02::1", "2001:db8::1", "::7f00:1", "100::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:0:a00:1", "64:ff9b::7f00:1", "64:ff9b:1::808:808", "2002:a9fe:a9fe::1", "2001:0:808:808::f5ff:fffe"];
    for (const address of [...notPublic, ...notPublic6]) expect(whyNotPublic(address), address).not.toBeNull();
    for (const address of ["1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2001:0:808:808::f7f7:f7f7"]) {
      expect(whyNotPublic(address), address).toBeNull();
    }
  });

  test("without the admin's leave, a hook at this machine or a private network is refused and nothing is saved", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pier-webhooks-"));
    try {
      const db = openDatabase(join(dir, "pier.db"));
      const box = await createSecretBox(crypto.getRandomValues(new Uint8Array(32)));
      const user = await createFirstAdmin(db, { username: "ana", password: "ana password 1" });
      const webhooks = new Webhooks({ db, box, audit: new AuditLog(db), allowPrivate: false });
      const actor = personActor(user);
      for (const url of ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook", "http://169.254.169.254/latest", "http://192.168.1.5/ntfy"]) {
        const refused = await webhooks.update(actor, { webhookUrl: url }, "http://pier.test").catch((error: Error & { field?: string }) => error);
        expect(refused instanceof Error ? refused.field : null, url).toBe("webhookUrl");
      }
      expect(await webhooks.view(actor)).toEqual({ set: false, mask: null });
      db.$client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
