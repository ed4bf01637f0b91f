/**
 * The listening TCP sockets in the text of Linux's /proc/net/tcp and /proc/net/tcp6 (one after
 * the other, as `cat` prints both), for pods whose relay is not connected: the relay reads the
 * same files itself (pier-relay.c) and also says which process holds each port.
 *
 * The text comes out of a pod, so it is read as a pod's words: a line that is not a socket's
 * line as the kernel writes it is skipped, and at most LISTED_MAX sockets are taken.
 */

/** As many listening sockets as a relay's list may name (LIST_ENTRIES_MAX in relay-wire.ts). */
export const LISTED_MAX = 512;

/** The kernel's state number for a listening socket (TCP_LISTEN in include/net/tcp_states.h). */
const LISTEN = "0A";

/**
 * `sl: local_address rem_address st …`: the local address is 8 hex digits (IPv4) or 32 (IPv6),
 * the port 4, the state 2.
 */
const SOCKET_LINE = /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+[0-9A-Fa-f]+:[0-9A-Fa-f]{4}\s+([0-9A-Fa-f]{2})\s/;

export interface ProcNetSocket {
  port: number;
  /** The address it listens on, written as usual (`0.0.0.0`, `127.0.0.1`, `::`, `::1`). */
  address: string;
}

/** The sockets in state LISTEN, in the order the kernel lists them. */
export function listeningSockets(text: string): ProcNetSocket[] {
  const found: ProcNetSocket[] = [];
  for (const line of text.split("\n")) {
    if (found.length >= LISTED_MAX) break;
    const match = SOCKET_LINE.exec(line);
    if (!match || match[3]!.toUpperCase() !== LISTEN) continue;
    const port = Number.parseInt(match[2]!, 16);
    if (port === 0) continue;
    found.push({ port, address: addressText(match[1]!) });
  }
  return found;
}

/**
 * The kernel prints an address as 32-bit words, each as a number in its own byte order (`%08X`
 * of the word): little-endian on the machines Pier's pods run on (x86-64, arm64), so each word's
 * bytes are read backwards. 127.0.0.1 is `0100007F`; ::1 is `00000000000000000000000001000000`.
 */
function addressText(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let byte = 6; byte >= 0; byte -= 2) bytes.push(Number.parseInt(hex.slice(word + byte, word + byte + 2), 16));
  }
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // The URL parser writes an IPv6 address in its shortest usual form (RFC 5952: "::1", "::").
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}
