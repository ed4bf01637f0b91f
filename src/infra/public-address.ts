import ipaddr from "ipaddr.js";

/**
 * Whether an IP address is one Pier may connect to for a person: a public unicast address and
 * nothing else. ipaddr.js knows the special ranges; what it does not do is look inside the IPv6
 * forms that carry an IPv4 address (mapped, translated, NAT64, 6to4, Teredo), which reach that
 * IPv4 address however public the wrapping looks. Those are judged by the address they carry.
 */

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

/** IANA's global unicast space: every public IPv6 address is in it. */
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");

/** The IPv6 forms that carry an IPv4 address, and where it sits in each. */
const CARRIERS: { range: [IPv6, number]; name: string; carried: (ip: IPv6) => IPv4[] }[] = [
  { range: ipaddr.IPv6.parseCIDR("::ffff:0:0/96"), name: "an IPv4-mapped IPv6 address", carried: (ip) => [lastBits(ip)] },
  { range: ipaddr.IPv6.parseCIDR("::ffff:0:0:0/96"), name: "an IPv4-translated IPv6 address", carried: (ip) => [lastBits(ip)] },
  { range: ipaddr.IPv6.parseCIDR("64:ff9b::/96"), name: "a NAT64 address", carried: (ip) => [lastBits(ip)] },
  { range: ipaddr.IPv6.parseCIDR("2002::/16"), name: "a 6to4 address", carried: (ip) => [ipv4Of(ip.parts[1]!, ip.parts[2]!)] },
  // Teredo: the server's address in clear, the client's with every bit flipped.
  {
    range: ipaddr.IPv6.parseCIDR("2001::/32"),
    name: "a Teredo address",
    carried: (ip) => [ipv4Of(ip.parts[2]!, ip.parts[3]!), ipv4Of(~ip.parts[6]! & 0xffff, ~ip.parts[7]! & 0xffff)],
  },
];

/** RFC 8215's local-use NAT64 prefix: not global, and where the IPv4 address sits depends on a prefix length only the network knows. */
const LOCAL_NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b:1::/48");

const RANGE_NAMES: Record<string, string> = {
  loopback: "a loopback address (this machine)",
  private: "a private network address",
  linkLocal: "a link-local address (such as a cloud's metadata service)",
  carrierGradeNat: "a carrier-grade NAT address",
  uniqueLocal: "a unique-local (private) IPv6 address",
  unspecified: "the unspecified address (this machine)",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
};

/** Null for a public unicast address; otherwise why not, as a phrase ("127.0.0.1 is a loopback address (this machine)"). */
export function whyNotPublic(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const ip = ipaddr.parse(address);
  if (ip.kind() === "ipv4") {
    const kind = notPublicKindIPv4(ip as IPv4);
    return kind ? `${ip} is ${kind}` : null;
  }
  const v6 = ip as IPv6;
  if (v6.match(LOCAL_NAT64)) return `${v6} is a local-use NAT64 address, not a public one`;
  for (const carrier of CARRIERS) {
    if (!v6.match(carrier.range)) continue;
    for (const carried of carrier.carried(v6)) {
      const kind = notPublicKindIPv4(carried);
      if (kind) return `${v6} is ${carrier.name} carrying ${carried}, which is ${kind}`;
    }
    return null;
  }
  const range = v6.range();
  if (range !== "unicast" || !v6.match(GLOBAL_UNICAST)) return `${v6} is ${RANGE_NAMES[range] ?? "not a public unicast address"}`;
  return null;
}

function notPublicKindIPv4(ip: IPv4): string | null {
  const range = ip.range();
  return range === "unicast" ? null : (RANGE_NAMES[range] ?? "not a public unicast address");
}

function lastBits(ip: IPv6): IPv4 {
  return ipv4Of(ip.parts[6]!, ip.parts[7]!);
}

function ipv4Of(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}
