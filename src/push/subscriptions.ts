import { createECDH } from "node:crypto";
import { type Static, Type } from "@sinclair/typebox";
import { and, asc, count, eq, ne } from "drizzle-orm";
import { type Actor, assertPerson } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { AppError, invalid, notFound } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { NO_CONTROL_CHARS, optionalText, readInput, requiredText } from "../infra/input.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import { MAX_ENDPOINT_LENGTH } from "./endpoint.ts";
import { pushSubscriptions } from "./tables.ts";

const MAX_NAME = 80;
/** A person's devices are each sent every raise: enough for anyone's phones and browsers, and a bound on the fan-out. */
export const MAX_DEVICES = 20;
const DEFAULT_NAME = "A browser";

/** What `POST /api/me/push` takes: a browser's `PushSubscription.toJSON()`, and a name for the device. */
export const PushSubscriptionInput = Type.Object({
  endpoint: requiredText("Endpoint", {
    maxLength: MAX_ENDPOINT_LENGTH,
    error: "The endpoint is required: the URL of the browser's push subscription.",
    rule: `The endpoint must be at most ${MAX_ENDPOINT_LENGTH} characters.`,
  }),
  keys: Type.Object(
    { p256dh: Type.String(), auth: Type.String() },
    { title: "Keys", error: "keys must hold the subscription's p256dh and auth, as the browser's PushSubscription.toJSON() gives them." },
  ),
  name: optionalText("Name", { trim: true, maxLength: MAX_NAME, pattern: NO_CONTROL_CHARS, rule: `The name must be at most ${MAX_NAME} characters without control characters.` }),
});
export type PushSubscriptionInput = Static<typeof PushSubscriptionInput>;

/** A device as its person sees it (the API's subscription object): never its endpoint's path or keys. */
export interface PublicDevice {
  id: string;
  name: string;
  /** The push service's host (fcm.googleapis.com, web.push.apple.com…). */
  service: string;
  createdAt: string;
  lastPushAt: string | null;
}

/** A device as delivery needs it, its keys opened. */
export interface Device {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  pierUrl: string;
}

type Row = typeof pushSubscriptions.$inferSelect;

/**
 * Each person's devices that take Web Push: their browsers' push subscriptions. Only the person
 * adds, lists and removes their own (an agent never does). A browser has one subscription, so an
 * endpoint saved again replaces what was saved for it, by whoever saved it last: the browser is
 * theirs now. The endpoint is judged where it is saved (see endpoint.ts); the keys are checked to
 * be what a browser makes (a P-256 public key and a 16-byte secret, RFC 8291) and kept sealed.
 */
export class PushSubscriptions {
  constructor(private deps: { db: Db; box: SecretBox }) {}

  list(actor: Actor): PublicDevice[] {
    assertPerson(actor);
    return this.deps.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, actor.user.id)).orderBy(asc(pushSubscriptions.createdAt)).all().map(publicDevice);
  }

  /**
   * Saves the subscription for the actor. `checkEndpoint` gives the endpoint's problem as a
   * sentence, or null; `pierUrl` is where the person uses Pier.
   */
  async add(actor: Actor, body: unknown, pierUrl: string, checkEndpoint: (endpoint: string) => Promise<string | null>): Promise<PublicDevice> {
    assertPerson(actor);
    const input = readInput(PushSubscriptionInput, body);
    const keys = { p256dh: browserKey(input.keys.p256dh), auth: authSecret(input.keys.auth) };
    const problem = await checkEndpoint(input.endpoint);
    if (problem) throw invalid("endpoint", problem);
    const { db } = this.deps;
    const others = db.select({ n: count() }).from(pushSubscriptions).where(and(eq(pushSubscriptions.userId, actor.user.id), ne(pushSubscriptions.endpoint, input.endpoint))).get()!.n;
    if (others >= MAX_DEVICES) throw new AppError(409, "too_many_devices", `You have ${MAX_DEVICES} devices taking notifications; remove one on the Tokens page first.`);
    const saved = { userId: actor.user.id, keys: await this.deps.box.seal(JSON.stringify(keys)), name: input.name || DEFAULT_NAME, pierUrl, createdAt: new Date(), lastPushAt: null };
    const row = db
      .insert(pushSubscriptions)
      .values({ id: newId(), endpoint: input.endpoint, ...saved })
      .onConflictDoUpdate({ target: pushSubscriptions.endpoint, set: saved })
      .returning()
      .get();
    return publicDevice(row);
  }

  remove(actor: Actor, id: string): void {
    assertPerson(actor);
    const removed = this.deps.db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, actor.user.id))).returning({ id: pushSubscriptions.id }).all();
    if (removed.length === 0) throw notFound("device");
  }

  /** Every device of the person, for a push. */
  async devicesOf(userId: string): Promise<Device[]> {
    const rows = this.deps.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)).all();
    return Promise.all(rows.map(async (row) => ({ id: row.id, endpoint: row.endpoint, pierUrl: row.pierUrl, keys: JSON.parse(await this.deps.box.open(row.keys)) as Device["keys"] })));
  }

  exists(id: string): boolean {
    return this.deps.db.select({ id: pushSubscriptions.id }).from(pushSubscriptions).where(eq(pushSubscriptions.id, id)).get() !== undefined;
  }

  /** The push service says the subscription is gone (404, 410): so is the device. */
  forget(id: string): void {
    this.deps.db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id)).run();
  }

  /** A push reached the device's push service. */
  pushed(id: string): void {
    this.deps.db.update(pushSubscriptions).set({ lastPushAt: new Date() }).where(eq(pushSubscriptions.id, id)).run();
  }
}

function publicDevice(row: Row): PublicDevice {
  return { id: row.id, name: row.name, service: new URL(row.endpoint).host, createdAt: row.createdAt.toISOString(), lastPushAt: row.lastPushAt?.toISOString() ?? null };
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** The browser's ECDH public key: an uncompressed point on P-256 (65 bytes), in base64url. */
function browserKey(text: string): string {
  const bytes = BASE64URL.test(text) ? Buffer.from(text, "base64url") : null;
  try {
    if (bytes?.length !== 65 || bytes[0] !== 4) throw new Error("not an uncompressed point");
    // An agreement with a key of our own is refused unless the point is on the curve.
    const ours = createECDH("prime256v1");
    ours.generateKeys();
    ours.computeSecret(bytes);
  } catch {
    throw invalid("keys", "keys.p256dh must be the browser's P-256 public key: an uncompressed point of 65 bytes, in base64url.");
  }
  return text;
}

/** The browser's authentication secret: 16 random bytes, in base64url. */
function authSecret(text: string): string {
  if (!BASE64URL.test(text) || Buffer.from(text, "base64url").length !== 16) throw invalid("keys", "keys.auth must be the browser's authentication secret: 16 bytes, in base64url.");
  return text;
}
