/**
 * Fault: Pier is upgraded under people's feet. The previous release (the last one releases.json
 * names, built from its commit) makes a data dir with a live session: a chat turn that cost money,
 * a terminal whose output is recorded, a file not yet committed. It is stopped as `docker stop`
 * stops it, and the current code is started on the same data dir; on each runtime (the Docker
 * engine's pods, and the local runtime's shells).
 *
 * What must hold: the migrations since apply; the people, repos, session, transcript, costs and
 * recording are all there; the live session carries on: its terminal is the same shell in the same
 * worktree (its uncommitted file there), the recording goes on growing, and the next chat turn
 * answers with the conversation's history sent along.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS_DIR } from "../../src/infra/db.ts";
import { ChatClient } from "../support/chat-client.ts";
import { TEST_CACHE } from "../support/claude-code.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { ADMIN, type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { previousRelease, releaseTree } from "../support/release.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-upgrade-key-00000000000000000";
const MEMBER = { username: "uma", password: "uma's long password" };

/** The old release's server, as `bun start` runs it, until it is sent SIGTERM. */
async function startOldPier(tree: string, env: Record<string, string>) {
  const child = Bun.spawn(["bun", "src/main.ts"], { cwd: tree, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const reader = child.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 60_000;
  while (!/Pier is ready at (\S+)/.test(out)) {
    if (Date.now() > deadline) throw new Error(`the old Pier did not start: ${out}`);
    const read = await reader.read();
    if (read.done) throw new Error(`the old Pier exited: ${out}${await new Response(child.stderr).text()}`);
    out += new TextDecoder().decode(read.value);
  }
  reader.releaseLock();
  const url = out.match(/Pier is ready at (\S+)/)![1]!;
  return { child, url, fetch: (path: string, init?: RequestInit) => fetch(url + path, { redirect: "manual", ...init }) };
}

for (const runtime of ["local", "docker"] as const) describe(`an upgrade from ${previousRelease().tag} on the ${runtime} runtime`, () => {
  const release = previousRelease();
  const dataDir = mkdtempSync(join(tmpdir(), "pier-upgrade-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;
  let before: Awaited<ReturnType<typeof snapshotOf>>;
  let recordingBefore: string;

  const snapshotOf = async (get: (path: string) => Promise<unknown>) => ({
    users: ((await get("/api/users")) as Array<{ id: string; username: string; role: string }>).map(({ id, username, role }) => ({ id, username, role })),
    repos: ((await get("/api/repos")) as Array<{ id: string; name: string; url: string }>).map(({ id, name, url }) => ({ id, name, url })),
    sessions: ((await get("/api/sessions")) as Array<Record<string, unknown>>).map(({ id, branch, state, costUsd, worktreePath, engine }) => ({ id, branch, state, costUsd, worktreePath, engine })),
    transcript: ((await get(`/api/sessions/${session.id}/transcript`)) as Array<{ kind: string; text?: string }>).map(({ kind, text }) => ({ kind, text })),
    costs: await get("/api/costs?groupBy=session"),
  });

  beforeAll(async () => {
    const tree = releaseTree(release);
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    const runtimeEnv = runtime === "docker" ? await dockerTestEnv() : { PIER_RUNTIME: "local" };
    const env = { PIER_HOST: "127.0.0.1", PIER_PORT: "0", PIER_PREVIEW_PORT: "0", PIER_DATA_DIR: dataDir, PIER_TOOLS_DIR: TEST_CACHE, PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url, ...runtimeEnv };
    const old = await startOldPier(tree, env);
    try {
      const asOld = old as unknown as TestPier;
      cookie = await setUpAdmin(asOld);
      await old.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
      expect((await old.fetch("/api/users", json({ ...MEMBER, role: "member" }, { cookie }))).status).toBe(201);
      const repoId = await addRepo(asOld, cookie, `file://${makeRemoteRepo("upgraded").path}`, "upgraded");
      session = await activeSession(asOld, cookie, { repoId, engine: "pier" });
      fake.script({ text: "The old release answered this.", usage: { input_tokens: 777, output_tokens: 33 } });
      const chat = await ChatClient.connect(old.url, session.id, { cookie, origin: old.url });
      await chat.turn("a question asked before the upgrade");
      chat.close();
      const term = await TermClient.connect(old.url, session.id, { cookie, origin: old.url });
      await term.run("export SHELL_MARK=kept-$$; echo uncommitted > left-over.txt; echo before-$((40+2))-upgrade", /before-42-upgrade/);
      term.close();
      const get = async (path: string) => (await old.fetch(path, { headers: { cookie } })).json();
      before = await snapshotOf(get);
    } finally {
      old.child.kill("SIGTERM");
      expect(await old.child.exited).toBe(0);
    }
    recordingBefore = readFileSync(join(dataDir, "recordings", `${session.id}.cast`), "utf8");
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url, ...runtimeEnv }, dataDir);
  }, 240_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the migrations since apply and nothing is lost", async () => {
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
    const applied = pier.pier.db.$client.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number };
    expect(applied.n).toBe(journal.entries.length);
    const get = async (path: string) => (await pier.fetch(path, { headers: { cookie } })).json();
    expect(await snapshotOf(get)).toEqual(before);
    expect((before.transcript as Array<{ text?: string }>).some((item) => item.text === "The old release answered this.")).toBe(true);
    expect((before.costs as Array<{ inputTokens: number }>)[0]?.inputTokens).toBe(777);
    // Passwords still sign in; the roll-ups the old release never had hold its ledger.
    await signIn(pier, ADMIN.username, ADMIN.password);
    await signIn(pier, MEMBER.username, MEMBER.password);
    const totals = pier.pier.db.$client.query("SELECT sum(input_tokens) AS n FROM cost_totals WHERE dimension = 'session'").get() as { n: number };
    expect(totals.n).toBe(777);
  });

  test("the live session carries on: the same shell and worktree, the recording growing, the chat remembering", async () => {
    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await term.run("echo mark=$SHELL_MARK file=$(cat left-over.txt) after-$((40+3))-upgrade", /mark=kept-\d+ file=uncommitted after-43-upgrade/);
    term.close();
    const recording = await (await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: { cookie } })).text();
    expect(recording.startsWith(recordingBefore)).toBe(true);
    expect(recording).toContain("after-43-upgrade");

    fake.script({ text: "The new release answered this.", usage: { input_tokens: 800, output_tokens: 40 } });
    const chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    const turn = await chat.turn("a question asked after the upgrade");
    chat.close();
    expect(JSON.stringify(turn)).toContain("The new release answered this.");
    const sent = JSON.stringify(fake.requests.at(-1)!.body.messages);
    expect(sent).toContain("a question asked before the upgrade");
    expect(sent).toContain("The old release answered this.");
    const shown = (await (await pier.fetch(`/api/sessions/${session.id}`, { headers: { cookie } })).json()) as { costUsd: number };
    expect(shown.costUsd).toBeCloseTo(((777 + 800) * 3 + (33 + 40) * 15) / 1_000_000, 9);
  }, 60_000);
});
