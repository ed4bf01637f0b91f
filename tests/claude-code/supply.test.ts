/**
 * Claude Code in any image: a pod whose image has no `claude` gets Pier's copy, read-only and
 * last on PATH; an image's own `claude` wins; the pinned version is an admin setting. Pier's
 * copies come from the shared test cache (PIER_TOOLS_DIR), so the build is fetched once per
 * machine; the unknown-version case asks the real npm registry, which says it has no such version.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Docker from "dockerode";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CLAUDE_CODE_VERSION } from "../../src/claude-code/package.ts";
import { getRepo } from "../../src/repos/repos.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { CLAUDE_CODE_DIR, claudeCodeOnHost, claudeCodeTestImage } from "../support/claude-code.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

/** The command lines of the execs Docker made in the repo's pods from `since` (seconds) until now. */
async function execsIn(repoId: string, since: number): Promise<string[]> {
  const until = Math.ceil(Date.now() / 1000) + 1;
  const events = await new Docker().getEvents({ since, until, filters: { label: [`pier.repo=${repoId}`], event: ["exec_create"] } });
  let text = "";
  for await (const chunk of events as AsyncIterable<Buffer>) text += chunk.toString();
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => ((JSON.parse(line) as { status?: string }).status ?? "").replace(/^exec_create: /, ""));
}

const VERSION_LINE = new RegExp(`${DEFAULT_CLAUDE_CODE_VERSION.replaceAll(".", "\\.")} \\(Claude Code\\)`);

