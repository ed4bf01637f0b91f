/**
 * One person with many sessions of a repo in one pod. On one shared tmux server, tmux 3.3a crashed
 * (every shell of the pod with it) when a session was created or a client attached while other
 * clients resized; each session now has a server of its own. Sessions are started four at a time
 * while the viewers of the earlier ones keep resizing; every shell must still be there at the end,
 * with its own output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const SESSIONS = 20;

describe("many sessions in one pod", () => {
  let pier: TestPier;
  let cookie: string;
  let repoId: string;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_RUNTIME: "docker", PIER_ALLOW_LOCAL_REPOS: "1", ...(await dockerTestEnv()) });
    cookie = await setUpAdmin(pier);
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("many").path}`, "many");
  }, 120_000);

  afterAll(async () => {
    await pier.pier.pods.removeAll(repoId);
    await closeForGood(pier);
  }, 60_000);

  test(`${SESSIONS} sessions started while the earlier ones' viewers resize all keep their shells`, async () => {
    const sessions: SessionJson[] = [];
    const viewers: TermClient[] = [];
    let resizing = true;
    const resizer = (async () => {
      for (let round = 0; resizing; round++) {
        for (const viewer of viewers) viewer.resize(80 + ((round * 7) % 40), 24 + (round % 8));
        await Bun.sleep(20);
      }
    })();
    try {
      for (let i = 0; i < SESSIONS; i += 4) {
        const started = await Promise.all(Array.from({ length: 4 }, () => activeSession(pier, cookie, { repoId })));
        sessions.push(...started);
        for (const session of started) viewers.push(await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url }));
      }
    } finally {
      resizing = false;
      await resizer;
    }
    expect(new Set(sessions.map((s) => s.podId)).size).toBe(1);
    await Promise.all(viewers.map((viewer, i) => viewer.run(`echo alive-$((${i}+1000))`, new RegExp(`alive-${i + 1000}`), 20_000)));
    for (const viewer of viewers) viewer.close();
  }, 240_000);
});
