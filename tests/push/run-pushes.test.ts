/**
 * A run needs its person when its pull request awaits their approval, and when it is done or
 * failed: each is pushed once to their devices, naming the run's session. Its agent's turns end
 * without anyone waiting to answer, so they push nothing. A real Pier on the local runtime with
 * the fake GitHub and the fake Anthropic (tests/support/runs.ts), and the push service stand-in
 * on 127.0.0.1 (so this Pier allows private push endpoints), which checks and decrypts each push.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { FakeAnthropic } from "../support/fake-anthropic.ts";
import type { FakeGitHub } from "../support/fake-github.ts";
import type { TestPier } from "../support/pier.ts";
import { type PushServiceStandIn, browserKeys, startPushService } from "../support/push-service.ts";
import { agentCommits, runCalls, setUpRuns, tearDownRuns } from "../support/runs.ts";
import { until } from "../support/until.ts";

let github: FakeGitHub;
let anthropic: FakeAnthropic;
let pier: TestPier;
let cookie: string;
let repoId: string;
let service: PushServiceStandIn;
const { post, runIn, newTask, startRuns, pollAndTick } = runCalls(() => ({ pier, cookie, repoId }));

/** What reached the person's phone, decrypted, by the time `count` pushes did. */
const pushes = (count: number) => until(`${count} pushes`, async () => service.to("phone").map((push) => push.message as Record<string, unknown>), (messages) => messages.length >= count, 30_000);

beforeAll(async () => {
  service = startPushService();
  ({ github, anthropic, pier, cookie, repoId } = await setUpRuns({}, { PIER_PUSH_ALLOW_PRIVATE: "1" }));
  const keys = browserKeys();
  expect((await post("/api/me/push", { endpoint: service.endpoint("phone", { status: 201 }, keys), keys: keys.json, name: "Phone" })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await tearDownRuns({ pier, github, anthropic });
  await service?.stop();
}, 60_000);

test("a run that fails is pushed once, with why, naming its session; its agent's turn ending is not", async () => {
  anthropic.script({ text: "Nothing to change." });
  const [run] = await startRuns(await newTask("Fail quietly"));
  const failed = await runIn(run!.id, "failed");
  const [message] = await pushes(1);
  expect(message).toEqual({
    title: "Run 1: Fail quietly",
    body: "widgets: The run failed: The agent's turn ended with no commits on its branch, so there was nothing to open a pull request from.",
    url: `/sessions/${failed.sessionId}`,
    tag: `pier-${failed.sessionId}`,
    reason: "run_failed",
    sessionId: failed.sessionId,
  });
  await Bun.sleep(500);
  expect(service.to("phone")).toHaveLength(1);
}, 120_000);

test("a run's pull request awaiting approval is pushed once, and so is the run being done once approved", async () => {
  anthropic.script(...agentCommits("hello.txt", "hello\n", "Say hello"));
  const taskId = await newTask("Say hello");
  const [run] = await startRuns(taskId);
  const waiting = await runIn(run!.id, "waiting_ci");
  // No CI shows up: after the wait for checks, the task awaits its person's approval (with a report).
  anthropic.scriptWhen((body) => body.system === undefined, { text: "## Summary\nhello.txt was added." });
  await pollAndTick();
  await runIn(run!.id, "awaiting_approval");
  const [, awaiting] = await pushes(2);
  expect(awaiting).toMatchObject({ title: "Run 1: Say hello", body: "widgets: The run's pull request passed its checks and waits for your approval.", url: `/sessions/${waiting.sessionId}`, reason: "run_awaiting_approval" });

  expect((await post(`/api/tasks/${taskId}/approve`)).status).toBe(200);
  await runIn(run!.id, "done");
  const [, , done] = await pushes(3);
  expect(done).toMatchObject({ title: "Run 1: Say hello", body: "widgets: The run is done.", reason: "run_done" });
  await Bun.sleep(500);
  expect(service.to("phone")).toHaveLength(3);
  expect(service.problems).toEqual([]);
}, 180_000);
