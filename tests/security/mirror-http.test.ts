/**
 * Repos' mirrors over git's smart HTTP (/git/<repo id>.git), served by the real `git http-backend`
 * and read by real git in real pods through their own credential helper, as a pod on another
 * machine (with no bind mount of the mirror) will read them. The pods use host networking so they
 * reach Pier on 127.0.0.1; nothing else is reached. Each way in that must not work is tried: no
 * credential, another pod's for this repo, one revoked with its pod, a push, paths that climb out
 * of /git or name another repo, a person's cookie and API token, guessing, and more at once than a
 * pod may run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONCURRENT_PER_POD, FAILURES_PER_MINUTE, MAX_REQUEST_BYTES } from "../../src/mirror-http/mirror-http.ts";
import { mirrorDir, podServicesDir } from "../../src/repos/layout.ts";
import { commitFiles, gitAt, makeRemoteRepo, type RemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, createToken, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, waitForState } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

describe("a pod reads its repo's mirror over Pier's smart HTTP", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-mirror-http-"));
  let pier: TestPier;
  let cookie: string;
  let port: number;
  let remoteA: RemoteRepo;
  let remoteB: RemoteRepo;
  let repoA: string;
  let repoB: string;
  let sessionA: SessionJson;
  let sessionB: SessionJson;

  /** Runs a script in a pod as its user; its output and exit code. */
  const inPod = async (session: SessionJson, script: string) => {
    const child = Bun.spawn(["docker", "exec", session.podId!, "bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { stdout, stderr, code };
  };
  const helperOf = (session: SessionJson) => join(podServicesDir(dataDir, session.repoId, session.userId), "git-credential-pier");
  const urlOf = (repoId: string) => `http://127.0.0.1:${port}/git/${repoId}.git`;
  /** The credential the pod's own helper hands its git for Pier's address. */
  const credentialOf = async (session: SessionJson) => {
    const asked = await inPod(session, `printf 'protocol=http\\nhost=127.0.0.1:${port}\\n\\n' | ${helperOf(session)} get`);
    const password = /^password=(.+)$/m.exec(asked.stdout)?.[1];
    if (!password) throw new Error(`the helper gave no credential: ${asked.stdout} ${asked.stderr}`);
    return password;
  };
  const basic = (password: string) => `Basic ${Buffer.from(`pier-pod:${password}`).toString("base64")}`;
  const refs = (repoId: string, headers: Record<string, string>) => pier.fetch(`/git/${repoId}.git/info/refs?service=git-upload-pack`, { headers });
  /** A request written as is, so no client tidies its path ("..", "%2F") before Pier sees it. */
  const raw = async (path: string, authorization: string) => {
    let answer = "";
    const { promise: closed, resolve } = Promise.withResolvers<void>();
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: { data: (_s, chunk) => void (answer += chunk.toString()), close: () => resolve(), error: () => resolve(), end: () => resolve() },
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${authorization}\r\nConnection: close\r\n\r\n`);
    await Promise.race([closed, Bun.sleep(10_000)]);
    socket.end();
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), answer };
  };

  beforeAll(async () => {
    // Host networking: the pods reach Pier on 127.0.0.1, as a pod on another machine reaches Pier's address.
    pier = await startTestPier({ ...(await dockerTestEnv()), PIER_POD_NETWORK: "host" }, dataDir);
    port = Number(new URL(pier.url).port);
    cookie = await setUpAdmin(pier);
    remoteA = makeRemoteRepo("mirror-a");
    remoteB = makeRemoteRepo("mirror-b");
    repoA = await addRepo(pier, cookie, `file://${remoteA.path}`, "mirror-a");
    repoB = await addRepo(pier, cookie, `file://${remoteB.path}`, "mirror-b");
    [sessionA, sessionB] = await Promise.all([activeSession(pier, cookie, { repoId: repoA }), activeSession(pier, cookie, { repoId: repoB })]);
  }, 600_000);

  afterAll(async () => {
    // Ended first: a live session's terminal makes its pod again when it finds it gone.
    for (const session of [sessionA, sessionB]) if (session) await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
    for (const remote of [remoteA, remoteB]) rmSync(join(remote.path, ".."), { recursive: true, force: true });
  }, 60_000);

  test("the pod clones its repo's mirror over HTTP with protocol v2, its credential coming from its helper and written nowhere", async () => {
    const cloned = await inPod(
      sessionA,
      `GIT_TERMINAL_PROMPT=0 GIT_TRACE_PACKET=1 git -c protocol.version=2 -c credential.helper=${helperOf(sessionA)} clone --quiet --branch main ${urlOf(repoA)} /tmp/over-http`,
    );
    expect(cloned.code, cloned.stderr.slice(-2000)).toBe(0);
    expect(cloned.stderr).toContain("git< version 2");
    const head = await inPod(sessionA, "git -C /tmp/over-http rev-parse HEAD origin/feature/login");
    expect(head.stdout.trim().split("\n")).toEqual([remoteA.git("rev-parse", "main"), remoteA.git("rev-parse", "feature/login")]);
    // The credential is in no file of the pod: not the clone's config, not the person's home.
    const credential = await credentialOf(sessionA);
    const found = await inPod(sessionA, `grep -rl ${credential} /tmp/over-http /home/pier 2>/dev/null; cat /tmp/over-http/.git/config`);
    expect(found.stdout).not.toContain(credential);
    expect(found.stdout).toContain(`url = ${urlOf(repoA)}`);
  }, 120_000);

  test("a commit new in the mirror is fetched over HTTP", async () => {
    commitFiles(remoteA, { "later.txt": "a later change\n" }, "A later change");
    // The server's fetch of the mirror from the remote, as a session's start makes it.
    gitAt(mirrorDir(dataDir, repoA), "fetch", "--quiet", "--prune", "--no-tags", "origin");
    const fetched = await inPod(sessionA, `GIT_TERMINAL_PROMPT=0 git -C /tmp/over-http -c credential.helper=${helperOf(sessionA)} pull --quiet --ff-only && cat /tmp/over-http/later.txt`);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toContain("a later change");
    expect((await inPod(sessionA, "git -C /tmp/over-http rev-parse HEAD")).stdout.trim()).toBe(remoteA.git("rev-parse", "main"));
  }, 120_000);

  test("without a credential git is asked for one (401 with WWW-Authenticate: Basic), and without a helper the clone fails", async () => {
    const res = await refs(repoA, {});
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toStartWith("Basic");
    const cloned = await inPod(sessionA, `GIT_TERMINAL_PROMPT=0 git -c credential.helper= clone --quiet ${urlOf(repoA)} /tmp/no-helper`);
    expect(cloned.code).not.toBe(0);
    expect((await inPod(sessionA, "test -e /tmp/no-helper/.git && echo there")).stdout).toBe("");
  }, 60_000);

  test("another pod's credential reads its own repo only: this repo's address, and one that names no repo, answer alike", async () => {
    const credentialB = await credentialOf(sessionB);
    expect((await refs(repoB, { authorization: basic(credentialB) })).status).toBe(200);
    const other = await refs(repoA, { authorization: basic(credentialB) });
    const none = await refs("nosuchrepo0000", { authorization: basic(credentialB) });
    expect(other.status).toBe(404);
    expect(none.status).toBe(404);
    expect(await other.text()).toBe(await none.text());
    // And git in pod B, through its own helper, cannot clone A.
    const cloned = await inPod(sessionB, `GIT_TERMINAL_PROMPT=0 git -c credential.helper=${helperOf(sessionB)} clone --quiet ${urlOf(repoA)} /tmp/not-mine`);
    expect(cloned.code).not.toBe(0);
  }, 60_000);

  test("paths that climb out of /git or into another repo are refused, as sent, unread", async () => {
    const credentialA = await credentialOf(sessionA);
    const attempts = [
      `/git/${repoA}.git/../${repoB}.git/info/refs?service=git-upload-pack`,
      `/git/../git/${repoB}.git/info/refs?service=git-upload-pack`,
      `/git/${repoA}.git%2F..%2F${repoB}.git/info/refs?service=git-upload-pack`,
      `/git/${repoA}.git/../../mirrors/${repoB}.git/info/refs?service=git-upload-pack`,
      `/git/${repoA}.git/HEAD`,
      `/git/${repoA}.git/config`,
      `/git/${repoA}.git/objects/info/packs`,
    ];
    for (const path of attempts) {
      const res = await raw(path, basic(credentialA));
      expect([403, 404], path).toContain(res.status);
      expect(res.answer, path).not.toContain("refs/heads/main");
      expect(res.answer, path).not.toContain("[core]");
    }
  }, 60_000);

  test("a push is refused with a sentence, whether git asks for it or it is sent by hand", async () => {
    const credentialA = await credentialOf(sessionA);
    const pushed = await inPod(sessionA, `cd /tmp/over-http && git -c user.name=x -c user.email=x@x commit --quiet --allow-empty -m pushed && GIT_TERMINAL_PROMPT=0 git -c credential.helper=${helperOf(sessionA)} push origin HEAD:refs/heads/pushed`);
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain("read-only");
    const advertised = await pier.fetch(`/git/${repoA}.git/info/refs?service=git-receive-pack`, { headers: { authorization: basic(credentialA) } });
    expect(advertised.status).toBe(403);
    expect(await advertised.text()).toContain("read-only");
    const sent = await pier.fetch(`/git/${repoA}.git/git-receive-pack`, { method: "POST", headers: { authorization: basic(credentialA), "content-type": "application/x-git-receive-pack-request" }, body: "0000" });
    expect(sent.status).toBe(403);
    expect(gitAt(mirrorDir(dataDir, repoA), "for-each-ref", "--format=%(refname)")).not.toContain("pushed");
  }, 60_000);

  test("a person's cookie or API token is not taken at /git, and the pod's credential is taken nowhere else", async () => {
    const token = await createToken(pier, cookie);
    expect((await refs(repoA, { cookie })).status).toBe(401);
    expect((await refs(repoA, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await refs(repoA, { authorization: basic(token) })).status).toBe(403);
    expect((await refs(repoA, { authorization: basic(token), cookie })).status).toBe(403);
    const credentialA = await credentialOf(sessionA);
    expect((await pier.fetch("/api/sessions", { headers: { authorization: `Bearer ${credentialA}` } })).status).toBe(401);
    expect((await pier.fetch("/api/repos", { headers: { authorization: basic(credentialA) } })).status).toBe(401);
  });

  test("a request body past the limit is refused before it is read, and a pod runs only so many fetches at once", async () => {
    const credentialA = await credentialOf(sessionA);
    const post = (body: BodyInit, headers: Record<string, string> = {}) =>
      fetch(`${urlOf(repoA)}/git-upload-pack`, { method: "POST", headers: { authorization: basic(credentialA), "content-type": "application/x-git-upload-pack-request", ...headers }, body });
    const wrongMethod = await raw(`/git/${repoA}.git/git-upload-pack`, basic(credentialA));
    expect(wrongMethod.status).toBe(400);
    const tooLong = await fetch(`${urlOf(repoA)}/git-upload-pack`, {
      method: "POST",
      headers: { authorization: basic(credentialA), "content-type": "application/x-git-upload-pack-request" },
      body: new Blob([new Uint8Array(MAX_REQUEST_BYTES + 1)]),
    });
    expect(tooLong.status).toBe(413);
    // Requests whose bodies never end hold their git http-backend open: one more than the cap is refused.
    const holds: Array<ReadableStreamDefaultController<Uint8Array>> = [];
    const held = Array.from({ length: CONCURRENT_PER_POD }, () =>
      post(new ReadableStream<Uint8Array>({ start: (controller) => void holds.push(controller) })).catch(() => null),
    );
    while (holds.length < CONCURRENT_PER_POD) await Bun.sleep(20);
    await Bun.sleep(500);
    const refused = await post("0000");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBeTruthy();
    for (const controller of holds) {
      controller.enqueue(new TextEncoder().encode("0000"));
      controller.close();
    }
    await Promise.all(held);
    // Once they are done, the pod fetches again.
    const again = await inPod(sessionA, `GIT_TERMINAL_PROMPT=0 git -C /tmp/over-http -c credential.helper=${helperOf(sessionA)} fetch --quiet origin`);
    expect(again.code, again.stderr).toBe(0);
  }, 60_000);

  test("a pod's credential is revoked with its pod: removed, it reads nothing, and a new pod has a new one", async () => {
    const credentialB = await credentialOf(sessionB);
    expect((await refs(repoB, { authorization: basic(credentialB) })).status).toBe(200);
    const ended = await pier.fetch(`/api/sessions/${sessionB.id}/end`, json({}, { cookie }));
    expect(ended.status).toBeLessThan(300);
    await waitForState(pier, cookie, sessionB.id, "ended");
    const removed = await pier.fetch(`/api/repos/${repoB}`, { method: "DELETE", headers: { cookie } });
    expect(removed.status).toBeLessThan(300);
    const refused = await refs(repoB, { authorization: basic(credentialB) });
    expect(refused.status).toBe(403);
    // A pod made again (a rebuild) gets a credential of its own; the old container's stops working.
    const before = await credentialOf(sessionA);
    const rebuilt = await pier.fetch(`/api/repos/${repoA}/environment/rebuild`, json({}, { cookie }));
    expect(rebuilt.status).toBe(202);
    const deadline = Date.now() + 120_000;
    while ((await refs(repoA, { authorization: basic(before) })).status === 200 && Date.now() < deadline) await Bun.sleep(200);
    expect((await refs(repoA, { authorization: basic(before) })).status).toBe(403);
    while (Date.now() < deadline) {
      const now = (await (await pier.fetch(`/api/sessions/${sessionA.id}`, { headers: { cookie } })).json()) as SessionJson;
      if (now.podId && now.podId !== sessionA.podId && (await inPod(now, "true")).code === 0) {
        sessionA = now;
        break;
      }
      await Bun.sleep(200);
    }
    const after = await credentialOf(sessionA);
    expect(after).not.toBe(before);
    expect((await refs(repoA, { authorization: basic(after) })).status).toBe(200);
  }, 180_000);

  test("guessing credentials from one address is refused for a while once it has failed too often, a pod's own still taken", async () => {
    // The refusals above counted too: within the limit's worth of guesses more, the address is held off.
    const statuses: number[] = [];
    for (let at = 0; at <= FAILURES_PER_MINUTE && !statuses.includes(429); at++) statuses.push((await refs(repoA, { authorization: basic(`pier_pod_guess${at}`) })).status);
    expect(statuses.at(-1)).toBe(429);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set(statuses.length > 1 ? [403] : []));
    const limited = await refs(repoA, { authorization: basic("pier_pod_another") });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Pods on one engine share an address: a pod's own credential still reads its mirror from there.
    expect((await refs(repoA, { authorization: basic(await credentialOf(sessionA)) })).status).toBe(200);
  });
});
