/**
 * Fault: a person's pod removed behind Pier's back (`docker rm -f`) while its session's chat is
 * Claude Code (the real CLI, in the pod, talking to the fake Anthropic server). What must hold:
 * the next message provisions the pod again and is answered, and Claude Code goes on with the
 * same conversation (the model is sent the earlier turn), though the container it ran in is gone;
 * the person is told once that it was started again. Where its saved conversation is gone after
 * all (kept in a container from before Pier kept it in the workspace), the next message is still
 * answered, by a new conversation, and the person is told so once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Docker from "dockerode";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { claudeCodeTestImage } from "../support/claude-code.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const docker = new Docker();
const API_KEY = "sk-ant-pod-removed-claude-code-0000";

describe("fault: a pod removed behind Pier's back, with Claude Code as the chat", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-fault-pod-cc-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  const headers = () => ({ cookie, origin: pier.url });

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    // Host networking: Claude Code in the pod reaches the fake Anthropic server on 127.0.0.1.
    const env = { ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: await claudeCodeTestImage(), PIER_POD_NETWORK: "host", ANTHROPIC_BASE_URL: fake.url };
    pier = await startTestPier(env, dataDir);
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("removed-cc").path}`, "removed-cc");
    const put = await pier.fetch("/api/settings", { ...json({ defaultEngine: "claude-code", anthropicApiKey: API_KEY }, headers()), method: "PUT" });
    expect(put.status).toBe(200);
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("broke: the pod between two messages; held: the next message is answered in a new pod, and the conversation goes on", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "Noted: pelican." });
    await chat.turn("Remember the word pelican.", 60_000);

    await docker.getContainer(session.podId!).remove({ force: true });

    fake.script({ text: "The word was pelican." });
    const events = await chat.turn("Which word did I ask you to remember?", 60_000);
    expect(events.filter((e) => e.type === "error").map((e) => e.message)).toEqual([
      "Claude Code stopped: it exited. Pier started it again; the conversation goes on where it was.",
    ]);
    expect(events.find((e) => e.type === "assistant_message")?.text).toBe("The word was pelican.");
    // Claude Code went on with its conversation: the model was sent the earlier turn.
    expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).toContain("Remember the word pelican.");
    const pod = pier.pier.pods.view(repoId, session.userId)!;
    expect(pod.containerId).not.toBe(session.podId);

    // What Claude Code keeps in the workspace holds its conversation, and no key.
    const kept = await pier.pier.runtime.exec({ id: pod.containerId!, image: "" }, ["bash", "-c", `grep -rl -- "$SAID" ../../claude-code/projects | wc -l; grep -rl -- "$KEY" ../../claude-code | wc -l`], { cwd: session.worktreePath, env: { KEY: API_KEY, SAID: "Remember the word pelican." } });
    expect(Number(kept.stdout.split("\n")[0])).toBeGreaterThan(0);
    expect(kept.stdout.split("\n")[1]).toBe("0");

    // Told once: the next message goes as usual.
    fake.script({ text: "Still pelican." });
    expect((await chat.turn("And now?", 60_000)).filter((e) => e.type === "error")).toEqual([]);
    chat.close();
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, headers()));
  }, 90_000);

  test("broke: the pod, with Claude Code's saved conversation not in the workspace; held: the next message is answered by a new conversation, told once", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "Noted: heron." });
    await chat.turn("Remember the word heron.", 60_000);
    // As a conversation kept in the container's own home before was: gone with the pod.
    const wiped = await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", "rm -rf ../../claude-code/projects"], { cwd: session.worktreePath });
    expect(wiped.exitCode).toBe(0);
    await docker.getContainer(session.podId!).remove({ force: true });

    fake.script({ text: "I do not know which word." });
    const events = await chat.turn("Which word did I ask you to remember?", 60_000);
    const told = events.filter((e) => e.type === "error").map((e) => e.message as string);
    expect(told).toHaveLength(1);
    expect(told[0]).toStartWith("Claude Code stopped: it exited. Claude Code's saved conversation is gone");
    expect(told[0]).toContain("starts a new one: it does not remember what was said above");
    expect(events.find((e) => e.type === "assistant_message")?.text).toBe("I do not know which word.");
    fake.script({ text: "Fine." });
    expect((await chat.turn("And now?", 60_000)).filter((e) => e.type === "error")).toEqual([]);
    chat.close();
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, headers()));
  }, 90_000);
});
