import { join, resolve } from "node:path";
import ipaddr from "ipaddr.js";

/**
 * Everything Pier reads from its environment, read and checked once at start-up.
 * A bad value stops start-up with one sentence that names the variable.
 */
export type RuntimeChoice = "auto" | "docker" | "local";

/** An address range: an address and how many of its leading bits count. */
export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface Config {
  port: number;
  /** PIER_PREVIEW_PORT: where web app previews are served, each on its own origin (`<port>-<session>.localhost:<this>`). */
  previewPort: number;
  /** PIER_PREVIEW_DOMAIN: previews at `<port>-<session>.<this>` (a wildcard name at a reverse proxy) instead of `*.localhost`. */
  previewDomain: string | null;
  host: string;
  dataDir: string;
  /** PIER_WORKSPACES_DIR: people's workspaces (clones and worktrees, which pods write); may be another volume. */
  workspacesDir: string;
  /** PIER_DISK_RESERVE_MB: free space on the workspaces' disk kept from pods; null: 5% of it, at most 1 GiB. */
  diskReserveMb: number | null;
  runtime: RuntimeChoice;
  /** DOCKER_HOST: where the Docker engine is; null for the local socket. */
  dockerHost: string | null;
  allowLocalRepos: boolean;
  /** 32-byte key from PIER_SECRET_KEY; null means "use or create data/secret.key". */
  secretKey: Uint8Array<ArrayBuffer> | null;
  cookieSecure: boolean;
  /** PIER_TRUSTED_PROXIES: the reverse proxies whose X-Forwarded-For is believed; none by default. */
  trustedProxies: Cidr[];
  metricsPublic: boolean;
  /** PIER_WEBHOOK_ALLOW_PRIVATE: people's "needs you" webhooks may post to loopback and private networks. */
  webhookAllowPrivate: boolean;
  /** PIER_PUSH_ALLOW_PRIVATE: Web Push endpoints may be on loopback and private networks (and plain http there). */
  pushAllowPrivate: boolean;
  /** PIER_FEATURE_REGISTRY_ALLOW_PRIVATE: devcontainer features may come from registries on loopback and private networks. */
  featureRegistryAllowPrivate: boolean;
  anthropicApiKey: string | null;
  anthropicBaseUrl: string;
  openaiApiKey: string | null;
  /** The OpenAI API, its version included, as the OpenAI SDK takes it. */
  openaiBaseUrl: string;
  geminiApiKey: string | null;
  geminiBaseUrl: string;
  /** PIER_MODEL_RETRY_FIRST_MS: the first wait before a model request is tried again (doubling after), unless the service says how long. */
  modelRetryFirstMs: number;
  githubToken: string | null;
  githubApiUrl: string;
  /** PIER_PR_LOOKUPS_PER_MINUTE: pull request links one session's output may have looked up on GitHub per minute. */
  prLookupsPerMinute: number;
  podNetwork: string;
  /** Where pods reach Pier (for its MCP endpoint), when the default guess would be wrong. */
  podUrl: string | null;
  workspaceImage: string;
  /** Where Pier keeps the programs it gives pods (its own copies of Claude Code); only the server writes it. */
  toolsDir: string;
  /** The npm registry Claude Code's builds are fetched from. */
  npmRegistry: string;
  /** A ready-made terminal holder (pier-pty) to use instead of building one into toolsDir. */
  ptyBinary: string | null;
  /** A ready-made client for pods' sockets (pier-ask) to use instead of building one into toolsDir. */
  askBinary: string | null;
  /** A ready-made preview relay for pods (pier-relay) to use instead of building one into toolsDir. */
  relayBinary: string | null;
  /** A ready-made bridge for pods on other Docker engines (pier-bridge) to use instead of building one into toolsDir. */
  bridgeBinary: string | null;
  /** PIER_TRACE: a file to append each session start's step timings to (see observability/start-trace.ts). */
  traceFile: string | null;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

/** A lowercase DNS name of one or more labels, short enough for `<port>-<session id>.` in front of it. */
const DNS_NAME = /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

const DOCKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]. */
export const IMAGE_REF =
  /^(?:[A-Za-z0-9.-]+(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function loadConfig(env: Env = process.env): Config {
  const port = readPort(env, "PIER_PORT", 7070);
  const previewPort = readPort(env, "PIER_PREVIEW_PORT", 7071);
  if (previewPort !== 0 && previewPort === port) throw new ConfigError(`PIER_PREVIEW_PORT must differ from PIER_PORT (both are ${port}): previews are never served on Pier's own origin.`);
  return {
    port,
    previewPort,
    previewDomain: raw(env, "PIER_PREVIEW_DOMAIN") === undefined ? null : readMatching(env, "PIER_PREVIEW_DOMAIN", DNS_NAME, "", "a lowercase DNS name such as preview.pier.example"),
    host: readString(env, "PIER_HOST", "0.0.0.0"),
    dataDir: resolve(readString(env, "PIER_DATA_DIR", "./data")),
    workspacesDir: resolve(readString(env, "PIER_WORKSPACES_DIR", join(readString(env, "PIER_DATA_DIR", "./data"), "workspaces"))),
    diskReserveMb: raw(env, "PIER_DISK_RESERVE_MB") === undefined ? null : readWhole(env, "PIER_DISK_RESERVE_MB", 0, 0, 10_000_000),
    runtime: readChoice(env, "PIER_RUNTIME", ["auto", "docker", "local"] as const, "auto"),
    dockerHost: readOptional(env, "DOCKER_HOST"),
    allowLocalRepos: readFlag(env, "PIER_ALLOW_LOCAL_REPOS"),
    secretKey: readSecretKey(env),
    cookieSecure: readFlag(env, "PIER_COOKIE_SECURE"),
    trustedProxies: readCidrs(env, "PIER_TRUSTED_PROXIES"),
    metricsPublic: readFlag(env, "PIER_METRICS_PUBLIC"),
    webhookAllowPrivate: readFlag(env, "PIER_WEBHOOK_ALLOW_PRIVATE"),
    pushAllowPrivate: readFlag(env, "PIER_PUSH_ALLOW_PRIVATE"),
    featureRegistryAllowPrivate: readFlag(env, "PIER_FEATURE_REGISTRY_ALLOW_PRIVATE"),
    anthropicApiKey: readOptional(env, "ANTHROPIC_API_KEY"),
    anthropicBaseUrl: readUrl(env, "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
    openaiApiKey: readOptional(env, "OPENAI_API_KEY"),
    openaiBaseUrl: readUrl(env, "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    geminiApiKey: readOptional(env, "GEMINI_API_KEY"),
    geminiBaseUrl: readUrl(env, "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"),
    modelRetryFirstMs: readWhole(env, "PIER_MODEL_RETRY_FIRST_MS", 2000, 1, 60_000),
    githubToken: readOptional(env, "GITHUB_TOKEN"),
    githubApiUrl: readUrl(env, "GITHUB_API_URL", "https://api.github.com"),
    prLookupsPerMinute: readWhole(env, "PIER_PR_LOOKUPS_PER_MINUTE", 30, 1, 10_000),
    podNetwork: readMatching(env, "PIER_POD_NETWORK", DOCKER_NAME, "bridge", "a Docker network name such as bridge or none"),
    podUrl: raw(env, "PIER_POD_URL") === undefined ? null : readUrl(env, "PIER_POD_URL", ""),
    workspaceImage: readMatching(env, "PIER_WORKSPACE_IMAGE", IMAGE_REF, "pier-workspace:latest", "a Docker image reference such as pier-workspace:latest"),
    toolsDir: resolve(readString(env, "PIER_TOOLS_DIR", join(readString(env, "PIER_DATA_DIR", "./data"), "tools"))),
    npmRegistry: readUrl(env, "PIER_NPM_REGISTRY", "https://registry.npmjs.org"),
    ptyBinary: raw(env, "PIER_PTY_BINARY") === undefined ? null : resolve(readString(env, "PIER_PTY_BINARY", "")),
    askBinary: raw(env, "PIER_ASK_BINARY") === undefined ? null : resolve(readString(env, "PIER_ASK_BINARY", "")),
    relayBinary: raw(env, "PIER_RELAY_BINARY") === undefined ? null : resolve(readString(env, "PIER_RELAY_BINARY", "")),
    bridgeBinary: raw(env, "PIER_BRIDGE_BINARY") === undefined ? null : resolve(readString(env, "PIER_BRIDGE_BINARY", "")),
    traceFile: raw(env, "PIER_TRACE") === undefined ? null : resolve(readString(env, "PIER_TRACE", "")),
  };
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

function readString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

function readOptional(env: Env, name: string): string | null {
  const value = raw(env, name);
  if (value === undefined) return null;
  if (/[\s\x00-\x1f\x7f]/.test(value)) {
    throw new ConfigError(`${name} must not contain whitespace or control characters.`);
  }
  return value;
}

function readPort(env: Env, name: string, fallback: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a port number from 0 to 65535, not "${value}".`);
  }
  return port;
}

function readWhole(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const whole = Number(value);
  if (!/^\d+$/.test(value) || whole < min || whole > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${value}".`);
  }
  return whole;
}

function readFlag(env: Env, name: string): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined || value === "0" || value === "false" || value === "no") return false;
  if (value === "1" || value === "true" || value === "yes") return true;
  throw new ConfigError(`${name} must be 1 or 0 (or true/false), not "${env[name]}".`);
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(`${name} must be one of ${choices.join(", ")}, not "${value}".`);
  }
  return value as T;
}

