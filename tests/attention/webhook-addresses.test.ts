/**
 * A "needs you" webhook is a URL a member types and the server posts to, so it must not reach this
 * machine or a private network however the address is written: the IPv6 forms that carry an IPv4
 * address (mapped, translated, NAT64, 6to4, Teredo), a name that resolves there, and a name that
 * answers one address when checked and another when connected to (DNS rebinding). Nothing here
 * sends a packet beyond this machine: refused addresses are never connected to, and the servers
 * that must stay untouched listen on loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhooks } from "../../src/attention/webhooks.ts";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { personActor } from "../../src/auth/actor.ts";
import { createFirstAdmin } from "../../src/auth/users.ts";
import { openDatabase } from "../../src/infra/db.ts";
import type { Resolve } from "../../src/infra/destination.ts";
import { createSecretBox } from "../../src/infra/secret-box.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";

const MESSAGE = { text: "t", message: "t", title: "t", reason: "turn_end", sessionId: "s", sessionTitle: "s", repo: "r", url: "http://pier.test/s" };

/** A webhook receiver on loopback that counts what reaches it. */
function startReceiver(hostname: string, port = 0) {
  const received: { host: string | null; path: string }[] = [];
  const server = Bun.serve({
    hostname,
    port,
    fetch: (req) => {
      received.push({ host: req.headers.get("host"), path: new URL(req.url).pathname });
      return new Response("ok");
    },
  });
  return { server, received, port: server.port! };
}

/** Each IPv6 form with the IPv4 address it carries, as the refusal must name it. */
const disguised = (port: number): [string, string][] => [
  [`http://[::ffff:127.0.0.1]:${port}/hook`, "127.0.0.1"],
  ["http://[::ffff:a9fe:a9fe]/latest/meta-data", "169.254.169.254"],
  ["http://[::ffff:0:7f00:1]/hook", "127.0.0.1"],
  ["http://[64:ff9b::a00:1]/hook", "10.0.0.1"],
  ["http://[64:ff9b::a9fe:a9fe]/latest", "169.254.169.254"],
  ["http://[64:ff9b:1::a00:1]/hook", "local-use NAT64"],
  ["http://[2002:7f00:1::1]/hook", "127.0.0.1"],
  ["http://[2002:c0a8:101::1]/hook", "192.168.1.1"],
  // Teredo: a public server (8.8.8.8) with the client 10.0.0.1 stored bit-flipped, and the reverse.
  ["http://[2001:0:808:808::f5ff:fffe]/hook", "10.0.0.1"],
  ["http://[2001:0:7f00:1::f7f7:f7f7]/hook", "127.0.0.1"],
];

describe("saving a webhook", () => {
  let pier: TestPier;
  let cookie: string;
  beforeAll(async () => {
    pier = await startTestPier();
    cookie = await setUpAdmin(pier);
  }, 60_000);
  afterAll(async () => {
    if (pier) await closeForGood(pier);
  });

  const put = async (webhookUrl: string) => {
    const res = await pier.fetch("/api/me/notifications", { method: "PUT", headers: { cookie, origin: pier.url, "content-type": "application/json" }, body: JSON.stringify({ webhookUrl }) });
    return { status: res.status, body: (await res.json()) as any };
  };

  test("each IPv6 form of a loopback, link-local or private IPv4 address is refused with a sentence naming it, and nothing is saved", async () => {
    for (const [url, carried] of disguised(8080)) {
      const refused = await put(url);
      expect(refused.status, url).toBe(400);
      expect(refused.body.error.code, url).toBe("invalid_webhook_url");
      expect(refused.body.error.field, url).toBe("webhookUrl");
      expect(refused.body.error.message, url).toContain(carried);
      expect(refused.body.error.message, url).toContain("PIER_WEBHOOK_ALLOW_PRIVATE");
    }
    const view = await pier.fetch("/api/me/notifications", { headers: { cookie } });
    expect(await view.json()).toEqual({ set: false, mask: null });
  });

  test("the same forms carrying a public IPv4 address, and a public IPv6 address, are taken (saving connects to nothing)", async () => {
    for (const url of ["http://[2002:808:808::1]/hook", "http://[64:ff9b::808:808]/hook", "https://[2606:4700:4700::1111]/hook"]) {
      const saved = await put(url);
      expect(saved.status, url).toBe(200);
      expect(saved.body.set, url).toBe(true);
    }
  });
});