describe("Claude Code in a pod whose image has none", () => {
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;
  const clients: TermClient[] = [];
  const terminal = async () => {
    const client = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    clients.push(client);
    return client;
  };
  const put = (body: Record<string, unknown>) => pier.fetch("/api/settings", { ...json(body, { cookie }), method: "PUT" });

  beforeAll(async () => {
    // The build is in the shared cache before Pier starts, as the suite's other Claude Code tests leave it.
    await claudeCodeOnHost();
    pier = await startTestPier(await dockerTestEnv());
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("plain").path}`, "plain");
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await pier.pier.pods.removeAll(repoId);
    await closeForGood(pier);
  }, 60_000);

  test("`claude --version` typed in the terminal runs Pier's copy, found last on PATH", async () => {
    const term = await terminal();
    await term.run("claude --version", VERSION_LINE, 60_000);
    term.text = "";
    await term.run("echo path=$(command -v claude)", /path=(\S+)\r\n/);
    const dir = await pier.pier.claudeCodeCommandFor(session);
    expect(term.text).toContain(`path=${dir}`);
    expect(dir).toEndWith("/claude-code/claude");
    // The PATH entry is the last one, so a claude the image (or the person) installs wins.
    term.text = "";
    await term.run('echo "last=${PATH##*:}"', /last=(\S+)\r\n/);
    expect(term.text).toContain(`last=${dir.slice(0, -"/claude".length)}`);
    // The same file as the kept build: a hard link, not a copy per pod.
    expect(statSync(dir).ino).toBe(statSync(join(CLAUDE_CODE_DIR, DEFAULT_CLAUDE_CODE_VERSION, "linux-x64", "claude")).ino);
  }, 120_000);

  test("a new pod is learned in its first session's own exec: its claude is there once the session is active, and no probe exec runs beside it", async () => {
    const fresh = await addRepo(pier, cookie, `file://${makeRemoteRepo("fresh").path}`, "fresh");
    const since = Math.floor(Date.now() / 1000) - 1;
    const started = await activeSession(pier, cookie, { repoId: fresh });
    expect(existsSync(join(pier.dataDir, "pods", fresh, started.userId, "claude-code", "claude"))).toBe(true);
    // Pier's scripts run as `bash --norc -c <script>`: the worktree's is the only one.
    const scripts = (await execsIn(fresh, since)).filter((command) => command.includes("bash --norc -c "));
    expect(scripts.length).toBe(1);
    expect(scripts[0]).toContain("sync_session_files");
    expect(await pier.pier.claudeCode.noticeFor({ repoId: fresh, userId: started.userId })).toBeNull();
    await pier.fetch(`/api/sessions/${started.id}/end`, json({}, { cookie }));
    await pier.pier.pods.removeAll(fresh);
  }, 120_000);

  test("a session's start that is slow to say what its new pod is does not hold Claude Code back: the pod is then asked on its own", async () => {
    const slow = await addRepo(pier, cookie, `file://${makeRemoteRepo("slow").path}`, "slow");
    const key = { repoId: slow, userId: session.userId };
    const offer = pier.pier.claudeCode.offerFacts(key);
    await pier.pier.pods.ensure(getRepo(pier.pier.db, slow), session.userId);
    // Taken (Pier has not learned this pod), and never answered, as by a start still cloning.
    expect(offer.dir).not.toBeNull();
    const claude = join(pier.dataDir, "pods", slow, session.userId, "claude-code", "claude");
    for (let waited = 0; !existsSync(claude) && waited < 15_000; waited += 100) await Bun.sleep(100);
    expect(existsSync(claude)).toBe(true);
    offer.settle(new Error("the start gave up"));
    await pier.pier.pods.removeAll(slow);
  }, 60_000);

  test("the engine's command is Pier's copy, and it runs there", async () => {
    const command = await pier.pier.claudeCodeCommandFor(session);
    const shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, repoId), session.userId);
    const ran = await shell.runtime.exec(shell.pod, [command, "--version"], { cwd: session.worktreePath, timeoutMs: 60_000 });
    expect(ran.stdout).toMatch(VERSION_LINE);
  }, 120_000);

  test("root in the pod (sudo) cannot change Pier's copy", async () => {
    const command = await pier.pier.claudeCodeCommandFor(session);
    const dir = command.slice(0, -"/claude".length);
    const shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, repoId), session.userId);
    const attempts = [
      `echo x >> ${command}`,
      `rm -f ${command}`,
      `touch ${dir}/other`,
      `chmod 777 ${command}`,
      `ln -sf /bin/sh ${dir}/claude`,
    ];
    for (const attempt of attempts) {
      const result = await shell.runtime.exec(shell.pod, ["sudo", "-n", "sh", "-c", attempt], { cwd: session.worktreePath, timeoutMs: 20_000 });
      expect(result.exitCode, attempt).not.toBe(0);
      expect(result.stderr, attempt).toContain("Read-only file system");
    }
    const whoami = await shell.runtime.exec(shell.pod, ["sudo", "-n", "id", "-u"], { cwd: session.worktreePath });
    expect(whoami.stdout.trim()).toBe("0");
    const still = await shell.runtime.exec(shell.pod, [command, "--version"], { cwd: session.worktreePath, timeoutMs: 60_000 });
    expect(still.stdout).toMatch(VERSION_LINE);
  }, 120_000);

  test("a version that is not one is refused with 400 naming the field, and nothing changes", async () => {
    for (const bad of ["latest", "2.1.330; rm -rf /", "../../etc", "2.1", 7]) {
      const res = await put({ claudeCodeVersion: bad, podCpus: 3 });
      expect(res.status).toBe(400);
      const error = await apiError(res);
      expect(error.code).toBe("invalid_claude_code_version");
      expect(error.message).toContain("Claude Code version");
    }
    const settings = (await (await pier.fetch("/api/settings", { headers: { cookie } })).json()) as { claudeCodeVersion: string; podCpus: number };
    expect(settings.claudeCodeVersion).toBe(DEFAULT_CLAUDE_CODE_VERSION);
    expect(settings.podCpus).toBe(2);
  });

  test("an unknown version is told clearly, and the copy already in the pod keeps working", async () => {
    const res = await put({ claudeCodeVersion: "0.0.1" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { claudeCodeVersion: string }).claudeCodeVersion).toBe("0.0.1");
    const key = { repoId, userId: session.userId };
    const failure = await pier.pier.claudeCodeCommandFor(session).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failure).toContain("Claude Code 0.0.1 could not be fetched: The npm registry has no @anthropic-ai/claude-code-linux-x64 0.0.1.");
    expect(await pier.pier.claudeCode.noticeFor(key)).toContain("Claude Code 0.0.1 could not be fetched");
    const problems = await pier.pier.claudeCode.problems();
    expect(problems.map((p) => p.state === "failed" && p.error)).toEqual([expect.stringContaining("0.0.1")]);
    // Said on the session page and on the settings page.
    const sessionPage = await (await pier.fetch(`/sessions/${session.id}`, { headers: { cookie } })).text();
    expect(sessionPage).toContain("Claude Code 0.0.1 could not be fetched");
    const settingsPage = await (await pier.fetch("/settings", { headers: { cookie } })).text();
    expect(settingsPage).toContain('value="0.0.1"');
    expect(settingsPage).toContain("Claude Code 0.0.1 could not be fetched");
    // The build already in the pod stays until a new one is here: the terminal's claude still runs.
    const term = await terminal();
    await term.run("claude --version", VERSION_LINE, 60_000);
    const back = await put({ claudeCodeVersion: DEFAULT_CLAUDE_CODE_VERSION });
    expect(back.status).toBe(200);
    expect(await pier.pier.claudeCodeCommandFor(session)).toEndWith("/claude-code/claude");
    expect(await pier.pier.claudeCode.noticeFor(key)).toBeNull();
  }, 120_000);
});

