/**
 * Fault: Pier is killed with SIGKILL while an ACP agent (opencode from npm, supplied into a test
 * pod, its model requests through Pier's gateway to the fake Anthropic server) runs a tool in a
 * turn; Pier is started again on the same data dir and port.
 * Held: once Pier is back, before anyone sends a message, neither the agent the killed server had
 * started nor its tool runs in the pod; the session's next message starts a new agent, which answers.
 * opencode ends by itself when its stdin closes with the killed server, so beside it the test leaves
 * a stuck agent: a second opencode started as the engine starts it (its program, arguments,
 * environment and working directory copied from the engine's, its id noted under the session's
 * prefix in the pod's /tmp) whose stdin a process of its own holds open, so that only Pier's sweep
 * at start-up (AcpEngine.stopLeftovers) ends it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { run } from "../support/commands.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { setUpAdmin } from "../support/pier.ts";
import { type PierProcess, freePort, startPierProcess, stopForGood } from "../support/pier-process.ts";
import { activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-sigkill-acp-00000000000000000";
/**
 * Starts, in the pod, a copy of the session's running agent that does not end when Pier goes: the
 * engine's process (the one its note names) is copied (argv, environment, working directory), its
 * id noted beside the engine's, and its stdin is a pipe from a `sleep` that is the copy's own
 * child (bash keeps the process id through `exec`), so it never reads an end of input.
 */
const STUCK_AGENT = [
  'p=$(cat "/tmp/pier-acp-$1-"*.pid | head -n 1)',
  'mapfile -d "" argv < "/proc/$p/cmdline"',
  'mapfile -d "" environment < "/proc/$p/environ"',
  'cd "$(readlink "/proc/$p/cwd")"',
  'echo $$ > "/tmp/pier-acp-$1-stuck.pid"',
  'exec env -i "${environment[@]}" "${argv[@]}" < <(exec sleep 987654) > /dev/null 2>&1',
].join("\n");

/** opencode names its sessions with a request of its own; those are answered apart from the script. */
const isTitleRequest = (body: any) => JSON.stringify(body.system ?? "").includes("title") && !JSON.stringify(body.tools ?? []).includes("bash");

describe("SIGKILL while an ACP agent runs in its pod", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-sigkill-acp-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let env: Record<string, string>;
  let port: number;
  let pier: PierProcess;
  let cookie: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    port = await freePort();
    env = { ...(await dockerTestEnv()), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: API_KEY };
    pier = await startPierProcess(dataDir, port, env);
    cookie = await setUpAdmin(pier);
  }, 300_000);

  afterAll(async () => {
    if (pier) await stopForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("nothing of the agents the killed server left runs once Pier is back, a stuck one included; the next message starts another", async () => {
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("sigkill-acp").path}`, "sigkill-acp");
    const session = await activeSession(pier, cookie, { repoId, engine: "acp", agent: "opencode" });
    const agents = async () => (await run(["docker", "exec", session.podId!, "pgrep", "-f", "[b]in/opencode acp"], "/").catch(() => "")).trim();
    const headers = { cookie, origin: pier.url };
    fake.scriptWhen(isTitleRequest, { text: "Hello" }, { text: "Hello" }, { text: "Hello" });
    const policy = await pier.fetch("/api/config/tool-policies", { method: "PUT", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ mode: "allow_all" }) });
    expect(policy.status).toBe(200);
    fake.script({ text: "Hello before the kill." }, { toolUse: { name: "bash", input: { command: "echo started > job.txt && sleep 120", description: "A long job" } } });
    const chat = await ChatClient.connect(pier.url, session.id, headers);
    // The first turn waits for opencode's build to be fetched from the registry (once per machine).
    const first = await chat.turn("Say hello.", 600_000);
    expect(first.find((e) => e.type === "assistant_message")?.text).toBe("Hello before the kill.");
    const before = await agents();
    expect(before).not.toBe("");
    await run(["docker", "exec", "-d", session.podId!, "bash", "-c", STUCK_AGENT, "stuck-agent", session.id], "/");
    const stuck = async () => (await run(["docker", "exec", session.podId!, "bash", "-c", `p=$(cat /tmp/pier-acp-${session.id}-stuck.pid) && tr '\\0' ' ' < /proc/$p/cmdline`], "/").catch(() => "")).trim();
    for (let i = 0; !(await stuck()).includes("bin/opencode acp"); i++) {
      expect(i).toBeLessThan(100);
      await Bun.sleep(100);
    }
    const stuckPid = (await run(["docker", "exec", session.podId!, "cat", `/tmp/pier-acp-${session.id}-stuck.pid`], "/")).trim();
    const from = chat.events.length;
    chat.send("Run the long job.");
    await chat.next("tool_call", from, 120_000);
    const job = async () => (await run(["docker", "exec", session.podId!, "ps", "-eo", "args"], "/")).includes("sleep 120");
    for (let i = 0; !(await job()); i++) {
      expect(i).toBeLessThan(100);
      await Bun.sleep(200);
    }
    chat.close();

    expect(await pier.signal("SIGKILL")).not.toBe(0);

    // The engine's own agent ends with its stdin; the stuck one outlives the server that started it.
    for (let i = 0; (await agents()) !== stuckPid; i++) {
      expect(i).toBeLessThan(300);
      await Bun.sleep(100);
    }
    pier = await startPierProcess(dataDir, port, env);
    // Nothing of the killed server's agents runs on: not the stuck one, not the other, not its tool, not the stuck one's stdin.
    expect(await agents()).toBe("");
    expect(await job()).toBe(false);
    expect((await run(["docker", "exec", session.podId!, "ps", "-eo", "args"], "/")).includes("sleep 987654")).toBe(false);

    fake.script({ text: "A new agent answers." });
    const again = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    const next = await again.turn("Are you there?", 180_000);
    expect(next.find((e) => e.type === "assistant_message")?.text).toBe("A new agent answers.");
    const now = await agents();
    expect(now).not.toBe("");
    expect(now).not.toBe(before);
    again.close();
  }, 900_000);
});
