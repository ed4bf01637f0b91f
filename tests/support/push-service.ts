/**
 * A Web Push service stand-in on 127.0.0.1, speaking the real protocol (RFC 8030): it takes a
 * push at each device's endpoint and answers as a push service would (201, or what the test
 * asks of that device: 404, 410, failures, no answer at all). It checks each push's VAPID
 * signature (RFC 8292: an ES256 JWT whose aud, exp and sub it judges, signed by the key in `k`)
 * and, for devices whose keys the test made as a browser makes them (`browserKeys`), decrypts
 * the payload (RFC 8291, aes128gcm). Both are written here with node:crypto from the RFCs, apart
 * from web-push, which makes them in Pier, so the two are checked one against the other.
 */
import { createECDH, createDecipheriv, createHmac, createPublicKey, randomBytes, verify } from "node:crypto";

/** A device's keys as a browser makes them (RFC 8291 §2–3): a P-256 key pair and a 16-byte auth secret. */
export interface BrowserKeys {
  /** What the browser's PushSubscription.toJSON() gives: the public key and the secret, base64url. */
  json: { p256dh: string; auth: string };
  privateKey: Buffer;
  publicKey: Buffer;
  auth: Buffer;
}

export function browserKeys(): BrowserKeys {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { json: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") }, privateKey: ecdh.getPrivateKey(), publicKey: ecdh.getPublicKey(), auth };
}

/** How a device's endpoint answers: 201; a status (404, 410, 500…); failing `times` times then 201; or never. */
export type Behaviour = { status: number } | { failTimes: number; status: number } | "hang";

/** One push as it reached the stand-in. */
export interface ReceivedPush {
  device: string;
  at: number;
  headers: Record<string, string>;
  body: Buffer;
  /** What the VAPID signature says, once checked (the check throws otherwise). */
  vapid: { aud: string; exp: number; sub: string; publicKey: string };
  /** The plaintext, for a device whose keys the test holds. */
  message?: unknown;
  answered: number | "never";
}

export interface PushServiceStandIn {
  url: string;
  /** The endpoint of a device; `keys` lets the stand-in decrypt what it is sent. */
  endpoint(device: string, behaviour?: Behaviour, keys?: BrowserKeys): string;
  received: ReceivedPush[];
  to(device: string): ReceivedPush[];
  /** Pushes the stand-in could not take: a bad signature, a bad payload (each a sentence). */
  problems: string[];
  stop(): Promise<void>;
}

export function startPushService(): PushServiceStandIn {
  const devices = new Map<string, { behaviour: Behaviour; keys?: BrowserKeys; tries: number }>();
  const received: ReceivedPush[] = [];
  const problems: string[] = [];
  const hanging: Array<() => void> = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      const name = decodeURIComponent(path.replace(/^\/push\//, ""));
      const device = devices.get(name);
      if (req.method !== "POST" || !device) return new Response("no such subscription", { status: 404 });
      const body = Buffer.from(await req.arrayBuffer());
      const headers = Object.fromEntries(req.headers.entries());
      let push: ReceivedPush;
      try {
        const vapid = checkVapid(headers.authorization ?? "", origin);
        if (headers["content-encoding"] !== "aes128gcm") throw new Error(`Content-Encoding is ${headers["content-encoding"]}, not aes128gcm`);
        if (!/^\d+$/.test(headers.ttl ?? "")) throw new Error("no TTL header");
        push = { device: name, at: Date.now(), headers, body, vapid, answered: 201 };
        if (device.keys) push.message = JSON.parse(decrypt(body, device.keys));
      } catch (error) {
        problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        return new Response("bad push", { status: 400 });
      }
      received.push(push);
      const { behaviour } = device;
      device.tries += 1;
      if (behaviour === "hang") {
        push.answered = "never";
        return new Promise<Response>((resolve) => hanging.push(() => resolve(new Response("late", { status: 201 }))));
      }
      if ("failTimes" in behaviour && device.tries > behaviour.failTimes) return new Response(null, { status: 201 });
      push.answered = behaviour.status;
      return new Response(null, { status: behaviour.status });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  return {
    url: origin,
    endpoint(device, behaviour = { status: 201 }, keys) {
      devices.set(device, { behaviour, keys, tries: 0 });
      return `${origin}/push/${encodeURIComponent(device)}`;
    },
    received,
    to: (device) => received.filter((push) => push.device === device),
    problems,
    async stop() {
      for (const answer of hanging.splice(0)) answer();
      await server.stop(true);
    },
  };
}

/**
 * RFC 8292: `Authorization: vapid t=<JWT>, k=<public key>`; the JWT is ES256-signed by that key,
 * its `aud` is the push service's origin, its `exp` within 24 hours from now, and its `sub` a
 * mailto: or https: contact.
 */
function checkVapid(authorization: string, origin: string): ReceivedPush["vapid"] {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!match) throw new Error(`Authorization is not a VAPID one: ${authorization.slice(0, 40)}`);
  const [, token, k] = match as unknown as [string, string, string];
  const [head, claims, signature] = token.split(".");
  if (!head || !claims || !signature) throw new Error("the VAPID token is not a JWT");
  const header = JSON.parse(Buffer.from(head, "base64url").toString());
  if (header.alg !== "ES256" || header.typ !== "JWT") throw new Error(`the JWT's header is ${JSON.stringify(header)}`);
  const point = Buffer.from(k, "base64url");
  if (point.length !== 65 || point[0] !== 4) throw new Error("k is not an uncompressed P-256 point");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") }, format: "jwk" });
  const signed = verify("sha256", Buffer.from(`${head}.${claims}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
  if (!signed) throw new Error("the VAPID signature does not verify with k");
  const { aud, exp, sub } = JSON.parse(Buffer.from(claims, "base64url").toString());
  if (aud !== origin) throw new Error(`the JWT's aud is ${aud}, not this push service (${origin})`);
  const now = Date.now() / 1000;
  if (typeof exp !== "number" || exp <= now || exp > now + 24 * 3600) throw new Error(`the JWT's exp (${exp}) is not within 24 hours from now`);
  if (typeof sub !== "string" || !/^(mailto:|https:)/.test(sub)) throw new Error(`the JWT's sub (${sub}) is no mailto: or https: contact`);
  return { aud, exp, sub, publicKey: k };
}

/** RFC 8291 §3–4 with RFC 8188's aes128gcm: one record, as a push service hands it to the browser. */
function decrypt(body: Buffer, keys: BrowserKeys): string {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  const senderKey = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  if (idLength !== 65 || senderKey[0] !== 4) throw new Error("the keyid is not the sender's P-256 public key");
  if (record.length > recordSize) throw new Error(`the payload is ${record.length} bytes, more than one record of ${recordSize}`);
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(keys.privateKey);
  const shared = ecdh.computeSecret(senderKey);
  const hmac = (key: Buffer, ...data: Buffer[]) => createHmac("sha256", key).update(Buffer.concat(data)).digest();
  // HKDF (RFC 5869) as RFC 8291 §3.4 writes it out: the auth secret and both public keys first.
  const prkKey = hmac(keys.auth, shared);
  const ikm = hmac(prkKey, Buffer.from("WebPush: info\0"), keys.publicKey, senderKey, Buffer.from([1]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0"), Buffer.from([1])).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0"), Buffer.from([1])).subarray(0, 12);
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 2, then any padding of zeros.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Error("the plaintext does not end with the last record's delimiter");
  return padded.subarray(0, end).toString("utf8");
}
