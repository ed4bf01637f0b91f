/**
 * Reading listening sockets out of /proc/net/tcp and tcp6 (the list of a pod without a relay):
 * IPv4 words little-endian, IPv6 as four such words, LISTEN only, ports in hex, lines a pod could
 * have forged skipped, the count bounded; and this machine's own files, with servers of ours in them.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { LISTED_MAX, listeningSockets } from "../../src/previews/proc-net.ts";

const TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const TCP6_HEADER = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const ipv4 = (sl: number, local: string, remote: string, state: string) =>
  `   ${sl}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${40000 + sl} 1 0000000000000000 100 0 0 10 0`;
const ipv6 = (sl: number, local: string, remote: string, state: string) =>
  `   ${sl}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${50000 + sl} 1 0000000000000000 100 0 0 10 0`;

/** What `cat /proc/net/tcp /proc/net/tcp6` prints in a pod with a few servers and a connection or two. */
const CAT = [
  TCP_HEADER,
  ipv4(0, "0100007F:0BB8", "00000000:0000", "0A"), // 127.0.0.1:3000, listening
  ipv4(1, "00000000:1F40", "00000000:0000", "0A"), // 0.0.0.0:8000, listening
  ipv4(2, "0100007F:0BB8", "0100007F:D2F0", "01"), // a connection to :3000, established
  ipv4(3, "0100007F:D2F0", "0100007F:0BB8", "06"), // its other end, in TIME_WAIT
  ipv4(4, "0101A8C0:0050", "00000000:0000", "0a"), // 192.168.1.1:80, lower-case hex
  TCP6_HEADER,
  ipv6(0, "00000000000000000000000000000000:1435", "00000000000000000000000000000000:0000", "0A"), // [::]:5173
  ipv6(1, "00000000000000000000000001000000:0FA0", "00000000000000000000000000000000:0000", "0A"), // [::1]:4000
  ipv6(2, "0000000000000000FFFF00000100007F:1F90", "00000000000000000000000000000000:0000", "0A"), // [::ffff:127.0.0.1]:8080
  ipv6(3, "B80D0120000000000000000001000000:01BB", "00000000000000000000000000000000:0000", "0A"), // [2001:db8::1]:443
  ipv6(4, "00000000000000000000000001000000:0FA0", "00000000000000000000000001000000:E290", "01"), // a connection to [::1]:4000
  "",
].join("\n");

describe("listening sockets in /proc/net/tcp{,6}", () => {
  test("each listening socket with its port and address; connections are not listed", () => {
    expect(listeningSockets(CAT)).toEqual([
      { port: 3000, address: "127.0.0.1" },
      { port: 8000, address: "0.0.0.0" },
      { port: 80, address: "192.168.1.1" },
      { port: 5173, address: "::" },
      { port: 4000, address: "::1" },
      { port: 8080, address: "::ffff:7f00:1" },
      { port: 443, address: "2001:db8::1" },
    ]);
  });

  test("lines that are not the kernel's socket lines are skipped, whatever they say", () => {
    const forged = [
      TCP_HEADER,
      "   0: 0100007F:0BB8", // cut short
      "   1: 0100007F0:0BB8 00000000:0000 0A 00000000:00000000", // nine hex digits
      "   2: 0100007F:BB8 00000000:0000 0A 00000000:00000000", // three-digit port
      "   3: 0100007F:0000 00000000:0000 0A 00000000:00000000", // port 0
      "   4: 0100007Z:0BB8 00000000:0000 0A 00000000:00000000", // not hex
      "<script>alert(1)</script>",
      ipv4(5, "0100007F:0BB9", "00000000:0000", "0A"),
    ].join("\n");
    expect(listeningSockets(forged)).toEqual([{ port: 3001, address: "127.0.0.1" }]);
    expect(listeningSockets("")).toEqual([]);
  });

  test(`at most ${LISTED_MAX} sockets are taken from however long a text`, () => {
    const lines = Array.from({ length: LISTED_MAX + 100 }, (_, i) => ipv4(i, `0100007F:${(1000 + i).toString(16).toUpperCase().padStart(4, "0")}`, "00000000:0000", "0A"));
    const found = listeningSockets([TCP_HEADER, ...lines].join("\n"));
    expect(found).toHaveLength(LISTED_MAX);
    expect(found.at(-1)).toEqual({ port: 1000 + LISTED_MAX - 1, address: "127.0.0.1" });
  });

  test("this machine's own /proc/net/tcp and tcp6 list servers of ours, on the addresses they took", async () => {
    const listen = (host: string) =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer().once("error", reject);
        server.listen(0, host, () => resolve(server));
      });
    const servers = [await listen("127.0.0.1"), await listen("0.0.0.0"), await listen("::")];
    try {
      const ports = servers.map((server) => (server.address() as { port: number }).port);
      const tcp6 = (() => {
        try {
          return readFileSync("/proc/net/tcp6", "utf8");
        } catch {
          return "";
        }
      })();
      const found = listeningSockets(readFileSync("/proc/net/tcp", "utf8") + tcp6);
      expect(found).toContainEqual({ port: ports[0]!, address: "127.0.0.1" });
      expect(found).toContainEqual({ port: ports[1]!, address: "0.0.0.0" });
      // Where the machine has IPv6, "::" is a tcp6 socket; without it, the server fell back to IPv4's 0.0.0.0.
      expect(found).toContainEqual({ port: ports[2]!, address: tcp6 ? "::" : "0.0.0.0" });
    } finally {
      for (const server of servers) server.close();
    }
  });
});
