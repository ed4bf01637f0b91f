import { type Destination, fetchDestination } from "../infra/destination.ts";
import { errorMessage } from "../infra/errors.ts";
import type { EndpointProblem } from "./endpoint.ts";
import type { PushMessage } from "./message.ts";
import type { VapidKeys } from "./server-keys.ts";
import type { Device } from "./subscriptions.ts";

/** How long a push service has to take a push before the try counts as failed. */
const SEND_TIMEOUT_MS = 10_000;
/** How long a push service keeps a push for a device that is off (RFC 8030 TTL): a day-old "needs you" is still worth seeing. */
const TTL_SECONDS = 24 * 60 * 60;
/** The waits before each try again: three more tries, over about twenty seconds. */
export const RETRY_DELAYS_MS = [1_000, 4_000, 16_000];
/** A push service's Retry-After is honoured up to this. */
const MAX_RETRY_AFTER_MS = 60_000;

export interface DeliveryDeps {
  keys(): Promise<VapidKeys>;
  /** Where a push for the endpoint goes now (checked at each send), or why not. */
  check(endpoint: string): Promise<{ destination: Destination } | EndpointProblem>;
  /** The push service says the subscription is gone. */
  gone(deviceId: string): void;
  /** Whether the device is still one (its person may have removed it while a try waited). */
  stillThere(deviceId: string): boolean;
  pushed(deviceId: string): void;
}

type Outcome = { kind: "sent" } | { kind: "gone"; status: number } | { kind: "again"; why: string; afterMs?: number } | { kind: "refused"; why: string };

/**
 * Sends one message to devices, each on its own: encrypted for the device's keys (RFC 8291,
 * aes128gcm) and signed with Pier's VAPID key (RFC 8292), both made by web-push, and posted by
 * Pier to the very address its endpoint was checked to have. A push service that answers 404 or
 * 410 has dropped the subscription, so Pier drops the device; one that fails (no answer, a
 * timeout, 429, 5xx) is tried again a few times; any other answer refuses the push for good.
 * Nothing here is awaited by the raise: a slow push service holds up nothing else.
 */
export class PushDelivery {
  private waits = new Set<ReturnType<typeof setTimeout>>();
  private stopping = new AbortController();

  constructor(private deps: DeliveryDeps) {}

  /** Starts the message's way to each device; returns at once. */
  deliver(devices: Device[], message: PushMessage): void {
    const payload = JSON.stringify(message);
    for (const device of devices) void this.send(device, payload, 0);
  }

  /** Pier stops: pushes under way are cut off and no try again is made. */
  close(): void {
    this.stopping.abort();
    for (const wait of this.waits) clearTimeout(wait);
    this.waits.clear();
  }

  private async send(device: Device, payload: string, tried: number): Promise<void> {
    if (this.stopping.signal.aborted || (tried > 0 && !this.deps.stillThere(device.id))) return;
    const outcome = await this.tryOnce(device, payload).catch((error: unknown): Outcome => ({ kind: "again", why: errorMessage(error) }));
    const service = hostOf(device.endpoint);
    if (outcome.kind === "sent") this.deps.pushed(device.id);
    else if (outcome.kind === "gone") {
      this.deps.gone(device.id);
      console.warn(`[pier] the push service ${service} answered ${outcome.status}: that device's subscription is gone, so Pier removed it.`);
    } else if (outcome.kind === "refused") console.warn(`[pier] a push to ${service} was refused: ${outcome.why}.`);
    else if (tried < RETRY_DELAYS_MS.length && !this.stopping.signal.aborted) {
      const afterMs = outcome.afterMs ?? RETRY_DELAYS_MS[tried]!;
      console.warn(`[pier] a push to ${service} failed (${outcome.why}); trying again in ${Math.round(afterMs / 1000)} s.`);
      const wait = setTimeout(() => {
        this.waits.delete(wait);
        void this.send(device, payload, tried + 1);
      }, afterMs);
      wait.unref?.();
      this.waits.add(wait);
    } else if (!this.stopping.signal.aborted) console.warn(`[pier] a push to ${service} failed (${outcome.why}) after ${tried + 1} tries; Pier gave it up.`);
  }

  private async tryOnce(device: Device, payload: string): Promise<Outcome> {
    const checked = await this.deps.check(device.endpoint);
    if ("problem" in checked) return checked.passing ? { kind: "again", why: checked.problem } : { kind: "refused", why: checked.problem };
    const keys = await this.deps.keys();
    // web-push is loaded at the first push, not at start-up (it takes ~50 ms to import).
    const { generateRequestDetails } = await import("web-push");
    const request = generateRequestDetails({ endpoint: device.endpoint, keys: device.keys }, payload, {
      vapidDetails: { subject: contactOf(device.pierUrl), publicKey: keys.publicKey, privateKey: keys.privateKey },
      TTL: TTL_SECONDS,
      urgency: "high",
      contentEncoding: "aes128gcm",
    });
    const headers: Record<string, string> = { "user-agent": "Pier" };
    // fetch counts the body's length itself.
    for (const [name, value] of Object.entries(request.headers)) if (name.toLowerCase() !== "content-length") headers[name.toLowerCase()] = String(value);
    const res = await fetchDestination(checked.destination, {
      method: "POST",
      headers,
      body: new Uint8Array(request.body),
      signal: AbortSignal.any([AbortSignal.timeout(SEND_TIMEOUT_MS), this.stopping.signal]),
    });
    await res.body?.cancel();
    if (res.ok) return { kind: "sent" };
    if (res.status === 404 || res.status === 410) return { kind: "gone", status: res.status };
    if (res.status === 429 || res.status >= 500) return { kind: "again", why: `it answered ${res.status}`, afterMs: retryAfterMs(res.headers.get("retry-after")) };
    return { kind: "refused", why: `it answered ${res.status}` };
  }
}

/**
 * The contact a push's VAPID signature names (RFC 8292 `sub`): the Pier the person subscribed
 * at, where that is an https address; else a mailto: at its host, since push services take only
 * those two kinds.
 */
export function contactOf(pierUrl: string): string {
  const url = new URL(pierUrl);
  return url.protocol === "https:" ? url.origin : `mailto:pier@${url.hostname}`;
}

function retryAfterMs(header: string | null): number | undefined {
  const seconds = header && /^\d+$/.test(header.trim()) ? Number(header) : NaN;
  return Number.isFinite(seconds) ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : undefined;
}

function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return "(a push service)";
  }
}
