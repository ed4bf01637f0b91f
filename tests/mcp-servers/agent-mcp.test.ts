/**
 * The chat's agent and MCP servers, for real: a small MCP server written with the MCP SDK
 * (fixtures/echo-server.ts, bundled by Bun into one file and committed to the repo) runs with
 * Bun in a Docker pod, started through the pod's launcher. The model (the suite's fake Anthropic
 * API) is offered its tools as mcp__echo__<tool> with their schemas and calls one, whose output
 * proves it got its secret from its environment (by its hash), while no file, no process's
 * arguments, no API answer, no log line and no byte of the database holds it. Servers that exit at once or print
 * garbage are told in the chat once and the turn goes on; a server that dies mid-session is told
 * and its tools go; a changed server restarts; an interrupt cancels a call; ending the session
 * leaves no server running in the pod.
 *
 * Docker rather than the local runtime, because the point is the pod: the secret must not show
 * in the pod's process list or files, and the servers must not outlive the session in it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-agent-mcp-test";
const SECRET = "echo-secret-4b9f0c2e7d1a6e53";
const NEW_SECRET = "echo-secret-rotated-88d1c0ffee";
/** What the server says of its secret: its hash, so the transcript proves it without holding it. */
const hashOf = (secret: string) => `sha256:${createHash("sha256").update(secret).digest("hex")}`;

let anthropic: FakeAnthropic;
let pier: TestPier;
let cookie: string;
let repoId: string;
let session: SessionJson;
let chat: ChatClient;
let echoId: string;
const logged: string[] = [];
const original = { log: console.log, info: console.info, warn: console.warn, error: console.error };

const api = async (method: string, path: string, body?: unknown) => {
  const res = await pier.fetch(path, { method, headers: { cookie, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
  return { text, body: text ? JSON.parse(text) : null };
};
/** A command in the session's pod; never synchronous, or Pier, in this process, could not answer its socket. */
const inPod = async (...argv: string[]) => {
  const child = Bun.spawn(["docker", "exec", session.podId!, ...argv], { stdout: "pipe", stderr: "pipe" });
  const [stdout] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return stdout;
};
const processes = () => inPod("ps", "-eo", "args");
const errorsOf = (events: Array<Record<string, any>>) => events.filter((e) => e.type === "error").map((e) => String(e.message));
const resultOf = (events: Array<Record<string, any>>) => events.find((e) => e.type === "tool_result")!;
/** The tools the model was offered in the latest request to it. */
const offered = () => (anthropic.requests.at(-1)!.body.tools as Array<{ name: string; input_schema: unknown }>).map((t) => t.name);

beforeAll(async () => {
  for (const level of ["log", "info", "warn", "error"] as const) {
    console[level] = (...args: unknown[]) => {
      logged.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      original[level](...args);
    };
  }
  const bundleDir = mkdtempSync(join(tmpdir(), "pier-echo-server-"));
  const built = await Bun.build({ entrypoints: [join(import.meta.dir, "fixtures", "echo-server.ts")], target: "bun", outdir: bundleDir });
  expect(built.success).toBe(true);
  const remote = makeRemoteRepo("echoing");
  const work = join(dirname(remote.path), "work");
  remote.git("checkout", "--quiet", "main");
  Bun.spawnSync(["mkdir", "-p", join(work, "tools")]);
  writeFileSync(join(work, "tools", "echo-server.js"), readFileSync(built.outputs[0]!.path));
  rmSync(bundleDir, { recursive: true, force: true });
  remote.git("add", "tools/echo-server.js");
  remote.git("commit", "--quiet", "-m", "An MCP server for the agent");
  remote.git("push", "--quiet", "origin", "main");

  anthropic = await startFakeAnthropic({ apiKey: API_KEY });
  pier = await startTestPier({ ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: anthropic.url });
  cookie = await setUpAdmin(pier);
  await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
  repoId = await addRepo(pier, cookie, `file://${remote.path}`, "echoing");

  echoId = (await api("POST", "/api/config/mcps", { name: "echo", command: "bun", args: ["tools/echo-server.js", "--flag"], env: { ECHO_SECRET: SECRET } })).body.id;
  await api("POST", "/api/config/mcps", { name: "quits", command: "sh", args: ["-c", "echo 'quits: no config file here' >&2; exit 3"] });
  await api("POST", "/api/config/mcps", { name: "garbage", command: "sh", args: ["-c", "echo 'Welcome to my server!'; exec sleep 600"], repoId });
  await api("POST", "/api/config/mcps", { name: "off", command: "bun", args: ["tools/echo-server.js"], env: { ECHO_SECRET: SECRET }, enabled: false });

  session = await activeSession(pier, cookie, { repoId });
  chat = await ChatClient.connect(pier.url, session.id, { cookie });
}, 300_000);

afterAll(async () => {
  Object.assign(console, original);
  chat?.close();
  await pier?.pier.pods.removeAll(repoId);
  if (pier) await closeForGood(pier);
  await anthropic?.stop();
}, 60_000);

test(".mcp.json in the pod lists the enabled servers through the launcher, with no secret (and no Pier endpoint: the pods have no network)", async () => {
  const text = await inPod("cat", join(session.worktreePath, ".mcp.json"));
  const listed = JSON.parse(text).mcpServers as Record<string, { command: string; args: string[] }>;
  expect(Object.keys(listed).sort()).toEqual(["echo", "garbage", "quits"]);
  expect(listed.echo!.args).toEqual([session.id, "echo"]);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain("echo-server.js");
});

test("the agent is offered the server's tools with their schemas and calls one; broken servers are told once and the turn goes on", async () => {
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "first" } } }, { text: "It told me." });
  const events = await chat.turn("What does the echo server know?", 120_000);
  const errors = errorsOf(events);
  expect(errors).toHaveLength(2);
  expect(errors.find((m) => m.includes("quits"))).toContain("quits: no config file here");
  expect(errors.find((m) => m.includes("garbage"))).toContain("Welcome to my server!");
  const result = resultOf(events);
  expect(result.isError).toBe(false);
  expect(result.output).toContain(`label=first secret=${hashOf(SECRET)} cwd=${session.worktreePath} args=--flag`);
  expect(events.at(-1)).toMatchObject({ type: "turn_end", interrupted: false });

  const tools = anthropic.requests.at(-1)!.body.tools as Array<{ name: string; description: string; input_schema: unknown }>;
  expect(tools.find((t) => t.name === "mcp__echo__reveal")).toMatchObject({
    description: "Says what the server was started with.",
    input_schema: { type: "object", properties: { label: { type: "string", description: "Echoed back." } }, required: ["label"] },
  });
  expect(offered().filter((name) => name.startsWith("mcp__")).sort()).toEqual(["mcp__echo__crash", "mcp__echo__reveal", "mcp__echo__wait"]);
  expect(offered()).toContain("bash");

  // The garbage server was stopped when it failed; echo runs, and no process's arguments hold its secret.
  const ps = await processes();
  expect(ps).toContain("tools/echo-server.js --flag");
  expect(ps).not.toContain("sleep 600");
  expect(ps).not.toContain(SECRET);
}, 180_000);

