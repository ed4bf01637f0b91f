import ipaddr from "ipaddr.js";
import type { Cidr } from "../infra/config.ts";

type Server = { requestIP(request: Request): { address: string } | null } | null;

/**
 * The address a request came from, as the sign-in limits count it. That is the peer that
 * connected, unless the peer is one of the trusted proxies (PIER_TRUSTED_PROXIES): then its
 * `X-Forwarded-For` is read from the right, where each proxy appended the address it heard from,
 * and the first address that is not itself a trusted proxy is the client. What lies further left
 * was written by the client and proves nothing; nothing is believed when no proxy is trusted.
 */
export function clientAddress(trustedProxies: readonly Cidr[], server: Server, request: Request): string {
  return clientBehind(trustedProxies, server?.requestIP(request)?.address, request.headers.get("x-forwarded-for"));
}

/** The same, from the connection's peer address and the request's X-Forwarded-For (for node:http's requests). */
export function clientBehind(trustedProxies: readonly Cidr[], peer: string | undefined, forwardedFor: string | null | undefined): string {
  if (!peer || !ipaddr.isValid(peer)) return peer ?? "unknown";
  let client = ipaddr.process(peer);
  if (trustedProxies.length === 0) return client.toString();
  const forwarded = (forwardedFor ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  while (isTrusted(client, trustedProxies)) {
    const next = forwarded.pop();
    const address = next === undefined ? null : parseForwarded(next);
    if (!address) break;
    client = address;
  }
  return client.toString();
}

function isTrusted(address: ipaddr.IPv4 | ipaddr.IPv6, ranges: readonly Cidr[]): boolean {
  return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

/** An address as proxies write it: bare, or with a port (`203.0.113.9:4711`, `[2001:db8::1]:4711`). */
function parseForwarded(entry: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = entry.match(/^\[([^\]]+)\](?::\d+)?$/)?.[1] ?? entry.match(/^(\d+\.\d+\.\d+\.\d+):\d+$/)?.[1] ?? entry;
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !ipaddr.IPv6.isValid(bare)) return null;
  return ipaddr.process(bare);
}