describe("sending a webhook", () => {
  let dir: string;
  let db: ReturnType<typeof openDatabase>;
  let box: Awaited<ReturnType<typeof createSecretBox>>;
  let user: Awaited<ReturnType<typeof createFirstAdmin>>;
  let receiver: ReturnType<typeof startReceiver>;
  let warn: ReturnType<typeof spyOn>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pier-webhook-addresses-"));
    db = openDatabase(join(dir, "pier.db"));
    box = await createSecretBox(crypto.getRandomValues(new Uint8Array(32)));
    user = await createFirstAdmin(db, { username: "ana", password: "ana password 1" });
    receiver = startReceiver("127.0.0.1");
  }, 60_000);
  afterEach(() => warn?.mockRestore());
  afterAll(() => {
    receiver.server.stop(true);
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Ana's hook, saved while private addresses were allowed, and the hooks as they are now. */
  async function hookSavedEarlier(url: string, now: { allowPrivate: boolean; resolve?: Resolve }): Promise<Webhooks> {
    await new Webhooks({ db, box, audit: new AuditLog(db), allowPrivate: true, resolve: now.resolve }).update(personActor(user), { webhookUrl: url }, "http://pier.test");
    return new Webhooks({ db, box, audit: new AuditLog(db), ...now });
  }

  test("a hook in any of those IPv6 forms, saved while the admin allowed private addresses, is not sent once they are not; the log says why", async () => {
    warn = spyOn(console, "warn").mockImplementation(() => {});
    for (const [url, carried] of disguised(receiver.port)) {
      const webhooks = await hookSavedEarlier(url, { allowPrivate: false });
      expect(await webhooks.send(user.id, MESSAGE), url).toBe("failed");
      expect(String(warn.mock.calls.at(-1)?.[0]), url).toContain(carried);
    }
    expect(receiver.received).toEqual([]);
  });

  test("a name that resolves to this machine is refused when saved and when sent, as is one with any private address among public ones", async () => {
    warn = spyOn(console, "warn").mockImplementation(() => {});
    await new Webhooks({ db, box, audit: new AuditLog(db), allowPrivate: false }).update(personActor(user), { webhookUrl: null }, "http://pier.test");
    const answers: Record<string, string[]> = { "hook.example": ["127.0.0.1"], "mixed.example": ["8.8.8.8", "10.1.2.3"], "sixes.example": ["2606:4700::1111", "::ffff:127.0.0.1"] };
    const webhooks = new Webhooks({ db, box, audit: new AuditLog(db), allowPrivate: false, resolve: async (name) => answers[name] ?? [] });
    for (const [name, address] of [["hook.example", "127.0.0.1"], ["mixed.example", "10.1.2.3"], ["sixes.example", "127.0.0.1"]] as const) {
      const refused = await webhooks.update(personActor(user), { webhookUrl: `http://${name}:${receiver.port}/hook` }, "http://pier.test").catch((error: Error & { field?: string }) => error);
      expect(refused instanceof Error ? refused.field : null, name).toBe("webhookUrl");
      expect((refused as Error).message, name).toContain(`${name} resolves to`);
      expect((refused as Error).message, name).toContain(address);
    }
    expect(await webhooks.view(personActor(user))).toEqual({ set: false, mask: null });

    const later = await hookSavedEarlier(`http://hook.example:${receiver.port}/hook`, { allowPrivate: false, resolve: async () => ["127.0.0.1"] });
    expect(await later.send(user.id, MESSAGE)).toBe("failed");
    expect(String(warn.mock.calls.at(-1)?.[0])).toContain("hook.example resolves to 127.0.0.1");
    expect(receiver.received).toEqual([]);
  });

  test("a name is resolved once per post, and the post goes to the address that was checked, not to where a second lookup would lead", async () => {
    // The checked answer is 127.0.0.1; any later lookup answers ::1, where a second receiver waits
    // on the same port. (Public-then-private would need a connection to a public address.)
    const checked = startReceiver("127.0.0.1");
    const other = startReceiver("::1", checked.port);
    try {
      const lookups: string[] = [];
      const rebinding: Resolve = async (name) => {
        lookups.push(name);
        return lookups.length <= 2 ? ["127.0.0.1"] : ["::1"];
      };
      const webhooks = await hookSavedEarlier(`http://localhost:${checked.port}/hook`, { allowPrivate: true, resolve: rebinding });
      expect(lookups).toEqual(["localhost"]);
      expect(await webhooks.send(user.id, MESSAGE)).toBe("sent");
      expect(lookups).toEqual(["localhost", "localhost"]);
      expect(checked.received).toEqual([{ host: `localhost:${checked.port}`, path: "/hook" }]);
      expect(other.received).toEqual([]);
      // The next post looks the name up afresh, once, and goes where that answer says.
      expect(await webhooks.send(user.id, MESSAGE)).toBe("sent");
      expect(checked.received.length).toBe(1);
      expect(other.received).toEqual([{ host: `localhost:${checked.port}`, path: "/hook" }]);
    } finally {
      checked.server.stop(true);
      other.server.stop(true);
    }
  });

  test("a redirect is not followed", async () => {
    const target = startReceiver("127.0.0.1");
    const redirecting = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.redirect(`http://127.0.0.1:${target.port}/elsewhere`, 307) });
    try {
      warn = spyOn(console, "warn").mockImplementation(() => {});
      const webhooks = await hookSavedEarlier(`http://127.0.0.1:${redirecting.port}/hook`, { allowPrivate: true });
      expect(await webhooks.send(user.id, MESSAGE)).toBe("failed");
      expect(target.received).toEqual([]);
    } finally {
      target.server.stop(true);
      redirecting.stop(true);
    }
  });
});

