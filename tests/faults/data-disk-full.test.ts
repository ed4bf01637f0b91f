import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { recordingPath } from "../../src/terminal/recording.ts";
import { serveGitHttp } from "../support/fake-github/git-http.ts";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { castEvents, castOutput } from "../support/recording.ts";
import { type SessionJson, activeSession, addRepo, apiError, startSession, waitForState } from "../support/sessions.ts";
import { SmallDisk } from "../support/small-disk.ts";
import { TermClient } from "../support/term-client.ts";

/**
 * Broken: the data dir's disk (a 64 MiB tmpfs the test mounts) is filled to the last byte.
 * Held: Pier keeps serving, the terminal keeps working, its recording pauses and later says what
 * it missed, API writes answer 507 with a sentence and change nothing, the database stays
 * intact, and once space is freed recording and writes carry on without a restart.
 */
describe("fault: the data disk is full", () => {
  const disk = SmallDisk.mount(64);
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  let term: TermClient;
  let file: string;
  let fake: FakeAnthropic;
  let chat: ChatClient;
  /** A git server of the test's own, which fills the disk when Pier first fetches from it. */
  let git: ReturnType<typeof Bun.serve> | undefined;

  const tasks = async () => (await (await pier.fetch("/api/tasks", { headers: { cookie } })).json()) as Array<{ title: string }>;
  const settings = async () => (await (await pier.fetch("/api/settings", { headers: { cookie } })).json()) as { recordingLimitMiB: number };
  /** The recording's size once its writes have settled. */
  const settledSize = async () => {
    let size = statSync(file).size;
    for (;;) {
      await Bun.sleep(300);
      const now = statSync(file).size;
      if (now === size) return size;
      size = now;
    }
  };

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: "sk-ant-disk" });
    pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_API_KEY: "sk-ant-disk", ANTHROPIC_BASE_URL: fake.url }, join(disk.path, "data"));
    cookie = await setUpAdmin(pier);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("fulldisk").path}`, "fulldisk");
    session = await activeSession(pier, cookie, { repoId });
    file = recordingPath(pier.dataDir, session.id);
    term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await term.run("echo before-full-$((2*3))", /before-full-6/);
    // The terminal's person looked, then looked away: its output followed by a second of quiet needs them.
    await pier.fetch("/api/settings", { ...json({ quietSeconds: 1 }, { cookie }), method: "PUT" });
    await pier.fetch(`/api/sessions/${session.id}/seen`, json({ looking: true }, { cookie }));
    await pier.fetch(`/api/sessions/${session.id}/seen`, json({ looking: false }, { cookie }));
    // The write-ahead log keeps the room it once took: emptied, every write needs new room, as it will sooner or later.
    pier.pier.db.$client.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    disk.fill();
  }, 120_000);

  afterAll(async () => {
    git?.stop(true);
    term?.close();
    chat?.close();
    await fake?.stop();
    if (pier) await closeForGood(pier);
    disk.unmount();
  }, 60_000);

  test("held: the terminal keeps working while its recording, and the needs-you its quiet raises, cannot be written", async () => {
    const before = await settledSize();
    // More than the last page of the file has room for (a full disk still takes what fits there).
    await term.run("seq 1 3000; echo during-full-$((3*4))", /during-full-12/);
    await term.run("echo still-typing-$((4*5))", /still-typing-20/);
    // Output then a second of quiet raises "needs you", which cannot be written down now: it waits, and nothing breaks.
    await Bun.sleep(1500);
    await term.run("echo after-the-quiet-$((6*7))", /after-the-quiet-42/);
    expect(await settledSize()).toBeLessThan(before + 4096);
    expect(readFileSync(file, "utf8")).not.toContain("during-full-12");
  });

  test("told: an API write answers 507 insufficient_storage with a sentence, and changes nothing", async () => {
    const created = await pier.fetch("/api/tasks", json({ title: "written on a full disk" }, { cookie }));
    const error = await apiError(created);
    expect(error.status).toBe(507);
    expect(error.code).toBe("insufficient_storage");
    expect(error.message).toMatch(/disk is full/);
    expect((await tasks()).map((t) => t.title)).not.toContain("written on a full disk");

    const saved = await pier.fetch("/api/settings", { ...json({ recordingLimitMiB: 7 }, { cookie }), method: "PUT" });
    expect((await apiError(saved)).status).toBe(507);
    expect((await settings()).recordingLimitMiB).toBe(64);
  });

  test("told: a chat message sent while the disk is full is answered with a sentence, and nothing of it is kept", async () => {
    const from = chat.events.length;
    chat.send("written on a full disk?");
    const error = await chat.next("error", from);
    expect(error.message).toMatch(/disk is full/);
    expect(fake.requests).toHaveLength(0);
    const transcript = (await (await pier.fetch(`/api/sessions/${session.id}/transcript`, { headers: { cookie } })).json()) as Array<{ kind: string; text?: string }>;
    expect(transcript.some((item) => item.text === "written on a full disk?")).toBe(false);
  }, 30_000);

  test("held: Pier keeps serving, and the database is intact", async () => {
    const health = await pier.fetch("/healthz");
    expect(health.status).toBe(200);
    expect((await pier.fetch("/", { headers: { cookie } })).status).toBe(200);
    expect(pier.pier.db.$client.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  });

  test("held: once space is freed, writes and the recording resume without a restart, the recording saying what it missed", async () => {
    disk.free();
    const created = await pier.fetch("/api/tasks", json({ title: "written after freeing space" }, { cookie }));
    expect(created.status).toBe(201);
    expect((await tasks()).map((t) => t.title)).toContain("written after freeing space");

    // A paused recording tries again once a second.
    await term.run("sleep 1.5; echo after-free-$((5*6))", /after-free-30/);
    fake.script({ text: "room again" });
    const turn = await chat.turn("and now?");
    expect(turn.some((event) => event.type === "text_delta" || event.type === "assistant")).toBe(true);
    expect(turn.find((event) => event.type === "error")).toBeUndefined();
    expect(fake.requests).toHaveLength(1);
    await settledSize();
    const cast = readFileSync(file, "utf8");
    const events = castEvents(cast);
    const note = events.find(([, code, text]) => code === "m" && text.startsWith("Recording paused"));
    expect(note?.[2]).toMatch(/^Recording paused: the disk was full, so this session's terminal output from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d UTC is not in the recording\.$/);
    const recorded = castOutput(cast);
    expect(recorded).toContain("before-full-6");
    expect(recorded).not.toContain("during-full-12");
    expect(recorded).toContain("after-free-30");
    expect(pier.pier.db.$client.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  }, 30_000);

  test("held: a session whose provisioning meets a full disk fails with a sentence once the failure can be written, never left provisioning", async () => {
    const remote = makeRemoteRepo("late");
    let filled = false;
    git = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const pathInfo = new URL(request.url).pathname;
        // The disk fills while Pier clones: after the session is written down, before it is ready.
        if (!filled && request.method === "POST") {
          filled = true;
          pier.pier.db.$client.exec("PRAGMA wal_checkpoint(TRUNCATE)");
          disk.fill();
        }
        return serveGitHttp(request, { projectRoot: join(remote.path, ".."), pathInfo, remoteUser: null });
      },
    });
    const repoId = await addRepo(pier, cookie, `http://127.0.0.1:${git.port}/late.git`, "late");
    // The session's page hears of the failure at once, though the disk cannot hold it yet.
    const failures = new Map<string, string>();
    const stopListening = pier.pier.bus.subscribe("session.state", null, ({ sessionId, state, error }) => {
      if (state === "failed") failures.set(sessionId, error ?? "");
    });
    const started = await startSession(pier, cookie, { repoId });
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as SessionJson;
    for (let waited = 0; !failures.has(id) && waited < 30_000; waited += 100) await Bun.sleep(100);
    stopListening();
    const heard = failures.get(id);
    expect(filled).toBe(true);
    expect(heard).toMatch(/disk is full|No space left on device/);

    disk.free();
    const failed = await waitForState(pier, cookie, id, "failed", 30_000);
    expect(failed.error).toBe(heard!);
    expect(pier.pier.db.$client.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  }, 60_000);
});