test("the next turn reuses the running server and tells nothing again; a bad input reaches the server, which refuses it", async () => {
  const pid = resultOf(chat.events).output.match(/pid=(\d+)/)[1];
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: 42 } } }, { toolUse: { name: "mcp__echo__reveal", input: { label: "second" } } }, { text: "Same server." });
  const events = await chat.turn("Again?", 60_000);
  expect(errorsOf(events)).toEqual([]);
  const results = events.filter((e) => e.type === "tool_result");
  expect(results[0]).toMatchObject({ isError: true, output: "label must be text" });
  expect(results[1]!.output).toContain(`label=second secret=${hashOf(SECRET)}`);
  expect(results[1]!.output).toContain(`pid=${pid}`);
}, 60_000);

test("an interrupt cancels a call under way; the server goes on", async () => {
  anthropic.script({ toolUse: { name: "mcp__echo__wait", input: { seconds: 120 } } });
  const from = chat.events.length;
  chat.send("Wait a long time.");
  await chat.next("tool_call", from, 30_000);
  chat.interrupt();
  const end = await chat.next("turn_end", from, 30_000);
  expect(end.interrupted).toBe(true);
  expect(chat.events.slice(from).find((e) => e.type === "tool_result")).toMatchObject({ isError: true });
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "after" } } }, { text: "Still here." });
  expect(resultOf(await chat.turn("Still there?", 60_000)).output).toContain("label=after");
}, 90_000);

test("a server that dies mid-session is told once and its tools go; the turn goes on", async () => {
  anthropic.script({ toolUse: { name: "mcp__echo__crash", input: {} } }, { text: "It crashed." });
  const events = await chat.turn("Crash it.", 60_000);
  expect(resultOf(events).isError).toBe(true);
  const errors = errorsOf(events);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toContain("The MCP server echo stopped");
  expect(errors[0]).toContain("crashing on purpose");
  expect(events.at(-1)!.type).toBe("turn_end");

  anthropic.script({ text: "No echo tools now." });
  expect(errorsOf(await chat.turn("And now?", 60_000))).toEqual([]);
  expect(offered().filter((name) => name.startsWith("mcp__"))).toEqual([]);
  expect(await processes()).not.toContain("echo-server.js");
}, 90_000);

