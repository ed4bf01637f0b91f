import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/infra/config.ts";
import { mcpJson, pierMcpServer, podUrlOfPier } from "../../src/mcp-endpoint/pod-url.ts";

describe("where a pod reaches Pier", () => {
  const config = (env: Record<string, string>) => loadConfig({ PIER_DATA_DIR: "/tmp/pier-unused", ...env });

  test("PIER_POD_URL wins; the local runtime and host-network pods use loopback", () => {
    expect(podUrlOfPier(config({ PIER_POD_URL: "https://pier.example.test" }), "docker", 3000)).toBe("https://pier.example.test");
    expect(podUrlOfPier(config({}), "local", 3001)).toBe("http://127.0.0.1:3001");
    expect(podUrlOfPier(config({ PIER_POD_NETWORK: "host" }), "docker", 3002)).toBe("http://127.0.0.1:3002");
  });

  test("bridge pods reach the host's gateway only when Pier listens beyond loopback; pods with no network reach nothing", () => {
    expect(podUrlOfPier(config({ PIER_HOST: "0.0.0.0", PIER_POD_NETWORK: "bridge" }), "docker", 3000)).toBe("http://host.docker.internal:3000");
    expect(podUrlOfPier(config({ PIER_HOST: "127.0.0.1", PIER_POD_NETWORK: "bridge" }), "docker", 3000)).toBeNull();
    expect(podUrlOfPier(config({ PIER_HOST: "0.0.0.0", PIER_POD_NETWORK: "none" }), "docker", 3000)).toBeNull();
  });

  test(".mcp.json names the endpoint and the helper that asks for the token, never the token", () => {
    const written = JSON.parse(mcpJson({ pier: pierMcpServer("http://127.0.0.1:3000", "/srv/pods/x/git-credential-pier mcp") })) as { mcpServers: { pier: Record<string, string> } };
    expect(written.mcpServers.pier).toEqual({ type: "http", url: "http://127.0.0.1:3000/mcp", headersHelper: "/srv/pods/x/git-credential-pier mcp" });
  });
});
