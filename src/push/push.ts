import type { Actor } from "../auth/actor.ts";
import type { Db } from "../infra/db.ts";
import { systemResolve } from "../infra/destination.ts";
import { errorMessage } from "../infra/errors.ts";
import type { EventBus, PierEvents } from "../infra/events.ts";
import type { SecretBox } from "../infra/secret-box.ts";
import { PushDelivery } from "./delivery.ts";
import { checkEndpoint } from "./endpoint.ts";
import { type MessageSources, pushMessage } from "./message.ts";
import { ServerKeys } from "./server-keys.ts";
import { type PublicDevice, PushSubscriptions } from "./subscriptions.ts";

export interface PushDeps {
  db: Db;
  bus: EventBus;
  box: SecretBox;
  /** PIER_PUSH_ALLOW_PRIVATE: endpoints may be on loopback and private networks (a push service on the LAN; the tests). */
  allowPrivate: boolean;
  sources: MessageSources;
  /** Whether the session's person is looking at it now: then nothing is pushed. */
  isLooking(sessionId: string): boolean;
}

/**
 * Web Push: "needs you" on a person's phone or desktop with Pier closed. Each raise (see
 * attention/raised.ts) goes once to every device of the session's person, unless they are
 * looking at that session; the service worker (src/client/service-worker.ts) shows it and opens
 * the session when it is tapped.
 */
export class Push {
  private keys: ServerKeys;
  private subscriptions: PushSubscriptions;
  private delivery: PushDelivery;
  private stop: () => void;

  constructor(private deps: PushDeps) {
    this.keys = new ServerKeys({ db: deps.db, box: deps.box });
    this.subscriptions = new PushSubscriptions({ db: deps.db, box: deps.box });
    this.delivery = new PushDelivery({
      keys: () => this.keys.keys(),
      check: (endpoint) => this.check(endpoint),
      gone: (id) => this.subscriptions.forget(id),
      stillThere: (id) => this.subscriptions.exists(id),
      pushed: (id) => this.subscriptions.pushed(id),
    });
    this.stop = deps.bus.subscribe("attention.raised", null, (raised) => {
      this.raised(raised).catch((error: unknown) => console.error(`[pier] a "needs you" push could not be made: ${errorMessage(error)}`));
    });
  }

  /** The VAPID public key browsers subscribe with (made on first use). */
  async publicKey(): Promise<string> {
    return (await this.keys.keys()).publicKey;
  }

  devices(actor: Actor): PublicDevice[] {
    return this.subscriptions.list(actor);
  }

  /** Saves the browser's subscription for the actor; `pierUrl` is where they use Pier. */
  subscribe(actor: Actor, body: unknown, pierUrl: string): Promise<PublicDevice> {
    return this.subscriptions.add(actor, body, pierUrl, async (endpoint) => {
      const checked = await this.check(endpoint);
      return "problem" in checked ? checked.problem : null;
    });
  }

  remove(actor: Actor, id: string): void {
    this.subscriptions.remove(actor, id);
  }

  close(): void {
    this.stop();
    this.delivery.close();
  }

  private async raised(raised: PierEvents["attention.raised"]): Promise<void> {
    if (raised.sessionId && this.deps.isLooking(raised.sessionId)) return;
    const devices = await this.subscriptions.devicesOf(raised.userId);
    if (devices.length === 0) return;
    this.delivery.deliver(devices, pushMessage(raised, this.deps.sources));
  }

  private check(endpoint: string) {
    return checkEndpoint(endpoint, { allowPrivate: this.deps.allowPrivate, resolve: systemResolve });
  }
}
