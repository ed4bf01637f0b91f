import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { whyNotPublic } from "./public-address.ts";

/**
 * A URL a person gave Pier to call (a "needs you" webhook), pinned to the address Pier checked.
 * A name is resolved once: the addresses that answer are judged, and the request goes to the first
 * of them, never through a second lookup that could answer differently (DNS rebinding). fetch is
 * given that address as the URL's host, with the name kept as the Host header and, over https, as
 * the name the server's certificate must carry (SNI); redirects are never followed.
 */
export interface Destination {
  url: URL;
  /** The IP address that was checked and that the request connects to. */
  address: string;
}

/** Every address a name resolves to, as the system resolver gives them. */
export type Resolve = (hostname: string) => Promise<string[]>;

export const systemResolve: Resolve = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((answer) => answer.address);

/** A destination, or why not: the host has no address, or an address that is not public (a phrase). */
export type Checked = { destination: Destination } | { unknownHost: string } | { notPublic: string };

/**
 * Resolves the URL's host and checks every address it has: with `allowPrivate` false, any address
 * that is not public refuses the whole URL.
 */
export async function checkDestination(url: URL, options: { allowPrivate: boolean; resolve: Resolve }): Promise<Checked> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(host) ? [host] : await options.resolve(host);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) return { unknownHost: host };
  if (!options.allowPrivate) {
    for (const address of addresses) {
      const why = whyNotPublic(address);
      if (why) return { notPublic: address === host ? why : `${host} resolves to ${address}; ${why}` };
    }
  }
  return { destination: { url, address: addresses[0]! } };
}

/** Sends a request to the checked address and nowhere else (no lookup, no redirect). */
export function fetchDestination(destination: Destination, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
  const { url, address } = destination;
  // An address written in the URL is already what was checked (and SNI never carries one).
  if (ipaddr.isValid(url.hostname.replace(/^\[|\]$/g, ""))) return fetch(url, { ...init, redirect: "manual" });
  const direct = new URL(url);
  direct.hostname = ipaddr.parse(address).kind() === "ipv6" ? `[${address}]` : address;
  return fetch(direct, {
    ...init,
    redirect: "manual",
    headers: { ...init.headers, host: url.host },
    ...(url.protocol === "https:" ? { tls: { serverName: url.hostname } } : {}),
  });
}
