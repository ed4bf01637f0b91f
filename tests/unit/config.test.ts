import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, loadConfig } from "../../src/infra/config.ts";

describe("loadConfig", () => {
  test("defaults suit a fresh clone", () => {
    const config = loadConfig({});
    expect(config.port).toBe(7070);
    expect(config.dataDir).toBe(resolve("./data"));
    expect(config.runtime).toBe("auto");
    expect(config.allowLocalRepos).toBe(false);
    expect(config.secretKey).toBeNull();
    expect(config.podNetwork).toBe("bridge");
    expect(config.workspaceImage).toBe("pier-workspace:latest");
    expect(config.anthropicBaseUrl).toBe("https://api.anthropic.com");
    expect(config.workspacesDir).toBe(resolve("./data/workspaces"));
    expect(config.diskReserveMb).toBeNull();
  });

  test("reads every variable", () => {
    const config = loadConfig({
      PIER_PORT: "8080",
      PIER_DATA_DIR: "/srv/pier",
      PIER_RUNTIME: "local",
      PIER_ALLOW_LOCAL_REPOS: "1",
      PIER_SECRET_KEY: "ab".repeat(32),
      PIER_COOKIE_SECURE: "true",
      ANTHROPIC_API_KEY: "sk-ant-x",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9999/",
      GITHUB_TOKEN: "ghp_x",
      GITHUB_API_URL: "https://ghe.example.com/api/v3",
      PIER_POD_NETWORK: "none",
      PIER_WORKSPACE_IMAGE: "registry.example.com:5000/team/workspace:2",
    });
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe("/srv/pier");
    expect(config.runtime).toBe("local");
    expect(config.allowLocalRepos).toBe(true);
    expect(config.secretKey).toEqual(new Uint8Array(32).fill(0xab));
    expect(config.cookieSecure).toBe(true);
    expect(config.anthropicBaseUrl).toBe("http://127.0.0.1:9999");
    expect(config.githubApiUrl).toBe("https://ghe.example.com/api/v3");
    expect(config.podNetwork).toBe("none");
    expect(config.workspaceImage).toBe("registry.example.com:5000/team/workspace:2");
  });

  test("workspaces follow the data dir unless PIER_WORKSPACES_DIR puts them elsewhere; PIER_DISK_RESERVE_MB is a whole number", () => {
    expect(loadConfig({ PIER_DATA_DIR: "/srv/pier" }).workspacesDir).toBe("/srv/pier/workspaces");
    expect(loadConfig({ PIER_DATA_DIR: "/srv/pier", PIER_WORKSPACES_DIR: "/mnt/work" }).workspacesDir).toBe("/mnt/work");
    expect(loadConfig({ PIER_DISK_RESERVE_MB: "2048" }).diskReserveMb).toBe(2048);
  });

  test("PIER_TRUSTED_PROXIES: none by default; ranges and bare addresses, IPv4 and IPv6", () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    const ranges = loadConfig({ PIER_TRUSTED_PROXIES: "127.0.0.1/32, 10.0.0.0/8,::1, fd00::/8" }).trustedProxies;
    expect(ranges.map(([address, bits]) => `${address}/${bits}`)).toEqual(["127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8"]);
  });

  test("previews listen on PIER_PREVIEW_PORT (7071 by default) and live under PIER_PREVIEW_DOMAIN when one is given", () => {
    expect(loadConfig({}).previewPort).toBe(7071);
    expect(loadConfig({}).previewDomain).toBeNull();
    expect(loadConfig({ PIER_PREVIEW_PORT: "0" }).previewPort).toBe(0);
    expect(loadConfig({ PIER_PREVIEW_DOMAIN: "preview.pier.example" }).previewDomain).toBe("preview.pier.example");
  });

  test("accepts a base64 secret key", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    expect(loadConfig({ PIER_SECRET_KEY: key }).secretKey).toEqual(new Uint8Array(32).fill(7));
  });

  const bad: Array<[string, string, RegExp]> = [
    ["PIER_PORT", "70000", /PIER_PORT/],
    ["PIER_PORT", "80a", /PIER_PORT/],
    ["PIER_RUNTIME", "podman", /PIER_RUNTIME must be one of auto, docker, local/],
    ["PIER_ALLOW_LOCAL_REPOS", "maybe", /PIER_ALLOW_LOCAL_REPOS/],
    ["PIER_SECRET_KEY", "too-short", /PIER_SECRET_KEY/],
    ["ANTHROPIC_BASE_URL", "ftp://x", /ANTHROPIC_BASE_URL/],
    ["GITHUB_API_URL", "not a url", /GITHUB_API_URL/],
    ["PIER_POD_NETWORK", "-bad", /PIER_POD_NETWORK/],
    ["PIER_WORKSPACE_IMAGE", "UPPER/Case", /PIER_WORKSPACE_IMAGE/],
    ["ANTHROPIC_API_KEY", "sk ant", /ANTHROPIC_API_KEY/],
    ["PIER_TRUSTED_PROXIES", "127.0.0.1/33", /PIER_TRUSTED_PROXIES.*"127.0.0.1\/33"/],
    ["PIER_TRUSTED_PROXIES", "10.0.0.0/8, proxy.lan", /PIER_TRUSTED_PROXIES.*"proxy.lan"/],
    ["PIER_TRUSTED_PROXIES", "10", /PIER_TRUSTED_PROXIES/],
    ["PIER_DISK_RESERVE_MB", "1.5", /PIER_DISK_RESERVE_MB must be a whole number/],
    ["PIER_PREVIEW_PORT", "65536", /PIER_PREVIEW_PORT/],
    ["PIER_PREVIEW_DOMAIN", "Preview.Pier.Example", /PIER_PREVIEW_DOMAIN must be a lowercase DNS name/],
    ["PIER_PREVIEW_DOMAIN", "localhost", /PIER_PREVIEW_DOMAIN/],
    ["PIER_PREVIEW_DOMAIN", "*.preview.example", /PIER_PREVIEW_DOMAIN/],
    ["PIER_PREVIEW_DOMAIN", "https://preview.example", /PIER_PREVIEW_DOMAIN/],
  ];
  for (const [name, value, message] of bad) {
    test(`${name}=${JSON.stringify(value)} stops start-up with a sentence naming it`, () => {
      expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(message);
    });
  }

  test("a bad secret key is never echoed in the error", () => {
    try {
      loadConfig({ PIER_SECRET_KEY: "hunter2-secret" });
      throw new Error("expected a ConfigError");
    } catch (error) {
      expect(String(error)).not.toContain("hunter2-secret");
    }
  });
});
