import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { CLAUDE_CODE_DIR } from "../support/claude-code.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { SmallDisk } from "../support/small-disk.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const MiB = 1024 * 1024;
const RESERVE_MB = 96;

/**
 * Broken: one person's pod writes into their worktree until the disk is full. The data dir
 * (database, recordings, Claude Code, everyone's workspaces) is a 640 MiB tmpfs the test mounts; pods
 * bind-mount their workspaces from it, on the real Docker engine.
 * Held: a steady writer is stopped before the reserve is gone (so the database and the other
 * person's work keep their room), and its person is told in their terminal, their chat and
 * "needs you"; a burst too fast for any watch fills the disk, and still Pier keeps serving, the
 * database stays intact, the other person's terminal keeps working and the writer's person is
 * told; freeing space brings everything back without a restart.
 */
describe("fault: a pod fills the disk", () => {
  const disk = SmallDisk.mount(640);
  let pier: TestPier;
  let alice: string;
  let bob: string;
  let aliceSession: SessionJson;
  let bobSession: SessionJson;
  let aliceTerm: TermClient;
  let bobTerm: TermClient;

  const integrity = () => pier.pier.db.$client.query("PRAGMA integrity_check").get();
  const notices = (term: TermClient) => term.controls.filter((c) => c.type === "notice").map((c) => c.message ?? "");
  const waitFor = async <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(100);
    }
  };
  const transcriptErrors = async (cookie: string, id: string) =>
    ((await (await pier.fetch(`/api/sessions/${id}/transcript`, { headers: { cookie } })).json()) as Array<{ kind: string; message?: string }>)
      .filter((item) => item.kind === "error")
      .map((item) => item.message ?? "");

  beforeAll(async () => {
    // Pier's copies of Claude Code live beside the data, as by default, so each pod's is a hard link and not a copy.
    const tools = join(disk.path, "data", "tools");
    cpSync(CLAUDE_CODE_DIR, join(tools, "claude-code"), { recursive: true });
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_DISK_RESERVE_MB: String(RESERVE_MB), PIER_TOOLS_DIR: tools }, join(disk.path, "data"));
    alice = await setUpAdmin(pier);
    const created = await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie: alice }));
    expect(created.status).toBe(201);
    bob = await signIn(pier, "bob", "bob password");
    const repoId = await addRepo(pier, alice, `file://${makeRemoteRepo("filler").path}`, "filler");
    [aliceSession, bobSession] = await Promise.all([activeSession(pier, alice, { repoId }), activeSession(pier, bob, { repoId })]);
    [aliceTerm, bobTerm] = await Promise.all([
      TermClient.connect(pier.url, aliceSession.id, { cookie: alice, origin: pier.url }),
      TermClient.connect(pier.url, bobSession.id, { cookie: bob, origin: pier.url }),
    ]);
    await aliceTerm.run("echo ready-$((1+1))", /ready-2/);
    // The rest of the disk holds other things: 40 MiB are left above the reserve.
    disk.fill(join(disk.path, "other-things"), (RESERVE_MB + 40) * MiB);
  }, 120_000);

  afterAll(async () => {
    aliceTerm?.close();
    bobTerm?.close();
    if (pier) await closeForGood(pier);
    disk.unmount();
  }, 60_000);

  test("held: a steady writer is stopped before the reserve is gone, and its person is told in the terminal, the chat and needs-you", async () => {
    aliceTerm.input("bash -c 'while :; do head -c 1M /dev/zero; sleep 0.05; done' > steady\r");
    const told = await waitFor("alice's terminal to say what was stopped", () => notices(aliceTerm).find((n) => n.includes("stopped")), 40_000);
    expect(told).toMatch(/^The disk of Pier's workspaces is nearly full \(\d+ MiB free; Pier keeps 96 MiB for everyone's work, its database and recordings\), so Pier stopped “bash -c while :; do head -c 1M \/dev\/zero; sleep 0.05; done” \(pid \d+, \d+ MiB\/s into worktrees\/\w+\/steady\) in your pod\. Your workspace holds \d+ MiB\. Delete what you do not need, then carry on with `kill -CONT \d+` \(or `fg`\), or end it with `kill -9 \d+`\.$/);
    // Stopped, not growing: the reserve held, so the database and the other person keep their room.
    const free = disk.freeBytes();
    await Bun.sleep(1500);
    // (The database and recordings write a little meanwhile.)
    expect(Math.abs(disk.freeBytes() - free)).toBeLessThan(MiB);
    expect(free).toBeGreaterThan(RESERVE_MB * MiB * 0.5);
    await aliceTerm.waitFor(/Stopped/);

    await waitFor("the note in alice's chat", async () => (await transcriptErrors(alice, aliceSession.id)).includes(told));
    const session = (await (await pier.fetch(`/api/sessions/${aliceSession.id}`, { headers: { cookie: alice } })).json()) as { attention: string | null };
    expect(session.attention).toBe("disk");
    expect(notices(bobTerm)).toEqual([]);
    expect(await transcriptErrors(bob, bobSession.id)).toEqual([]);

    // She frees the space and ends the writer; the disk has room again.
    const pid = told.match(/kill -9 (\d+)/)![1];
    await aliceTerm.run(`kill -9 ${pid}; rm steady; echo freed-$((2+3))`, /freed-5/);
    await waitFor("the space to come back", () => disk.freeBytes() > RESERVE_MB * MiB);
    // A look begun before she freed it may still tell her of the shortage: let it finish (a tick is a second).
    await Bun.sleep(2500);
  }, 60_000);

  test("held: a burst too fast for any watch fills the disk, and still Pier serves, the database is intact, the other terminal works, and the writer is told", async () => {
    const seen = notices(aliceTerm).length;
    // One call takes all but the last few pages of the disk (yes > big on a fast disk is not much slower), then yes writes the rest.
    const burst = disk.freeBytes() - 64 * 1024;
    await aliceTerm.run(`fallocate -l ${burst} big && yes >> big; echo yes-ended-$((3+4))`, /yes-ended-7/, 30_000);
    expect(disk.freeBytes()).toBeLessThan(MiB);

    expect((await pier.fetch("/healthz")).status).toBe(200);
    expect(integrity()).toEqual({ integrity_check: "ok" });
    await bobTerm.run("echo bob-still-works-$((4+5))", /bob-still-works-9/);
    const told = await waitFor("alice's terminal to say the disk is full", () => notices(aliceTerm).slice(seen).find((n) => n.includes("(0 MiB free") && n.includes("the most of anyone's")));
    expect(told).toMatch(/^The disk of Pier's workspaces is nearly full \(0 MiB free; Pier keeps 96 MiB .*\)\. Your workspace holds \d+ MiB, the most of anyone's: delete what you do not need\.$/);
    expect(notices(bobTerm)).toEqual([]);

    await aliceTerm.run("rm big; echo freed-again-$((5+6))", /freed-again-11/);
    await waitFor("the space to come back", () => disk.freeBytes() > 100 * MiB);
    const created = await pier.fetch("/api/tasks", json({ title: "written after the disk was freed" }, { cookie: bob }));
    expect(created.status).toBe(201);
    // What could not be written down while the disk was full reaches her chat once it can be.
    await waitFor("the note in alice's chat", async () => (await transcriptErrors(alice, aliceSession.id)).includes(told));
    expect(integrity()).toEqual({ integrity_check: "ok" });
  }, 60_000);

  test("held: a shell that writes the file itself is interrupted as Ctrl+C would, never stopped, so its person can still type", async () => {
    const seen = notices(aliceTerm).length;
    aliceTerm.input("while :; do head -c 1M /dev/zero; sleep 0.05; done > looped\r");
    const told = await waitFor("alice's terminal to say what was interrupted", () => notices(aliceTerm).slice(seen).find((n) => n.includes("interrupted")), 40_000);
    expect(told).toMatch(/so Pier interrupted “[^”]*bash[^”]*” \(pid \d+, \d+ MiB\/s into worktrees\/\w+\/looped\) in your pod\. Your workspace holds \d+ MiB\. Delete what you do not need\.$/);
    await aliceTerm.run("rm looped; echo typed-after-$((6+7))", /typed-after-13/);
    await waitFor("the space to come back", () => disk.freeBytes() > RESERVE_MB * MiB);
  }, 60_000);
});
