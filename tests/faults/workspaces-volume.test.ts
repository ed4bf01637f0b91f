import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingPath } from "../../src/terminal/recording.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { SmallDisk } from "../support/small-disk.ts";
import { TermClient } from "../support/term-client.ts";

/**
 * Broken: a session fills the disk its workspace is on, on the local runtime, with
 * PIER_WORKSPACES_DIR putting workspaces on a 32 MiB tmpfs of their own.
 * Held: the database and the recordings are on another disk, so writes and the recording carry
 * on as if nothing happened, and the person is told their workspace is what fills it.
 */
describe("fault: workspaces on a volume of their own fill up", () => {
  const disk = SmallDisk.mount(32);
  const dataDir = mkdtempSync(join(tmpdir(), "pier-fault-data-"));
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  let term: TermClient;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1", PIER_WORKSPACES_DIR: join(disk.path, "workspaces"), PIER_DISK_RESERVE_MB: "8" }, dataDir);
    cookie = await setUpAdmin(pier);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("volume").path}`, "volume");
    session = await activeSession(pier, cookie, { repoId });
    term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
  }, 120_000);

  afterAll(async () => {
    term?.close();
    if (pier) await closeForGood(pier);
    disk.unmount();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("held: the worktree is on the workspaces' volume; filling it leaves the database and the recording their room, and the person is told", async () => {
    expect(session.worktreePath.startsWith(join(disk.path, "workspaces") + "/")).toBe(true);
    // All but the last pages in one call (no watch can catch that), then yes takes the rest.
    await term.run(`fallocate -l ${disk.freeBytes() - 64 * 1024} big && yes >> big; echo filled-$((2*9))`, /filled-18/, 30_000);
    expect(disk.freeBytes()).toBeLessThan(1024 * 1024);

    const created = await pier.fetch("/api/tasks", json({ title: "written while the workspaces are full" }, { cookie }));
    expect(created.status).toBe(201);
    await term.run("echo recorded-$((3*9))", /recorded-27/);
    await Bun.sleep(500);
    expect(readFileSync(recordingPath(pier.dataDir, session.id), "utf8")).toContain("recorded-27");

    const told = /^The disk of Pier's workspaces is nearly full \(0 MiB free; Pier keeps 8 MiB .*\)\. Your workspace holds \d+ MiB, the most of anyone's: delete what you do not need\.$/;
    const notices = () => term.controls.filter((c) => c.type === "notice").map((c) => c.message ?? "");
    for (let waited = 0; !notices().some((n) => told.test(n)) && waited < 20_000; waited += 100) await Bun.sleep(100);
    expect(notices().filter((n) => told.test(n))).toHaveLength(1);
    await term.run("rm big; echo freed-$((4*9))", /freed-36/);
  }, 60_000);
});