function readUrl(env: Env, name: string, fallback: string): string {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, not "${value}".`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http(s) URL, not "${value}".`);
  }
  return value.replace(/\/+$/, "");
}

function readMatching(env: Env, name: string, pattern: RegExp, fallback: string, what: string): string {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!pattern.test(value)) throw new ConfigError(`${name} must be ${what}, not "${value}".`);
  return value;
}

/** Comma-separated ranges (`127.0.0.1/32, ::1/128`); a bare address is a range of one. */
function readCidrs(env: Env, name: string): Cidr[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  return value.split(",").map((part): Cidr => {
    const text = part.trim();
    // Only the usual spellings: ipaddr.js would also read "10" as 0.0.0.10.
    if (ipaddr.IPv4.isValidCIDRFourPartDecimal(text) || ipaddr.IPv6.isValidCIDR(text)) return ipaddr.parseCIDR(text);
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) return [ipaddr.IPv4.parse(text), 32];
    if (ipaddr.IPv6.isValid(text)) return [ipaddr.IPv6.parse(text), 128];
    throw new ConfigError(`${name} must be addresses or ranges such as 127.0.0.1/32 or 10.0.0.0/8, separated by commas; "${text}" is neither.`);
  });
}

/** PIER_SECRET_KEY: 32 bytes as 64 hex characters or as base64. */
function readSecretKey(env: Env): Uint8Array<ArrayBuffer> | null {
  const value = raw(env, "PIER_SECRET_KEY");
  if (value === undefined) return null;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Uint8Array.from(Buffer.from(value, "hex"));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, "base64");
    if (bytes.length === 32) return Uint8Array.from(bytes);
  }
  throw new ConfigError(
    "PIER_SECRET_KEY must be 32 bytes written as 64 hex characters or as base64 (try: openssl rand -hex 32).",
  );
}