test("a changed server starts again at the next turn, with its new settings", async () => {
  await api("PATCH", `/api/config/mcps/${echoId}`, { env: { ECHO_SECRET: NEW_SECRET } });
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "rotated" } } }, { text: "New secret." });
  const events = await chat.turn("And now?", 120_000);
  expect(errorsOf(events)).toEqual([]);
  expect(resultOf(events).output).toContain(`label=rotated secret=${hashOf(NEW_SECRET)}`);
  const ps = await processes();
  expect(ps.split("\n").filter((line) => line.includes("echo-server.js"))).toHaveLength(1);
  expect(ps).not.toContain(NEW_SECRET);
}, 120_000);

test("the tool policy holds for a server's tools: a repo's deny refuses one before it reaches the server, deny_all refuses it too", async () => {
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "counting" } } }, { text: "Counted." });
  const before = Number(resultOf(await chat.turn("How many calls so far?", 60_000)).output.match(/calls=(\d+)/)![1]);
  await api("PUT", `/api/repos/${repoId}/tool-policy`, { mode: "custom", allowed: [], denied: ["mcp__echo__*"], ask: [] });
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "denied" } } }, { text: "Refused." });
  let result = resultOf(await chat.turn("Try the echo server.", 60_000));
  expect([result.isError, result.refused]).toEqual([true, true]);
  expect(result.output).toStartWith("Pier's tool policy for this repository denies mcp__echo__reveal.");

  await api("PUT", `/api/repos/${repoId}/tool-policy`, null);
  await api("PUT", "/api/config/tool-policies", { mode: "deny_all", allowed: [], denied: [], ask: [] });
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "denied-all" } } }, { text: "Refused." });
  result = resultOf(await chat.turn("Try it again.", 60_000));
  expect([result.isError, result.refused]).toEqual([true, true]);

  // Back to allowing everything: the server answers, and never saw the refused calls.
  await api("PUT", "/api/config/tool-policies", { mode: "allow_all", allowed: [], denied: [], ask: [] });
  anthropic.script({ toolUse: { name: "mcp__echo__reveal", input: { label: "allowed" } } }, { text: "Told." });
  result = resultOf(await chat.turn("And now?", 60_000));
  expect(result.output).toContain("label=allowed");
  expect(result.output).toContain(`calls=${before + 1}`);
}, 120_000);

test("ending the session stops its servers: nothing of them is left in the pod", async () => {
  expect(await inPod("sh", "-c", "ls /tmp | grep -c pier-mcp || true")).toBe("1\n");
  await api("POST", `/api/sessions/${session.id}/end`);
  const ps = await processes();
  expect(ps).not.toContain("echo-server.js");
  expect(ps).not.toContain("sleep 600");
  expect(await inPod("sh", "-c", "ls /tmp | grep -c pier-mcp || true")).toBe("0\n");
}, 60_000);

test("the secrets are in no answer, no log line, no database byte and no file of the pod", async () => {
  const listed = await api("GET", "/api/config/mcps");
  const transcript = await api("GET", `/api/sessions/${session.id}/transcript`);
  pier.pier.db.$client.exec("PRAGMA wal_checkpoint(PASSIVE)");
  const database = ["pier.db", "pier.db-wal"].map((file) => join(pier.dataDir, file)).filter(existsSync).map((path) => readFileSync(path));
  for (const secret of [SECRET, NEW_SECRET]) {
    expect(listed.text).not.toContain(secret);
    expect(transcript.text).not.toContain(secret);
    expect(transcript.text).toContain(hashOf(secret));
    expect(logged.join("\n")).not.toContain(secret);
    for (const bytes of database) expect(bytes.includes(secret)).toBe(false);
  }
  // Nothing under the pod's mounts (worktrees, clone, services) and nothing in its home or /tmp.
  for (const dir of [join(pier.dataDir, "workspaces"), join(pier.dataDir, "pods")]) {
    const grep = Bun.spawn(["grep", "-rl", "--", "echo-secret", dir], { stdout: "pipe", stderr: "pipe" });
    expect(await new Response(grep.stdout).text()).toBe("");
    await grep.exited;
  }
  expect(await inPod("sh", "-c", "grep -rl -- echo-secret /tmp /home/pier 2>/dev/null || true")).toBe("");
});
