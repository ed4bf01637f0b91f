/**
 * A repository's setup and cleanup scripts (repo settings `setupScript`, `cleanupScript`), on the
 * real Docker engine with the suite's test image and pods without network: the setup runs in each
 * new worktree before the session is active, streamed to its page as a step and shown first in its
 * terminal (so its recording holds it before the first prompt); a failing one leaves the session
 * active and says so; it runs again in a resumed session's new worktree, not in one a restart finds
 * made; the cleanup runs before the end's save, and a failing one does not keep the session from ending.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloneDir } from "../../src/repos/layout.ts";
import { getRepo } from "../../src/repos/repos.ts";
import { recordingPath } from "../../src/terminal/recording.ts";
import { runRepoScript, setupNote } from "../../src/sessions/repo-scripts.ts";
import { DESKTOP, launchBrowser, signedInPage, watchErrors } from "../support/browser.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { castOutput } from "../support/recording.ts";
import { type SessionJson, activeSession, addRepo, startSession, waitForState } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { until } from "../support/until.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

/** The test image's prompt at the worktree's root (see the pods' profile.sh). */
const PROMPT = /pier@scripted\$ /;

describe("a repository's setup and cleanup scripts", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-repo-scripts-"));
  let env: Record<string, string>;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  const headers = () => ({ cookie, origin: pier.url });
  const setScripts = async (scripts: { setupScript?: string; cleanupScript?: string }) => {
    const res = await pier.fetch(`/api/repos/${repoId}`, { ...json(scripts, { cookie }), method: "PATCH" });
    expect(res.status).toBe(200);
  };
  /** Runs a command in the session's worktree, in its pod, as the tests' own hand would. */
  const sh = async (session: SessionJson, script: string) => {
    const podId = pier.pier.pods.view(repoId, session.userId)!.containerId!;
    const result = await pier.pier.runtime.exec({ id: podId, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 30_000 });
    expect(result.stderr).toBe("");
    return result.stdout;
  };
  const end = async (session: SessionJson) => {
    const res = await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    expect(res.status).toBe(200);
    return (await res.json()) as SessionJson & { savedUncommitted: boolean; cleanupError: string | null };
  };
  const setupStep = (sessionId: string) =>
    pier.pier.hosts.get(sessionId)?.snapshot().find((event) => event.type === "progress" && event.step === "setup") as { message: string; lines?: string[] } | undefined;

  beforeAll(async () => {
    env = { ...(await dockerTestEnv()), PIER_ALLOW_LOCAL_REPOS: "1" };
    pier = await startTestPier(env, dataDir);
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("scripted").path}`, "scripted");
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the setup runs in the new worktree before the session is active, its lines streamed to the page as they come, and its output is in the recording before the first prompt", async () => {
    // It waits for a file only the test makes, once it has seen the lines on the page: they can only have come while it ran.
    await setScripts({ setupScript: 'echo "in $PWD as $PIER_SESSION_ID"\necho built > built.txt\necho setup-says-$((6*7))\nwhile [ ! -e go ]; do sleep 0.1; done\necho went-on' });
    const res = await startSession(pier, cookie, { repoId });
    const started = (await res.json()) as SessionJson;
    expect(res.status).toBe(201);
    const running = await until("the setup step's lines on the page", async () => setupStep(started.id), (step) => step?.lines?.includes("setup-says-42") === true);
    expect(running!.message).toBe("Running the setup script (stopped after 15 min)…");
    expect(((await (await pier.fetch(`/api/sessions/${started.id}`, { headers: headers() })).json()) as SessionJson).state).toBe("provisioning");
    // The session page shows the step with its lines, and goes on to the terminal once it is active.
    const browser = await launchBrowser();
    try {
      const { page } = await signedInPage(browser, pier.url, cookie, DESKTOP);
      const errors = watchErrors(page);
      await page.goto(`${pier.url}/sessions/${started.id}`);
      const output = page.locator('li[data-step="setup"] .step-output');
      await output.filter({ hasText: "setup-says-42" }).waitFor({ state: "visible" });
      expect(await page.locator('li[data-step="setup"] .step-message').textContent()).toBe("Running the setup script (stopped after 15 min)…");
      await sh(started, "touch go");
      await page.locator("[data-terminal]").waitFor();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }

    const session = await waitForState(pier, cookie, started.id, "active");
    expect(session.error).toBeNull();
    expect(await sh(session, "cat built.txt")).toBe("built\n");
    expect(setupStep(session.id)).toMatchObject({ message: expect.stringMatching(/^Setup script finished in \d+ s\.$/), lines: [`in ${session.worktreePath} as ${session.id}`, "setup-says-42", "went-on"] });

    const cast = await until("a prompt in the recording", async () => (await pier.fetch(`/api/sessions/${session.id}/recording`, { headers: headers() })).text(), (text) => text.startsWith("{") && PROMPT.test(castOutput(text)));
    const output = castOutput(cast);
    const said = output.indexOf("setup-says-42");
    expect(said).toBeGreaterThan(-1);
    expect(said).toBeLessThan(output.search(PROMPT));
    expect(output).toContain(`in ${session.worktreePath} as ${session.id}`);
    expect(output.indexOf("Setup script finished in")).toBeLessThan(output.search(PROMPT));
    // Still a recording asciinema plays (it opens /dev/tty, so it runs under script(1)).
    const played = Bun.spawnSync(["script", "-qec", `asciinema cat ${recordingPath(dataDir, session.id)}`, "/dev/null"], { stdin: "ignore" });
    expect(played.exitCode).toBe(0);
    expect(played.stdout.toString()).toContain("setup-says-42");
    await end(session);
  }, 180_000);

  test("a failing setup leaves the session active and usable, the failure said in its terminal after the tail of its long output", async () => {
    const long = "x".repeat(100);
    // Its last line ends in ";", which tmux would take for the end of the command that starts the shell.
    await setScripts({ setupScript: `seq -f 'line-%g-${long}' 1 3000\necho 'about-to-fail;'\nexit 3` });
    const session = await activeSession(pier, cookie, { repoId });
    expect(session.error).toBeNull();
    expect(setupStep(session.id)!.message).toBe("Setup script failed (exit 3): about-to-fail;");

    // Wide enough that none of the lines wraps.
    const term = await TermClient.connect(pier.url, session.id, headers(), { cols: 200, rows: 50 });
    await term.waitFor(/Setup script failed \(exit 3\): about-to-fail;/);
    await term.run("echo usable-$((1+1))", /usable-2/);
    const seen = term.text.replace(/\r\n/g, "\n");
    expect(seen).toMatch(/Setup script output, its last \d+ lines:/);
    expect(seen).toContain(`line-3000-${long}`);
    expect(seen).not.toContain(`line-1-${long}`);
    term.close();
    await end(session);
  }, 180_000);

  test("a setup past its time limit is stopped, and one that leaves a process running in the background is done when it is", async () => {
    await setScripts({ setupScript: "" });
    const session = await activeSession(pier, cookie, { repoId });
    const shell = await pier.pier.pods.ensure(getRepo(pier.pier.db, repoId), session.userId);
    const live = pier.pier.sessions.get(session.id);
    const run = (script: string, timeoutMs: number) => runRepoScript(shell, { name: "Setup script", script, session: live, repoName: "scripted", timeoutMs });

    const slow = await run("echo before-the-wait\nsleep 60", 1000);
    expect(slow).toMatchObject({ ok: false, summary: "Setup script failed (stopped after 1 s): before-the-wait" });
    // The background process keeps the output open for a minute; the script's own end is what counts.
    const background = await run("sleep 60 &\necho left-running", 120_000);
    expect(background).toMatchObject({ ok: true, lines: ["left-running"] });
    expect(setupNote(background)).toMatch(/^Setup script output:\nleft-running\nSetup script finished in \d+ s\.$/);
    await end(session);
  }, 60_000);

  test("the cleanup runs before the end's save, which keeps what it wrote; a failing one is said and the session ends with its work saved", async () => {
    await setScripts({ setupScript: "", cleanupScript: 'echo "cleaned by $PIER_SESSION_ID" > cleanup.txt' });
    const session = await activeSession(pier, cookie, { repoId });
    const ended = await end(session);
    expect(ended).toMatchObject({ state: "ended", savedUncommitted: true, cleanupError: null });
    const clone = cloneDir(pier.config.workspacesDir, repoId, session.userId);
    const kept = await pier.pier.runtime.exec({ id: pier.pier.pods.view(repoId, session.userId)!.containerId!, image: "" }, ["git", "-C", clone, "show", `${ended.savedCommit}:cleanup.txt`], { cwd: clone });
    expect(kept.stdout).toBe(`cleaned by ${session.id}\n`);

    await setScripts({ cleanupScript: "echo tidying\nexit 5" });
    const failing = await activeSession(pier, cookie, { repoId });
    await sh(failing, "echo never-committed > draft.txt");
    expect(await end(failing)).toMatchObject({ state: "ended", savedUncommitted: true, cleanupError: "Cleanup script failed (exit 5): tidying" });
    await setScripts({ cleanupScript: "" });
  }, 180_000);

  test("a resumed session's new worktree runs the setup again; a restart that finds the worktree made does not", async () => {
    await setScripts({ setupScript: 'echo "$PIER_SESSION_ID" >> setup-runs.txt' });
    const session = await activeSession(pier, cookie, { repoId });
    expect(await sh(session, "wc -l < setup-runs.txt")).toBe("1\n");

    // The server stopped after making the worktree, before the session was active: it provisions it again at start.
    await pier.close();
    const db = new Database(join(dataDir, "pier.db"));
    db.run("UPDATE sessions SET state = 'provisioning' WHERE id = ?", [session.id]);
    db.close();
    pier = await startTestPier(env, dataDir);
    await waitForState(pier, cookie, session.id, "active");
    expect(await sh(session, "wc -l < setup-runs.txt")).toBe("1\n");

    await end(session);
    const resumed = await pier.fetch(`/api/sessions/${session.id}/resume`, json({}, { cookie }));
    expect(resumed.status).toBe(200);
    await waitForState(pier, cookie, session.id, "active");
    // The first line came back with the end's saved commit; the second is the new worktree's setup.
    expect(await sh(session, "cat setup-runs.txt")).toBe(`${session.id}\n${session.id}\n`);
    await end(session);
  }, 240_000);
});
