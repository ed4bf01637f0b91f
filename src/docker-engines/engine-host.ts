import Docker from "dockerode";
import { isIP } from "node:net";
import { invalid } from "../infra/errors.ts";
import type { TlsFiles } from "./engine-input.ts";

/** Where an engine is, read from its DOCKER_HOST-style address. */
export type EngineHost =
  | { protocol: "unix"; socketPath: string }
  | { protocol: "tcp"; host: string; port: number }
  | { protocol: "ssh"; host: string; port: number; username: string | undefined };

const HOST_RULE = "Host must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host[:port], as DOCKER_HOST takes it.";

/**
 * Reads an engine's address, or a 400 naming the field. Plain tcp:// is taken only to a loopback
 * address: anything else would hand whoever is on the network between Pier and the engine the
 * engine itself (root on its machine), so it must come with TLS client certificates.
 */
export function readEngineHost(address: string, withTls: boolean): EngineHost {
  const scheme = address.match(/^([a-z]+):\/\//)?.[1];
  if (scheme === "unix") {
    const socketPath = address.slice("unix://".length);
    if (!socketPath.startsWith("/") || /[\x00-\x1f\x7f]/.test(socketPath)) throw invalid("host", "A unix:// host must name the socket's absolute path, such as unix:///var/run/docker.sock.");
    if (withTls) throw invalid("tls", "TLS goes with a tcp:// host; a unix socket is reached without it.");
    return { protocol: "unix", socketPath };
  }
  if (scheme !== "tcp" && scheme !== "ssh") throw invalid("host", HOST_RULE);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw invalid("host", HOST_RULE);
  }
  if (!url.hostname || (url.pathname !== "" && url.pathname !== "/") || url.search || url.hash || url.password) throw invalid("host", HOST_RULE);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (scheme === "ssh") {
    if (withTls) throw invalid("tls", "TLS goes with a tcp:// host; ssh:// is secured by SSH itself.");
    return { protocol: "ssh", host, port: Number(url.port || 22), username: url.username ? decodeURIComponent(url.username) : undefined };
  }
  if (url.username) throw invalid("host", HOST_RULE);
  if (!withTls && !isLoopback(host)) {
    throw invalid("tls", "A tcp:// engine other than on this machine's loopback needs TLS (ca, cert and key): the Docker API unprotected on a network is root on its machine for anyone who reaches it.");
  }
  return { protocol: "tcp", host, port: Number(url.port || (withTls ? 2376 : 2375)) };
}

function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/**
 * The dockerode client for an engine. Over ssh:// the engine is reached as the docker CLI does
 * (`docker system dial-stdio` on the far side), authenticated by the keys in Pier's own SSH agent
 * (SSH_AUTH_SOCK): no private key is kept by Pier.
 */
export function engineClient(host: EngineHost, tls: TlsFiles | null): Docker {
  if (host.protocol === "unix") return new Docker({ socketPath: host.socketPath });
  if (host.protocol === "ssh") {
    return new Docker({ protocol: "ssh", host: host.host, port: host.port, username: host.username, sshOptions: { agent: process.env.SSH_AUTH_SOCK } });
  }
  return tls
    ? new Docker({ protocol: "https", host: host.host, port: host.port, ca: tls.ca, cert: tls.cert, key: tls.key })
    : new Docker({ protocol: "http", host: host.host, port: host.port });
}
