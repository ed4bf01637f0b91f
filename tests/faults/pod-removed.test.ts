/**
 * Fault: a person's pod removed behind Pier's back (`docker rm -f`, as an admin cleaning up the
 * engine would), on the real Docker engine. What must hold: the next terminal or chat action
 * provisions the pod again, the worktree and its uncommitted files are intact (they live in the
 * data dir), the person is told once (a line in the new shell), and a terminal viewer open at the
 * time is not left hanging: its socket closes with 1012, and reconnecting (as a page does by
 * itself) it finds a new shell in the same worktree.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Docker from "dockerode";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const docker = new Docker();
const API_KEY = "sk-ant-pod-removed-test-000000000";
/** The line the new shell starts with (see POD_RESTARTED_NOTE). */
const TOLD = /pod restarted or was removed; this is a new shell/g;
/** How often a viewer was told, in its text with the screen's wrapped lines joined again. */
const toldTimes = (text: string) => text.replace(/(\x1b\[0m)?\r\n/g, "").match(TOLD)?.length ?? 0;

describe("fault: a pod removed behind Pier's back", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-fault-pod-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  const headers = () => ({ cookie, origin: pier.url });
  const podOf = (session: SessionJson) => pier.pier.pods.view(repoId, session.userId)?.containerId ?? null;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: API_KEY }, dataDir);
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("removed").path}`, "removed");
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("broke: the pod under a live terminal; held: the viewer, reconnecting by itself, finds a new shell in the same worktree, told once, uncommitted work intact", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const term = await TermClient.connect(pier.url, session.id, headers());
    await term.run("echo never-committed > draft.txt && echo saved-$((2+3))", /saved-5/);
    const before = session.podId!;

    await docker.getContainer(before).remove({ force: true });

    // Not left on a dead terminal, nor told "the shell exited" (which waits for a click): the
    // socket closes with 1012, which a page answers by reconnecting by itself, as this viewer does.
    const closed = await Promise.race([term.closed, Bun.sleep(30_000).then(() => null)]);
    expect(closed, "the terminal socket was closed when the pod went").not.toBeNull();
    expect(closed!.code).toBe(1012);
    expect(term.controls.filter((c) => c.type === "exited" || c.type === "ended")).toEqual([]);
    const back = await TermClient.connect(pier.url, session.id, headers());
    await back.run("pwd; cat draft.txt; echo answer-$((6*7))", /answer-42/, 30_000);
    expect(toldTimes(back.text)).toBe(1);
    expect(back.text).toContain(session.worktreePath);
    expect(back.text).toContain("never-committed");
    expect(readFileSync(join(session.worktreePath, "draft.txt"), "utf8")).toBe("never-committed\n");
    const after = podOf(session);
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
    expect((await docker.getContainer(after!).inspect()).State.Running).toBe(true);
    // The session names its new pod.
    expect(((await (await pier.fetch(`/api/sessions/${session.id}`, { headers: headers() })).json()) as SessionJson).podId).toBe(after);

    // Told once: a later viewer sees the line once, not again for every action.
    back.close();
    const later = await TermClient.connect(pier.url, session.id, headers());
    await later.run("echo again-$((1+1))", /again-2/);
    expect(toldTimes(later.text)).toBe(1);
    later.close();
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
  }, 90_000);

  test("broke: the pod with nobody watching; held: the next chat message provisions it again and its tool sees the uncommitted file; the terminal opened later says so once", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", "echo only-here > draft.txt"], { cwd: session.worktreePath });
    // The session's terminal runs from the start (its recording has everything); let it be up.
    await (await pier.pier.hosts.get(session.id)!.terminal()).alive;
    await docker.getContainer(session.podId!).remove({ force: true });

    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ toolUse: { name: "bash", input: { command: "cat draft.txt && hostname" } } }, { text: "It says only-here." });
    const events = await chat.turn("What does draft.txt say?");
    const result = events.find((e) => e.type === "tool_result")!;
    expect(result.isError).toBe(false);
    expect(result.output).toContain("only-here");
    chat.close();
    expect(podOf(session)).not.toBe(session.podId);

    const term = await TermClient.connect(pier.url, session.id, headers());
    await term.run("cat draft.txt; echo seen-$((3*3))", /seen-9/, 30_000);
    expect(term.text).toContain("only-here");
    expect(toldTimes(term.text)).toBe(1);
    term.close();
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
  }, 90_000);
});
