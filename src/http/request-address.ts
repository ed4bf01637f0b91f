import type { Cidr } from "../infra/config.ts";
import { clientAddress } from "./client-address.ts";

type Server = Parameters<typeof clientAddress>[1];

const addresses = new WeakMap<Request, string>();

/**
 * Notes the client's address (see clientAddress) as each request arrives, in the app's request
 * hook, where the server that knows the peer is at hand; the person the request acts as carries it
 * from there (requireActor, pageActor) into the audit log's entries.
 */
export function noteRequestAddress(trustedProxies: readonly Cidr[], server: Server, request: Request): void {
  addresses.set(request, clientAddress(trustedProxies, server, request));
}

/** The address noted for this request, or undefined for one that came another way (a test's own Request). */
export function requestAddress(request: Request): string | undefined {
  return addresses.get(request);
}
