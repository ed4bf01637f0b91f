/**
 * One MCP server in a pod, on the local runtime (so the test can look for its process): a server
 * that answers its handshake but never lists its tools is given up after the time allowed, and
 * one that ignores its stdin closing is ended all the same, in both cases with nothing of it left.
 */
import { describe, expect, test } from "bun:test";
import { McpStartFailure, PodMcpServer } from "../../src/mcp-servers/pod-mcp-server.ts";
import { LocalRuntime } from "../../src/runtime/local-runtime.ts";

const place = { runtime: new LocalRuntime(), pod: { id: "local", image: "local" }, cwd: "/tmp" };

/**
 * A server in bash: it answers initialize (with the version asked for) and, when `lists`, tools/list
 * with no tools; it ignores everything else, and when its stdin closes it goes on as `marker`.
 */
function stubborn(marker: string, lists: boolean): string[] {
  const script = [
    "while read -r line; do",
    `  id=$(printf %s "$line" | sed -nE 's/.*"id":([0-9]+).*/\\1/p')`,
    `  version=$(printf %s "$line" | sed -nE 's/.*"protocolVersion":"([^"]+)".*/\\1/p')`,
    "  case $line in",
    `    *'"initialize"'*) printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"%s","capabilities":{"tools":{}},"serverInfo":{"name":"stubborn","version":"1"}}}\\n' "$id" "$version" ;;`,
    lists ? `    *'"tools/list"'*) printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[]}}\\n' "$id" ;;` : "",
    "  esac",
    "done",
    `exec -a ${marker} sleep 600`,
  ].join("\n");
  return ["bash", "-c", script];
}

async function running(marker: string): Promise<boolean> {
  const ps = Bun.spawn(["ps", "-eo", "args"], { stdout: "pipe" });
  const out = await new Response(ps.stdout).text();
  return out.split("\n").some((line) => line.startsWith(marker));
}

describe("an MCP server in a pod", () => {
  test("one that never lists its tools is given up after the time allowed, and ended", async () => {
    const marker = `pier-test-silent-${crypto.randomUUID().slice(0, 8)}`;
    const started = PodMcpServer.start("silent", place, stubborn(marker, false), "test", 1500);
    await expect(started).rejects.toBeInstanceOf(McpStartFailure);
    await expect(started).rejects.toThrow("it did not answer within 1.5 s");
    expect(await running(marker)).toBe(false);
  }, 30_000);

  test("one that ignores its stdin closing is ended when it is stopped", async () => {
    const marker = `pier-test-stubborn-${crypto.randomUUID().slice(0, 8)}`;
    const server = await PodMcpServer.start("stubborn", place, stubborn(marker, true), "test", 10_000);
    expect(server.tools).toEqual([]);
    let told = "";
    server.onStopped((reason) => (told = reason));
    await server.stop();
    expect(await running(marker)).toBe(false);
    expect(told).toBe("");
    expect(await server.call("anything", {}, new AbortController().signal)).toEqual({ isError: true, output: "The MCP server stubborn has stopped; its tools are no longer available." });
  }, 30_000);
});
