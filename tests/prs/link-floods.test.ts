/**
 * A session that prints pull request links by the thousand (a loop, a log, a hostile repo's
 * test output) costs GitHub lookups on the instance's token at a bounded rate: distinct links
 * once each, at most PIER_PR_LOOKUPS_PER_MINUTE per session per minute, the rest later in order.
 * Meanwhile another session's link is looked up at once. Against the suite's fake GitHub, with
 * real pods; the minutes pass by polling as of later times, as the poller would.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const TOKEN = `ghp_${"f".repeat(36)}`;
const PER_MINUTE = 5;
const MINUTE = 60_000;

const dataDir = mkdtempSync(join(tmpdir(), "pier-pr-floods-"));
let github: FakeGitHub;
let pier: TestPier;
let cookie: string;
let repoId = "";

beforeAll(async () => {
  github = await startFakeGitHub({ token: TOKEN });
  await github.createRepo("octo", "widgets", { from: makeRemoteRepo("widgets").path });
  pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "none", GITHUB_API_URL: github.apiUrl, PIER_PR_LOOKUPS_PER_MINUTE: String(PER_MINUTE) }, dataDir);
  cookie = await setUpAdmin(pier);
  expect((await pier.fetch("/api/settings", { ...json({ githubToken: TOKEN }, { cookie }), method: "PUT" })).status).toBe(200);
  repoId = await addRepo(pier, cookie, `${github.url}/octo/widgets.git`, "widgets");
}, 300_000);

afterAll(async () => {
  await closeForGood(pier);
  await github.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** The pull requests GitHub was asked about by number, among those from `from` to `to`, in order of number (they are asked at once). */
const lookedUp = (from: number, to: number): number[] =>
  github.requests
    .filter((r) => r.method === "GET")
    .map((r) => Number(/^\/api\/v3\/repos\/octo\/widgets\/pulls\/(\d+)$/.exec(r.path)?.[1]))
    .filter((n) => n >= from && n <= to)
    .sort((a, b) => a - b);

const until = async <T,>(what: string, read: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await Bun.sleep(100);
  }
};

const print = async (session: SessionJson, command: string) => {
  const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
  await term.run(`${command}; echo printed-$((40+2))`, /printed-42/, 60_000);
  term.close();
};

test("20,000 links in one terminal: at most the bound a minute, the rest later in order; another session's link is looked up meanwhile", async () => {
  const [flood, other, twelve] = [await activeSession(pier, cookie, { repoId }), await activeSession(pier, cookie, { repoId }), await activeSession(pier, cookie, { repoId })];
  const work = github.gitAt("octo", "widgets", "-c", "user.name=ana", "-c", "user.email=ana@example.com", "commit-tree", "main^{tree}", "-p", "main", "-m", "Other work");
  github.gitAt("octo", "widgets", "update-ref", "refs/heads/other-work", work);
  const otherPr = await github.openPullRequest("octo", "widgets", { head: "other-work", base: "main", title: "The other session's work" });

  const FLOOD = [100_001, 120_000] as const;
  await print(flood, `seq ${FLOOD[0]} ${FLOOD[1]} | sed 's|^|${github.url}/octo/widgets/pull/|'`);
  await until("the flood's first lookups", () => lookedUp(...FLOOD), (numbers) => numbers.length >= PER_MINUTE);

  await print(other, `echo 'Opened ${github.url}/octo/widgets/pull/${otherPr}'`);
  const prs = await until(
    "the other session's link",
    async () => (await (await pier.fetch(`/api/sessions/${other.id}/prs`, { headers: { cookie } })).json()) as Array<{ number: number; title: string }>,
    (found) => found.some((pr) => pr.title === "The other session's work"),
  );
  expect(prs.map((pr) => pr.number)).toEqual([otherPr]);

  const TWELVE = [900_001, 900_012] as const;
  await print(twelve, `seq ${TWELVE[0]} ${TWELVE[1]} | sed 's|^|${github.url}/octo/widgets/pull/|'; echo ${github.url}/octo/widgets/pull/${TWELVE[0]}`);
  await until("the twelve's first lookups", () => lookedUp(...TWELVE), (numbers) => numbers.length >= PER_MINUTE);
  // Within the first minute: the bound and no more, the first links shown, each once. (Of the
  // flood, only how many: tmux may skip redrawing lines a slow viewer missed, so which come first
  // is tmux's choice.)
  expect(new Set(lookedUp(...FLOOD)).size).toBe(PER_MINUTE);
  expect(lookedUp(...FLOOD)).toHaveLength(PER_MINUTE);
  expect(lookedUp(...TWELVE)).toEqual([900_001, 900_002, 900_003, 900_004, 900_005]);

  // A minute on, the next five of each; another minute, the twelve's last two: none was dropped.
  await pier.pier.prs.poll(Date.now() + MINUTE + 1000);
  expect(lookedUp(...TWELVE)).toEqual([900_001, 900_002, 900_003, 900_004, 900_005, 900_006, 900_007, 900_008, 900_009, 900_010]);
  expect(lookedUp(...FLOOD)).toHaveLength(2 * PER_MINUTE);
  await pier.pier.prs.poll(Date.now() + 2 * MINUTE + 2000);
  expect(lookedUp(...TWELVE)).toEqual([900_001, 900_002, 900_003, 900_004, 900_005, 900_006, 900_007, 900_008, 900_009, 900_010, 900_011, 900_012]);
  expect(new Set(lookedUp(...FLOOD)).size).toBe(3 * PER_MINUTE);
  expect(lookedUp(...FLOOD)).toHaveLength(3 * PER_MINUTE);
}, 300_000);