describe("Claude Code in a pod whose image has its own", () => {
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;

  beforeAll(async () => {
    const image = await claudeCodeTestImage();
    pier = await startTestPier(await dockerTestEnv());
    cookie = await setUpAdmin(pier);
    const res = await pier.fetch("/api/repos", json({ url: `file://${makeRemoteRepo("own").path}`, name: "own", image }, { cookie }));
    expect(res.status).toBe(201);
    repoId = ((await res.json()) as { id: string }).id;
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    await pier.pier.pods.removeAll(repoId);
    await closeForGood(pier);
  }, 60_000);

  test("the image's own /usr/bin/claude is used, in the terminal and for the engine", async () => {
    expect(await pier.pier.claudeCodeCommandFor(session)).toBe("/usr/bin/claude");
    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    await term.run("echo path=$(command -v claude)", /path=(\S+)\r\n/);
    expect(term.text).toContain("path=/usr/bin/claude");
    await term.run("claude --version", VERSION_LINE, 60_000);
    term.close();
    expect(await pier.pier.claudeCode.noticeFor({ repoId, userId: session.userId })).toBeNull();
  }, 120_000);
});

describe("Claude Code on the local runtime", () => {
  let pier: TestPier;
  let cookie: string;
  let session: SessionJson;

  beforeAll(async () => {
    await claudeCodeOnHost();
    pier = await startTestPier({ PIER_RUNTIME: "local", PIER_ALLOW_LOCAL_REPOS: "1" });
    cookie = await setUpAdmin(pier);
    const repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("local").path}`, "local");
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
  }, 60_000);

  test("the machine's own claude, else Pier's copy for this machine, last on commands' PATH", async () => {
    const own = Bun.which("claude");
    const command = await pier.pier.claudeCodeCommandFor(session);
    expect(command).toBe(own ?? join(CLAUDE_CODE_DIR, DEFAULT_CLAUDE_CODE_VERSION, "linux-x64", "claude"));
    const ran = await pier.pier.runtime.exec({ id: "local", image: "local" }, ["claude", "--version"], { cwd: session.worktreePath, timeoutMs: 60_000 });
    expect(ran.stdout).toMatch(VERSION_LINE);
  }, 120_000);
});
