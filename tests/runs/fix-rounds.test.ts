/**
 * A run's fix rounds, end to end on the local runtime: a real Pier and real git, the fake Anthropic
 * scripting the agent, the fake GitHub reporting CI (with its job's log), reviews with line
 * comments, and a base that moves under the pull request. Failing CI, a review asking for
 * changes and a conflict each become a round whose message carries what GitHub said, quoted; past
 * maxFixRounds the run fails with the reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeAnthropic, Step } from "../support/fake-anthropic.ts";
import type { FakeGitHub } from "../support/fake-github.ts";
import { type TestPier, json } from "../support/pier.ts";
import { type RunJson, agentCommits, agentWhoseTaskSays, runCalls, setUpRuns, startPierOnFakes, tearDownRuns } from "../support/runs.ts";
import { until } from "../support/until.ts";

const HOUR = 3_600_000;

describe("a run's fix rounds", () => {
  let github: FakeGitHub;
  let anthropic: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;

  const { get, runOf, runIn, newTask, startRuns } = runCalls(() => ({ pier, cookie, repoId }));
  const settings = (values: Record<string, unknown>) => pier.fetch("/api/settings", { ...json(values, { cookie }), method: "PUT" });
  /**
   * GitHub asked again (as if a poll period had passed) until the run is as the test expects (or
   * failed): what the test did on GitHub reaches Pier's copy of the pull request, whose change
   * moves the run. Asked again and again, since a poll can join a look at GitHub that began
   * before the change.
   */
  const polledUntil = (run: RunJson, what: string, ok: (run: RunJson) => boolean) =>
    until(
      `run ${run.id}: ${what}`,
      async () => {
        await pier.pier.prs.poll(Date.now() + HOUR);
        return runOf(run.id);
      },
      (current) => ok(current) || current.state === "failed",
    );
  /** A task's run, started and followed until its pull request is open and waiting on CI. */
  const runToPullRequest = async (title: string, work: Step[]): Promise<{ run: RunJson; head: string }> => {
    const taskId = await newTask(title);
    anthropic.script(...work);
    const [started] = await startRuns(taskId);
    const run = await runIn(started!.id, "waiting_ci", "failed");
    expect(run.reason).toBeNull();
    return { run, head: (await github.pull("octo", "widgets", run.prNumber!)).headSha };
  };
  /** The text of the last message Pier sent a run's agent that starts so. */
  const toldAgent = (start: string): string => {
    for (const request of anthropic.requests.toReversed()) {
      const last = request.body.messages?.at(-1);
      if (last?.role !== "user") continue;
      const text = typeof last.content === "string" ? last.content : last.content.map((block: { text?: string }) => block.text ?? "").join("");
      if (text.startsWith(start)) return text;
    }
    throw new Error(`no message to the agent starts with ${start}`);
  };
  const headMoved = (number: number, from: string) => until("the pushed fix", () => github.pull("octo", "widgets", number), (pull) => pull.headSha !== from);
  const reportReady = () => anthropic.scriptWhen((body) => body.system === undefined, { text: "## Summary\nDone." });

  beforeAll(async () => {
    ({ github, anthropic, pier, cookie, repoId } = await setUpRuns({ maxFixRounds: 3 }));
  }, 120_000);

  afterAll(() => tearDownRuns({ pier, github, anthropic }));

  test("CI red: a fix round carries the failing check's output and log line, the fix is pushed, CI green moves the run on to approval", async () => {
    const { run, head } = await runToPullRequest("Greet people", agentCommits("greeting.txt", "helo\n", "Greet"));
    await github.setCheckRun("octo", "widgets", head, {
      name: "test",
      status: "completed",
      conclusion: "failure",
      output: { title: "1 test failed", summary: "greeting.test.ts: the greeting is misspelt" },
      log: 'bun test v1.4.5\n(fail) greeting > spells hello\nerror: expected "hello", received "helo"\n##[error]Process completed with exit code 1.',
    });
    anthropic.script(...agentCommits("greeting.txt", "hello\n", "Spell hello"));
    const asked = github.requests.length;
    const fixing = await polledUntil(run, "the CI round", (r) => r.rounds.length === 1);
    const forRound = github.requests.slice(asked, github.requests.findIndex((request, i) => i >= asked && request.path.startsWith("/actions-results/")) + 1);
    const named = forRound.map((request) => `${request.path.replace(/^\/api\/v3\/repos\/octo\/widgets/, "").replace(/^\/actions-results\/.*/, "(log storage)")}${request.notModified ? " 304" : ""}`);
    console.log(`[rounds] GitHub requests from the first poll after CI turned red to the CI round given: ${forRound.length}: ${named.join(", ")}`);
    expect(fixing.rounds).toEqual([expect.objectContaining({ kind: "ci", summary: "CI failed: test", headSha: head })]);
    const said = toldAgent(`CI failed on your pull request #${run.prNumber}`);
    expect(said).toContain(`<quoted from="CI on GitHub" what="failing check “test” (failure) of pull request #${run.prNumber}">\n1 test failed\n\ngreeting.test.ts: the greeting is misspelt`);
    expect(said).toContain('The last lines of its log:\nbun test v1.4.5\n(fail) greeting &gt; spells hello\nerror: expected "hello", received "helo"');

    const fixed = await headMoved(run.prNumber!, head);
    expect(github.gitAt("octo", "widgets", "show", `${fixed.headSha}:greeting.txt`)).toBe("hello");
    await runIn(run.id, "waiting_ci", "failed");
    reportReady();
    await github.setCheckRun("octo", "widgets", fixed.headSha, { name: "test", status: "completed", conclusion: "success" });
    expect(await polledUntil(run, "awaiting approval", (r) => r.state === "awaiting_approval")).toMatchObject({ state: "awaiting_approval", reason: null });
  }, 180_000);

  test("changes requested: a round with the review and its line comments; answered, the run waits for the reviewer, whose approval moves it on", async () => {
    const { run, head } = await runToPullRequest("Write notes", agentCommits("notes.txt", "first line\nsecond line\n", "Write notes"));
    const review = await github.addReview("octo", "widgets", run.prNumber!, {
      login: "alice",
      state: "CHANGES_REQUESTED",
      body: "Nearly there.",
      comments: [{ path: "notes.txt", line: 2, body: "Say <which> line this is." }],
    });
    await github.setCheckRun("octo", "widgets", head, { name: "test", status: "completed", conclusion: "success" });
    anthropic.script(...agentCommits("notes.txt", "first line\nsecond line, the last\n", "Name the last line"));
    const fixing = await polledUntil(run, "the review round", (r) => r.rounds.length === 1);
    expect(fixing.rounds).toEqual([expect.objectContaining({ kind: "review", summary: "Changes requested by alice (1 line comment)", reviewIds: [review] })]);
    const said = toldAgent("Changes requested by alice (1 line comment)");
    expect(said).toContain(`<quoted from="alice (a reviewer on GitHub)" what="review requesting changes on pull request #${run.prNumber}">\nNearly there.\n</quoted>`);
    expect(said).toContain('<quoted from="alice (a reviewer on GitHub)" what="comment on notes.txt, line 2">\nSay &lt;which&gt; line this is.\n</quoted>');

    const fixed = await headMoved(run.prNumber!, head);
    await runIn(run.id, "waiting_ci", "failed");
    await github.setCheckRun("octo", "widgets", fixed.headSha, { name: "test", status: "completed", conclusion: "success" });
    // The review was answered once; until alice looks again the run waits, and is given no second round.
    expect(await polledUntil(run, "waiting for alice", (r) => r.state === "waiting_review")).toMatchObject({ state: "waiting_review", rounds: [expect.objectContaining({ kind: "review" })] });

    reportReady();
    await github.addReview("octo", "widgets", run.prNumber!, { login: "alice", state: "APPROVED" });
    expect(await polledUntil(run, "awaiting approval", (r) => r.state === "awaiting_approval")).toMatchObject({ rounds: [expect.objectContaining({ kind: "review" })] });
  }, 180_000);

  test("a conflict with a base that moved on: a rebase round onto the base Pier fetched; the rebased branch replaces the old one and merges cleanly", async () => {
    const { run, head } = await runToPullRequest("Describe the run", agentCommits("README.md", "# widgets\n\nFrom the run.\n", "README from the run"));
    // Someone changes the same line on main.
    const tree = mkdtempSync(join(tmpdir(), "pier-rounds-main-"));
    github.gitAt("octo", "widgets", "worktree", "add", "--detach", join(tree, "main"), "main");
    writeFileSync(join(tree, "main", "README.md"), "# widgets\n\nFrom main.\n");
    const identity = ["-c", "user.name=Someone", "-c", "user.email=someone@example.com"];
    expect(Bun.spawnSync(["git", ...identity, "commit", "-qam", "README from main"], { cwd: join(tree, "main") }).exitCode).toBe(0);
    const mainTip = Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: join(tree, "main") }).stdout.toString().trim();
    github.gitAt("octo", "widgets", "update-ref", "refs/heads/main", mainTip);
    github.gitAt("octo", "widgets", "worktree", "remove", "--force", join(tree, "main"));
    rmSync(tree, { recursive: true, force: true });

    anthropic.script(
      {
        toolUse: {
          name: "bash",
          input: { command: "git rebase origin/main; printf '# widgets\\n\\nFrom main, and from the run.\\n' > README.md && git add README.md && GIT_EDITOR=true git rebase --continue && git log --oneline -3" },
        },
      },
      { text: "Rebased onto main." },
    );
    // GitHub works mergeability out after the first read: a later poll knows it conflicts.
    const fixing = await polledUntil(run, "the conflict round", (r) => r.rounds.length === 1);
    expect(fixing.rounds).toEqual([expect.objectContaining({ kind: "conflict", summary: "Conflicts with main: rebase onto it", headSha: head })]);
    expect(toldAgent(`Your pull request #${run.prNumber} no longer merges cleanly into main`)).toContain("git rebase origin/main");

    const rebased = await headMoved(run.prNumber!, head);
    // Pushed over the old branch (a lease, not a plain push), on top of main as it is now.
    github.gitAt("octo", "widgets", "merge-base", "--is-ancestor", mainTip, rebased.headSha);
    expect(github.gitAt("octo", "widgets", "show", `${rebased.headSha}:README.md`)).toBe("# widgets\n\nFrom main, and from the run.");
    await runIn(run.id, "waiting_ci", "failed");
    reportReady();
    await github.setCheckRun("octo", "widgets", rebased.headSha, { name: "test", status: "completed", conclusion: "success" });
    expect(await polledUntil(run, "awaiting approval", (r) => r.state === "awaiting_approval")).toMatchObject({ state: "awaiting_approval", reason: null });
  }, 180_000);

  test("a run survives a Pier restart mid-round: its agent is told to carry on, the fix is pushed, and the round is not given twice", async () => {
    const { run, head } = await runToPullRequest("Outlive a restart", agentCommits("restart.txt", "half\n", "Half done"));
    await github.setCheckRun("octo", "widgets", head, { name: "test", status: "completed", conclusion: "failure", log: "error: only half done" });
    const held = Promise.withResolvers<void>();
    anthropic.script({ text: "Looking at the failure…", heldUntil: held.promise });
    await polledUntil(run, "the round under way", (r) => r.state === "fixing");

    await pier.close();
    held.resolve();
    anthropic.script(...agentCommits("restart.txt", "whole\n", "Finish it"));
    pier = await startPierOnFakes(github, anthropic, pier.dataDir);

    const fixed = await headMoved(run.prNumber!, head);
    expect(github.gitAt("octo", "widgets", "show", `${fixed.headSha}:restart.txt`)).toBe("whole");
    expect(await runIn(run.id, "waiting_ci", "failed")).toMatchObject({ rounds: [expect.objectContaining({ kind: "ci", headSha: head })] });
    const transcript = await get<Array<{ kind: string; text?: string }>>(`/api/sessions/${run.sessionId}/transcript`);
    const told = transcript.filter((item) => item.kind === "user").map((item) => item.text ?? "");
    expect(told.map((text) => text.slice(0, 30))).toEqual([
      expect.stringContaining("You are working unattended"),
      `CI failed on your pull request`,
      expect.stringContaining("Pier restarted while you were"),
    ]);
    // Told to finish the round it was in, named by its summary (the check's name quoted: it is CI's word), not the whole task.
    expect(told[2]).toContain("you were in a fix round for failing CI");
    expect(told[2]).toContain("Finish that round");
    expect(told[2]).toContain('what="summary of the ci round">\nCI failed: test\n</quoted>');
    expect(told[2]).not.toContain("finish the task");
  }, 180_000);

  test("a fix round waits for a slot: at maxConcurrentRuns 1 the run stays waiting on CI while another run works, then its round starts before a run queued after it asked", async () => {
    const { run, head } = await runToPullRequest("Wait for a slot", agentCommits("slot.txt", "fist\n", "Slot"));
    expect((await settings({ maxConcurrentRuns: 1 })).status).toBe(200);
    const startTask = async (title: string) => (await startRuns(await newTask(title)))[0]!;
    const held = Promise.withResolvers<void>();
    anthropic.scriptWhen(agentWhoseTaskSays("Hold the slot"), { text: "Thinking…", heldUntil: held.promise });
    const holder = await startTask("Hold the slot");
    expect(holder.state).toBe("working");

    await github.setCheckRun("octo", "widgets", head, { name: "test", status: "completed", conclusion: "failure", log: "error: fist is not first" });
    const slotWanted = () => (pier.pier.db.$client.query("SELECT slot_wanted_at AS at FROM runs WHERE id = ?").get(run.id) as { at: number | null }).at;
    await until(
      "the round waiting for a slot",
      async () => {
        await pier.pier.prs.poll(Date.now() + HOUR);
        return { run: await runOf(run.id), wanted: slotWanted() };
      },
      ({ run: current, wanted }) => wanted !== null || current.rounds.length > 0,
    );
    // CI failed, but the only slot is taken: no round yet, and the run still waits on CI.
    expect(await runOf(run.id)).toMatchObject({ state: "waiting_ci", rounds: [] });
    const queued = await startTask("Queued behind");
    expect(queued.state).toBe("queued");

    anthropic.scriptWhen(agentWhoseTaskSays("Wait for a slot"), ...agentCommits("slot.txt", "first\n", "Spell first"));
    anthropic.scriptWhen(agentWhoseTaskSays("Queued behind"), { text: "Nothing to do." });
    held.resolve();
    // The holder's turn ends with no commits: it fails, and the slot goes to the round, which asked before the queued run was started.
    const fixing = await until("the round", () => runOf(run.id), (current) => current.rounds.length === 1);
    expect(fixing.rounds).toEqual([expect.objectContaining({ kind: "ci", headSha: head })]);
    expect((await runOf(queued.id)).state).toBe("queued");
    expect(slotWanted()).toBeNull();
    // Its fix pushed, the run waits on CI again and the queued run has its turn.
    await headMoved(run.prNumber!, head);
    expect(await runIn(queued.id, "failed")).toMatchObject({ reason: expect.stringContaining("no commits") });
    expect((await settings({ maxConcurrentRuns: 2 })).status).toBe(200);
  }, 180_000);

  test("maxFixRounds reached: CI still red after the last round fails the run with the reason", async () => {
    expect((await settings({ maxFixRounds: 1 })).status).toBe(200);
    const { run, head } = await runToPullRequest("Break things", agentCommits("broken.txt", "broken\n", "Break it"));
    await github.setCheckRun("octo", "widgets", head, { name: "build", status: "completed", conclusion: "failure", log: "error: it is broken" });
    anthropic.script(...agentCommits("broken.txt", "still broken\n", "Try again"));
    await polledUntil(run, "the one round", (r) => r.rounds.length === 1);
    const fixed = await headMoved(run.prNumber!, head);
    await runIn(run.id, "waiting_ci", "failed");

    await github.setCheckRun("octo", "widgets", fixed.headSha, { name: "build", status: "completed", conclusion: "failure", log: "error: it is still broken" });
    const failed = await polledUntil(run, "failed", () => false);
    expect(failed).toMatchObject({ state: "failed", reason: `The one fix round was used, and CI still fails on pull request #${run.prNumber}.` });
    expect(failed.rounds).toHaveLength(1);
    expect((await github.pull("octo", "widgets", run.prNumber!)).state).toBe("open");
    await settings({ maxFixRounds: 3 });
  }, 180_000);
});
