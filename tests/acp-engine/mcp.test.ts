/**
 * An ACP agent gets the session's MCP servers: opencode (from npm, in its pod) is given them in
 * `session/new` as ACP's stdio servers (the pod's launcher, which asks Pier for each server's
 * command and secret environment as it starts it), offers their tools to the model, and calls
 * one. The server is the MCP SDK echo server of tests/mcp-servers, bundled into the repository.
 * (Gemini CLI starts no MCP server in a folder it does not trust, and Pier does not make it trust
 * the repository: its own settings there could then let it run tools without asking.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AcpTestPier, startAcpTestPier } from "../support/acp-engine.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { json } from "../support/pier.ts";
import type { SessionJson } from "../support/sessions.ts";

const API_KEY = "sk-ant-acp-mcp-test-000000000000000000";
const MODEL = "claude-sonnet-4-6";
/** opencode names its sessions with a request of its own, without tools; those are answered apart from the script. */
const isTitleRequest = (body: any) => JSON.stringify(body.system ?? "").includes("title") && !JSON.stringify(body.tools ?? []).includes("bash");
const SECRET = "echo-secret-acp-5d0c1f2e9b7a";
const hashOf = (secret: string) => `sha256:${createHash("sha256").update(secret).digest("hex")}`;

describe("an ACP agent and the session's MCP servers", () => {
  let fake: FakeAnthropic;
  let acp: AcpTestPier;
  let session: SessionJson;

  beforeAll(async () => {
    const bundleDir = mkdtempSync(join(tmpdir(), "pier-acp-echo-"));
    const built = await Bun.build({ entrypoints: [join(import.meta.dir, "..", "mcp-servers", "fixtures", "echo-server.ts")], target: "bun", outdir: bundleDir });
    expect(built.success).toBe(true);
    const server = readFileSync(built.outputs[0]!.path);
    rmSync(bundleDir, { recursive: true, force: true });
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    fake.scriptWhen(isTitleRequest, ...Array.from({ length: 5 }, () => ({ text: "Echo" })));
    acp = await startAcpTestPier("acp-mcp", { ANTHROPIC_BASE_URL: fake.url }, { anthropicApiKey: API_KEY }, { "tools/echo-server.js": server });
    const added = await acp.pier.fetch("/api/config/mcps", json({ name: "echo", command: "bun", args: ["tools/echo-server.js", "--flag"], env: { ECHO_SECRET: SECRET } }, acp.headers()));
    expect(added.status).toBe(201);
    session = await acp.startSession({ model: MODEL, engine: "acp", agent: "opencode" });
    await acp.setPolicy({ mode: "allow_all" });
  }, 600_000);

  afterAll(async () => {
    await acp.close();
    await fake.stop();
  }, 120_000);

  test("opencode offers the MCP server's tools to the model and calls one, which has its secret, in no process's arguments", async () => {
    const chat = await ChatClient.connect(acp.pier.url, session.id, acp.headers());
    const main = () => fake.requests.filter((r) => !isTitleRequest(r.body));
    fake.script({ text: "I see the echo tools." });
    // The first turn waits for opencode's build to be fetched from the registry (once per machine).
    const first = await chat.turn("What tools do you have?", 600_000);
    expect(first.filter((e) => e.type === "error")).toEqual([]);
    const offered = (main().at(-1)!.body.tools ?? []).map((t: { name: string }) => t.name);
    const reveal = offered.find((name: string) => name.includes("echo") && name.includes("reveal"));
    expect(reveal).toBeDefined();

    fake.script({ toolUse: { name: reveal!, input: { label: "acp" } } }, { text: "The echo server answered." });
    const events = await chat.turn("Call reveal with the label acp.", 180_000);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    const call = events.find((e) => e.type === "tool_call")!;
    expect(call.name).toBe(reveal!);
    const result = events.find((e) => e.type === "tool_result" && e.id === call.id)!;
    expect(result.isError).toBe(false);
    // The server's word: its label, its secret (by hash), its arguments, its directory.
    expect(result.output).toContain("label=acp");
    expect(result.output).toContain(`secret=${hashOf(SECRET)}`);
    expect(result.output).toContain("args=--flag");
    expect(result.output).toContain(`cwd=${session.worktreePath}`);
    const ps = await acp.podSh(session, "ps -eo args");
    expect(ps.stdout).toContain("echo-server.js");
    expect(ps.stdout).not.toContain(SECRET);
    chat.close();
  }, 900_000);
});
