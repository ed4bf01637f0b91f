/**
 * Fault: the machine Pier ran on is gone, and what is left is a backup taken while Pier was busy.
 *
 * What must hold: `bun run backup FILE` (and an admin's GET /api/admin/backup) writes one archive
 * while Pier runs and records; `bun run restore FILE` refuses a data dir that is not empty with a
 * sentence and fills an empty one; Pier started on it has the same people (who sign in with their
 * passwords), repos, sessions, transcripts, costs, recordings and saved secrets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { list } from "tar";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";

const ROOT = join(import.meta.dir, "..", "..");
const API_KEY = "sk-ant-backup-key-0000000000000000";
const GITHUB_TOKEN = "ghp_backup_secret_0123456789abcdef";
const MEMBER = { username: "mia", password: "mia's long password" };

/** Runs `bun run backup|restore FILE` on a data dir, as an admin would. */
async function cli(command: "backup" | "restore", file: string, dataDir: string) {
  const child = Bun.spawn(["bun", "run", command, file], { cwd: ROOT, env: { ...process.env, PIER_DATA_DIR: dataDir }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, code };
}

describe("backup and restore", () => {
  const scratch = mkdtempSync(join(tmpdir(), "pier-backup-test-"));
  const dataDir = join(scratch, "data");
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let memberCookie: string;
  let session: SessionJson;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY, githubToken: GITHUB_TOKEN }, { cookie }), method: "PUT" });
    expect((await pier.fetch("/api/users", json({ ...MEMBER, role: "member" }, { cookie }))).status).toBe(201);
    memberCookie = await signIn(pier, MEMBER.username, MEMBER.password);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("kept").path}`, "kept");
    session = await activeSession(pier, cookie, { repoId, engine: "pier" });
    fake.script({ text: "Noted: the backup must keep this answer.", usage: { input_tokens: 1234, output_tokens: 56 } });
    const chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await chat.turn("remember this before the backup");
    chat.close();
    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await term.run("echo recorded-$((6*7))-before-backup", /recorded-42-before-backup/);
    term.close();
  }, 180_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  const snapshotOf = async (of: TestPier, as: string) => {
    const get = async (path: string) => (await of.fetch(path, { headers: { cookie: as } })).json();
    return {
      users: ((await get("/api/users")) as Array<{ username: string; role: string }>).map(({ username, role }) => ({ username, role })),
      repos: ((await get("/api/repos")) as Array<{ id: string; name: string; url: string }>).map(({ id, name, url }) => ({ id, name, url })),
      sessions: ((await get("/api/sessions")) as Array<Record<string, unknown>>).map(({ id, branch, state, costUsd, title }) => ({ id, branch, state, costUsd, title })),
      transcript: await get(`/api/sessions/${session.id}/transcript`),
      costs: await get("/api/costs?groupBy=session"),
    };
  };

  test("a backup taken while Pier records restores into an empty data dir, and Pier on it has everything", async () => {
    const archive = join(scratch, "pier.tar.gz");
    // The terminal keeps writing its recording while the backup runs.
    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    term.input("for i in $(seq 1 200); do echo during-backup-$i; sleep 0.01; done\r");
    const backedUp = await cli("backup", archive, dataDir);
    expect(backedUp.code, backedUp.stderr).toBe(0);
    expect(backedUp.stdout).toContain("1 recording(s) and the secret key");
    await term.waitFor(/during-backup-200/);
    term.close();
    expect(statSync(archive).mode & 0o077).toBe(0);

    // What it holds: the database, the key and the recordings, nothing a pod could have written.
    const names: string[] = [];
    await list({ file: archive, onReadEntry: (entry) => void names.push(entry.path) });
    expect(names.toSorted()).toEqual(["pier-backup.json", "pier.db", "recordings/", `recordings/${session.id}.cast`, "secret.key"].toSorted());

    const before = await snapshotOf(pier, cookie);
    const recordingBefore = readFileSync(join(dataDir, "recordings", `${session.id}.cast`), "utf8");

    // A data dir with anything in it is refused, with a sentence, and left as it was.
    const busy = join(scratch, "busy");
    mkdirSync(busy);
    writeFileSync(join(busy, "notes.txt"), "mine");
    const refused = await cli("restore", archive, busy);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The data dir ${busy} is not empty; restore into an empty (or new) directory`);
    expect(readdirSync(busy)).toEqual(["notes.txt"]);

    const restoredDir = join(scratch, "restored");
    const restored = await cli("restore", archive, restoredDir);
    expect(restored.code, restored.stderr).toBe(0);
    // Restored elsewhere: the person is told where the sessions' worktrees were recorded.
    expect(restored.stdout).toContain(`That backup was taken from ${dataDir}: its sessions' worktrees are recorded under that path`);
    expect(statSync(restoredDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(restoredDir, "pier.db")).mode & 0o777).toBe(0o600);
    expect(statSync(join(restoredDir, "secret.key")).mode & 0o777).toBe(0o600);

    const second = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, restoredDir);
    try {
      // The same people, with the same passwords; the old sign-in cookie is in the database too.
      const cookieThere = await signIn(second, "admin", "correct horse battery");
      await signIn(second, MEMBER.username, MEMBER.password);
      const after = await snapshotOf(second, cookieThere);
      expect(after).toEqual(before);
      expect((after.transcript as Array<{ kind: string; text?: string }>).some((item) => item.text === "Noted: the backup must keep this answer.")).toBe(true);
      expect((after.costs as Array<{ inputTokens: number }>)[0]?.inputTokens).toBe(1234);
      expect(await second.pier.settings.secret("githubToken")).toBe(GITHUB_TOKEN);
      // The recording: everything up to the backup, whole lines only, and it plays.
      const recording = await (await second.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie: cookieThere } })).text();
      expect(recording).toContain("recorded-42-before-backup");
      expect(recordingBefore.startsWith(recording)).toBe(true);
      expect(recording.endsWith("\n")).toBe(true);
      for (const line of recording.trimEnd().split("\n")) JSON.parse(line);
    } finally {
      await second.close();
    }
  }, 120_000);

  test("an admin downloads the same archive from the API and the settings page; members and strangers may not", async () => {
    const stranger = await pier.fetch("/api/admin/backup");
    expect(stranger.status).toBe(401);
    const member = await pier.fetch("/api/admin/backup", { headers: { cookie: memberCookie } });
    expect(member.status).toBe(403);
    expect(((await member.json()) as { error: { code: string } }).error.code).toBe("forbidden");

    const page = await (await pier.fetch("/settings", { headers: { cookie } })).text();
    expect(page).toContain('href="/api/admin/backup"');

    const res = await pier.fetch("/api/admin/backup", { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="pier-backup-[0-9-]+\.tar\.gz"$/);
    const archive = join(scratch, "downloaded.tar.gz");
    writeFileSync(archive, new Uint8Array(await res.arrayBuffer()));
    // Nothing of the download is left behind in the temporary directory.
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith("pier-backup-download-"))).toEqual([]);

    const restoredDir = join(scratch, "from-download");
    const restored = await cli("restore", archive, restoredDir);
    expect(restored.code, restored.stderr).toBe(0);
    const second = await startTestPier({}, restoredDir);
    try {
      const there = await signIn(second, MEMBER.username, MEMBER.password);
      const repos = (await (await second.fetch("/api/repos", { headers: { cookie: there } })).json()) as Array<{ name: string }>;
      expect(repos.map((repo) => repo.name)).toEqual(["kept"]);
    } finally {
      await second.close();
    }
  }, 120_000);

  test("a restore takes only a backup's own names, as plain files: no path out of the data dir, no link, no workspace", async () => {
    const made = join(scratch, "crafted");
    mkdirSync(join(made, "recordings"), { recursive: true });
    mkdirSync(join(made, "workspaces"));
    writeFileSync(join(made, "pier-backup.json"), JSON.stringify({ format: 1, pierVersion: "0.0.0", createdAt: "then", secretKey: false, recordings: 1 }));
    pier.pier.db.$client.query("VACUUM INTO ?").run(join(made, "pier.db"));
    writeFileSync(join(made, "escape"), "outside");
    writeFileSync(join(made, "workspaces", "planted"), "in a workspace");
    symlinkSync("/etc/passwd", join(made, "recordings", "linked.cast"));
    const archive = join(scratch, "crafted.tar.gz");
    // GNU tar keeps a member named ../escape.txt when it is renamed so on the way in.
    const packed = Bun.spawnSync(["tar", "-czf", archive, "-C", made, "--transform", "s,^escape$,../escape.txt,", "pier-backup.json", "pier.db", "escape", "recordings", "workspaces"]);
    expect(packed.exitCode).toBe(0);

    const target = join(scratch, "crafted-restore", "data");
    const restored = await cli("restore", archive, target);
    expect(restored.code, restored.stderr).toBe(0);
    expect(readdirSync(target).toSorted()).toEqual(["pier.db", "recordings"]);
    expect(readdirSync(join(target, "recordings"))).toEqual([]);
    expect(() => statSync(join(scratch, "crafted-restore", "escape.txt"))).toThrow();
  });

  test("a file that is not a Pier backup is refused and leaves no data dir behind", async () => {
    const bogus = join(scratch, "bogus.tar.gz");
    writeFileSync(bogus, "not an archive at all");
    const target = join(scratch, "never");
    const refused = await cli("restore", bogus, target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("is not a Pier backup");
    expect(() => statSync(target)).toThrow();
  });
});