describe("a pinned https post", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pier-webhook-tls-"));
    const made = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=hook.test", "-addext", "subjectAltName=DNS:hook.test", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stderr: "pipe" },
    );
    if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr.toString()}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("connects to the checked address but names the host in SNI and Host, and the certificate must be the host's", async () => {
    const seen: { host: string | undefined; servername: string | undefined }[] = [];
    const server = createServer({ cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) }, (req, res) => {
      seen.push({ host: req.headers.host, servername: (req.socket as { servername?: string }).servername });
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      // The certificate authority is this test's, so the post runs in a process that trusts it.
      const post = async (host: string) => {
        const script = `
          import { checkDestination, fetchDestination } from "./src/infra/destination.ts";
          const checked = await checkDestination(new URL("https://${host}:${port}/hook"), { allowPrivate: true, resolve: async () => ["127.0.0.1"] });
          if (!("destination" in checked)) throw new Error("not checked");
          try {
            const res = await fetchDestination(checked.destination, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
            console.log(res.status);
          } catch (error) {
            console.log(String(error));
          }`;
        const child = Bun.spawn(["bun", "-e", script], { cwd: join(import.meta.dir, "../.."), env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "cert.pem") }, stdout: "pipe", stderr: "pipe" });
        const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
        return (out + err).trim();
      };
      expect(await post("hook.test")).toBe("200");
      expect(seen).toEqual([{ host: `hook.test:${port}`, servername: "hook.test" }]);
      expect(await post("other.test")).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
      expect(seen.length).toBe(1);
    } finally {
      server.close();
    }
  }, 30_000);
});
