import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingPath } from "../../src/terminal/recording.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";

const MiB = 1024 * 1024;
const NOTE = /Recording stopped: this session.{1,6}s terminal output passed the recording limit of 1 MiB, so what followed is not in the recording\./;

/**
 * A session's recording keeps its start and stops at the limit in settings, saying so in the
 * recording itself and on the replay page; the live terminal goes on regardless.
 */
describe("the recording limit", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-recording-limit-"));
  const env = { PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1" };
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  let file: string;
  const clients: TermClient[] = [];
  const connect = async () => {
    const client = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    clients.push(client);
    return client;
  };
  /** Waits until the recording has not changed size for a while (its writes are batched). */
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
    pier = await startTestPier(env, dataDir);
    cookie = await setUpAdmin(pier);
    const saved = await pier.fetch("/api/settings", { ...json({ recordingLimitMiB: 1 }, { cookie }), method: "PUT" });
    expect(((await saved.json()) as { recordingLimitMiB: number }).recordingLimitMiB).toBe(1);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("flood").path}`, "flood");
    session = await activeSession(pier, cookie, { repoId });
    file = recordingPath(pier.dataDir, session.id);
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the limit is a setting, shown on the settings page", async () => {
    const page = await (await pier.fetch("/settings", { headers: { cookie } })).text();
    expect(page).toContain('name="recordingLimitMiB"');
    const bad = await pier.fetch("/api/settings", { ...json({ recordingLimitMiB: 0 }, { cookie }), method: "PUT" });
    expect(bad.status).toBe(400);
  });

  test("below the limit the replay page carries no note", async () => {
    await pier.pier.hosts.terminal(pier.pier.sessions.get(session.id));
    const page = await (await pier.fetch(`/sessions/${session.id}/output`, { headers: { cookie } })).text();
    expect(page).toContain('id="replay"');
    expect(page).not.toMatch(NOTE);
  });

  test("under `yes` the recording stops at about the limit, with a note, while viewers still get everything live", async () => {
    const term = await connect();
    await term.run("yes | head -c 3000000; echo flood-done-$((6*7))", /flood-done-42/, 60_000);
    const size = await settledSize();
    expect(size).toBeLessThanOrEqual(MiB + 4096);
    expect(size).toBeGreaterThan(MiB - 256 * 1024);

    await term.run("echo after-the-limit-$((7*8))", /after-the-limit-56/);
    expect(await settledSize()).toBe(size);

    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ version: 2 });
    const events = lines.slice(1).map((line) => JSON.parse(line) as [number, string, string]);
    expect(events.every(([time, code, data]) => typeof time === "number" && ["o", "r", "m"].includes(code) && typeof data === "string")).toBe(true);
    const [marker, note] = [events.at(-1)!, events.at(-2)!];
    expect(marker[1]).toBe("m");
    expect(marker[2]).toMatch(NOTE);
    expect(note[1]).toBe("o");
    expect(note[2]).toMatch(NOTE);
    expect(lines.some((line) => line.includes("after-the-limit-56"))).toBe(false);
    term.close();
  }, 120_000);

  test("asciinema reads the cut recording and shows the note", () => {
    // asciinema opens /dev/tty, so it runs under script(1), which gives it one.
    const cat = Bun.spawnSync(["script", "-qec", `asciinema cat ${file}`, "/dev/null"], { stdin: "ignore" });
    expect(cat.exitCode).toBe(0);
    const shown = cat.stdout.toString();
    expect(shown.includes("y\r\ny\r\n")).toBe(true);
    expect(NOTE.test(shown)).toBe(true);
  });

  test("the recording API and the replay page show the note", async () => {
    const served = await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie } });
    expect(served.status).toBe(200);
    expect(NOTE.test(await served.text())).toBe(true);
    const page = await (await pier.fetch(`/sessions/${session.id}/output`, { headers: { cookie } })).text();
    expect(page).toMatch(NOTE);
  });

  test("after a server restart the cut recording stays as it was", async () => {
    const before = readFileSync(file, "utf8");
    await pier.close();
    pier = await startTestPier(env, dataDir);
    const term = await connect();
    await term.run("echo after-restart-$((8*9))", /after-restart-72/);
    await Bun.sleep(300);
    expect(readFileSync(file, "utf8") === before).toBe(true);
    term.close();
  }, 120_000);
});
