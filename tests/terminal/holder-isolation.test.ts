/**
 * The terminal holder's socket attacked from a pod, on real Docker pods: anything in one
 * person's pod (the repository's code, say) can run a holder of its own and claim to hold another
 * person's session, or speak nonsense to the socket. Pier takes a holder only for a live session of
 * that pod's own person and repo, so nothing reaches the other person's terminal or recording,
 * and the attacker's pod cannot even see the other pod's socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { recordingPath } from "../../src/terminal/recording.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

describe("the terminal holder's socket, attacked from a pod", () => {
  let pier: TestPier;
  let repoId: string;
  let alice: SessionJson;
  let bob: SessionJson;
  let bobCookie: string;
  let aliceCookie: string;

  beforeAll(async () => {
    pier = await startTestPier({ PIER_RUNTIME: "docker", PIER_ALLOW_LOCAL_REPOS: "1", ...(await dockerTestEnv()) });
    const admin = await setUpAdmin(pier);
    aliceCookie = admin;
    await pier.fetch("/api/users", json({ username: "bob", password: "bob password", role: "member" }, { cookie: admin }));
    bobCookie = await signIn(pier, "bob", "bob password");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("holder-attack").path}`, "holder-attack");
    alice = await activeSession(pier, admin, { repoId });
    bob = await activeSession(pier, bobCookie, { repoId });
    expect(alice.podId).not.toBe(bob.podId);
  }, 300_000);

  afterAll(async () => {
    await pier.pier.pods.removeAll(repoId);
    await closeForGood(pier);
  }, 60_000);

  const inPod = (session: SessionJson, script: string) =>
    pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 20_000 });
  const servicesOf = (session: SessionJson) => `${pier.dataDir}/pods/${repoId}/${session.userId}`;

  test("a holder in Alice's pod claiming Bob's session reaches neither Bob's terminal nor his recording", async () => {
    const viewer = await TermClient.connect(pier.url, bob.id, { cookie: bobCookie, origin: pier.url });
    const services = servicesOf(alice);
    // Pier's own holder program and Alice's socket, as anything in her pod can find them.
    const attack = await inPod(
      alice,
      // Its stdin stays open for the 3 s it runs (a holder whose pane is gone stops).
      `s=$(date +%s); sleep 5 | timeout 3 ${services}/pier-pty serve ${services}/pty.sock ${bob.id} -- sh -c 'while :; do echo INJECTED-$((6*7)); sleep 0.05; done' > /dev/null 2>&1; echo "ran $(( $(date +%s) - s )) s"`,
    );
    expect(attack.stdout).toMatch(/ran [2-5] s/);
    await viewer.run("echo bob-still-$((7*6))", /bob-still-42/);
    await Bun.sleep(300);
    expect(viewer.text).not.toContain("INJECTED");
    expect(readFileSync(recordingPath(pier.dataDir, bob.id), "utf8")).not.toContain("INJECTED");
    viewer.close();
  }, 60_000);

  test("Alice's pod cannot see Bob's socket, nor anything of his services directory", async () => {
    const looked = await inPod(alice, `ls ${servicesOf(bob)} 2>&1; test -S ${servicesOf(bob)}/pty.sock && echo reachable || echo unreachable`);
    expect(looked.stdout).toContain("unreachable");
    expect(looked.stdout).not.toContain("pty.sock\n");
  }, 30_000);

  test("nonsense on Alice's socket (an HTTP request) is refused, and her terminal carries on", async () => {
    const services = servicesOf(alice);
    const spoken = await inPod(alice, `curl -sS --max-time 3 --unix-socket ${services}/pty.sock http://pier/ 2>&1; echo "curl exit $?"`);
    expect(spoken.stdout).toMatch(/curl exit [1-9]/);
    const viewer = await TermClient.connect(pier.url, alice.id, { cookie: aliceCookie, origin: pier.url });
    await viewer.run("echo alice-fine-$((2*21))", /alice-fine-42/);
    viewer.close();
  }, 30_000);
});
