/**
 * A repository whose image is not Pier's: no curl, no user for the pod's uid 1000, no home
 * (tests/support/bare-image.ts, as node:*-slim or python:*-slim would be). Pier's helpers in the
 * pod still work, through Pier's own client for the pod's socket: git pushes with the token from
 * Pier's credential helper to the suite's fake GitHub (real git over smart HTTP, `git http-backend`)
 * and Open pull request opens one; Claude Code's key helper gets a gateway token that Pier takes;
 * the MCP launcher starts a server with its secrets. The pod user has a name and a home, and the
 * terminal a short prompt. What goes wrong in the pod reaches the person as git's own sentence
 * with its status, never a 500. And the client gives a hostile pod nothing its socket would not.
 *
 * Pods use host networking, so that they reach the fake GitHub and Pier on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BARE_IMAGE, ensureBareImage } from "../support/bare-image.ts";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.ts";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";

const TOKEN = `ghp_${"b".repeat(36)}`;
const API_KEY = `sk-ant-bare-${crypto.randomUUID()}`;
const MCP_SECRET = `mcp-secret-${crypto.randomUUID()}`;

describe("a pod of an image that is not Pier's", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-bare-"));
  let github: FakeGitHub;
  let anthropic: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  let session: SessionJson;

  /** Runs a script in the session's pod, as the pod user, in its worktree (as code in the pod runs). */
  const inPod = (of: SessionJson, script: string) =>
    pier.pier.runtime.exec({ id: of.podId!, image: "" }, ["bash", "-c", script], { cwd: of.worktreePath, timeoutMs: 60_000 });
  /** The pod's services directory (Pier's socket and helpers), at the same path in the pod. */
  const servicesOf = (of: SessionJson) => join(dataDir, "pods", of.repoId, of.userId);
  const openPr = (of: SessionJson, who = cookie) => pier.fetch(`/api/sessions/${of.id}/pull-request`, json({ title: `From ${of.branch}` }, { cookie: who }));
  const prsOf = async (of: SessionJson) => (await (await pier.fetch(`/api/sessions/${of.id}/prs`, { headers: { cookie } })).json()) as unknown[];
  /** The fake's bare repository of octo/gadgets, where a test plays the remote. */
  const remoteDir = () => github.gitAt("octo", "gadgets", "rev-parse", "--absolute-git-dir");

  beforeAll(async () => {
    await ensureBareImage();
    github = await startFakeGitHub({ token: TOKEN });
    await github.createRepo("octo", "gadgets", { from: makeRemoteRepo("gadgets").path });
    anthropic = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier(
      {
        PIER_RUNTIME: "docker",
        PIER_POD_NETWORK: "host",
        PIER_WORKSPACE_IMAGE: BARE_IMAGE,
        PIER_ALLOW_LOCAL_REPOS: "1",
        GITHUB_API_URL: github.apiUrl,
        ANTHROPIC_BASE_URL: anthropic.url,
      },
      dataDir,
    );
    cookie = await setUpAdmin(pier);
    const saved = await pier.fetch("/api/settings", { ...json({ githubToken: TOKEN, anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    expect(saved.status).toBe(200);
    repoId = await addRepo(pier, cookie, `${github.url}/octo/gadgets.git`, "gadgets");
    session = await activeSession(pier, cookie, { repoId });
  }, 300_000);

  afterAll(async () => {
    await closeForGood(pier);
    await github.stop();
    await anthropic.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("the image has no curl and no user for uid 1000 (what the rest of this file is about)", async () => {
    const run = Bun.spawnSync(["docker", "run", "--rm", "--network", "none", "--user", "1000:1000", BARE_IMAGE, "sh", "-c", 'command -v curl || echo no-curl; whoami 2>/dev/null || echo nameless; echo "$HOME"']);
    expect(run.stdout.toString().trim().split("\n")).toEqual(["no-curl", "nameless", "/"]);
  });

  test("in its pod the pod user has a name and a home of its own", async () => {
    const who = await inPod(session, 'whoami; echo "$HOME"; stat -c %U "$HOME"; touch "$HOME/.written" && echo writable');
    expect(who.stdout.trim().split("\n")).toEqual(["pier", "/home/pier", "pier", "writable"]);
  });

  test("git pushes with the token from Pier's credential helper, and Open pull request opens one", async () => {
    const pushed = await inPod(session, "command -v curl || echo no-curl; echo one > one.txt && git add . && git commit -qm 'First, pushed by hand' && git push -q origin HEAD 2>&1 && echo pushed");
    expect(pushed.stdout.trim().split("\n")).toEqual(["no-curl", "pushed"]);
    expect(github.gitAt("octo", "gadgets", "log", "-1", "--format=%s", `refs/heads/${session.branch}`)).toBe("First, pushed by hand");

    await inPod(session, "echo two > two.txt && git add . && git commit -qm 'Second, pushed by Pier'");
    const res = await openPr(session);
    const pr = (await res.json()) as { number: number; state: string; headBranch: string };
    expect(res.status, JSON.stringify(pr)).toBe(201);
    expect(pr).toMatchObject({ state: "open", headBranch: session.branch });
    expect(github.gitAt("octo", "gadgets", "rev-parse", `refs/heads/${session.branch}`)).toBe((await inPod(session, "git rev-parse HEAD")).stdout.trim());
  }, 120_000);

  test("Claude Code's key helper gets a token Pier's gateway takes, and the MCP launcher starts a server with its secret", async () => {
    const settings = JSON.parse(readFileSync(join(session.worktreePath, ".claude/settings.local.json"), "utf8")) as { apiKeyHelper: string };
    const key = await inPod(session, settings.apiKeyHelper);
    expect(key.stderr).toBe("");
    expect(key.stdout).toMatch(/^pier_gw_\S+$/);
    anthropic.script({ text: "Through the gateway." });
    const answer = await pier.fetch("/api/gateway/anthropic/v1/messages", {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": key.stdout },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(answer.status).toBe(200);

    const created = await pier.fetch("/api/config/mcps", json({ name: "echoer", command: "bash", args: ["-c", 'printf "%s|%s" "$1" "$ECHO_SECRET"', "echoer", "an argument"], env: { ECHO_SECRET: MCP_SECRET }, enabled: true }, { cookie }));
    expect(created.status).toBe(201);
    const started = await inPod(session, `${join(servicesOf(session), "mcp-server")} ${session.id} echoer`);
    expect(started.stderr).toBe("");
    expect(started.stdout).toBe(`an argument|${MCP_SECRET}`);
  }, 60_000);

  test("a push the remote refuses is a 409 or a 502 with git's own words, never a 500, and no pull request is recorded", async () => {
    const asked = () => github.requests.filter((r) => r.method === "POST" && r.path.endsWith("/pulls")).length;
    const askedBefore = asked();
    const refused = await activeSession(pier, cookie, { repoId });
    await inPod(refused, "echo mine > mine.txt && git add . && git commit -qm Mine && git push -q origin HEAD");
    // Someone else pushed to the branch meanwhile: the remote has a commit the session lacks.
    const identity = ["-c", "user.name=Someone Else", "-c", "user.email=else@example.com"];
    const tip = github.gitAt("octo", "gadgets", "rev-parse", `refs/heads/${refused.branch}`);
    const theirs = github.gitAt("octo", "gadgets", ...identity, "commit-tree", `${tip}^{tree}`, "-p", tip, "-m", "Theirs");
    github.gitAt("octo", "gadgets", "update-ref", `refs/heads/${refused.branch}`, theirs);
    await inPod(refused, "echo more > more.txt && git add . && git commit -qm More");
    const behind = await apiError(await openPr(refused));
    expect(behind).toMatchObject({ status: 409, code: "push_rejected" });
    expect(behind.message).toContain(`Pushing ${refused.branch} was refused`);
    expect(behind.message).toContain("[rejected] (fetch first)");

    // A protected branch: the remote's hook says no, in its own words (and with a colour code).
    const hook = join(remoteDir(), "hooks", "pre-receive");
    writeFileSync(hook, "#!/bin/sh\nprintf '\\033[31mGH006: Protected branch update failed for this branch.\\033[0m\\n' >&2\nexit 1\n");
    chmodSync(hook, 0o755);
    try {
      await inPod(refused, 'git pull -q --no-rebase --no-edit origin "$(git branch --show-current)"');
      const protectedBranch = await apiError(await openPr(refused));
      expect(protectedBranch).toMatchObject({ status: 502, code: "push_failed" });
      expect(protectedBranch.message).toBe(`Pushing ${refused.branch} failed: [remote rejected] (pre-receive hook declined), remote: GH006: Protected branch update failed for this branch.`);
    } finally {
      rmSync(hook);
    }

    // A token GitHub does not take: git's fatal line, with no token in it.
    const wrong = `ghp_${"w".repeat(36)}`;
    await pier.fetch("/api/me/credentials", { ...json({ githubToken: wrong }, { cookie }), method: "PUT" });
    try {
      const unauthorized = await apiError(await openPr(refused));
      expect(unauthorized).toMatchObject({ status: 502, code: "push_failed" });
      expect(unauthorized.message).toStartWith(`Pushing ${refused.branch} failed: fatal: Authentication failed for 'http://127.0.0.1:`);
      expect(unauthorized.message).not.toContain(wrong);
    } finally {
      await pier.fetch("/api/me/credentials", { ...json({ githubToken: "" }, { cookie }), method: "PUT" });
    }

    // Nothing was half-done: no pull request asked of GitHub, none recorded.
    expect(asked()).toBe(askedBefore);
    expect(await prsOf(refused)).toEqual([]);
  }, 180_000);

  test("ending a session whose clone broke in the pod is a 502 with git's line, not a 500; ending it once mended saves its work", async () => {
    const broken = await activeSession(pier, cookie, { repoId });
    await inPod(broken, "echo unsaved > unsaved.txt");
    const clone = join(dataDir, "workspaces", repoId, broken.userId, "clone.git");
    await inPod(broken, `mv ${clone}/objects ${clone}/objects.away`);
    try {
      const failed = await apiError(await pier.fetch(`/api/sessions/${broken.id}/end`, json({}, { cookie })));
      expect(failed).toMatchObject({ status: 502, code: "pod_command_failed" });
      expect(failed.message).toStartWith("Saving the session's work failed in the pod: fatal: ");
    } finally {
      await inPod(broken, `mv ${clone}/objects.away ${clone}/objects`);
    }
    const ended = await pier.fetch(`/api/sessions/${broken.id}/end`, json({}, { cookie }));
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ state: "ended", savedUncommitted: true });
  }, 60_000);

  test("the terminal's prompt names the user and the repository with a short path, not \"I have no name!\" and the data dir", async () => {
    const term = await TermClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    try {
      await term.waitFor(/pier@gadgets\$/);
      await term.run("mkdir -p deep/er && cd deep/er", /pier@gadgets\/deep\/er\$ /);
      await term.run("cd /tmp", /pier@gadgets:\/tmp\$ /);
      await term.run("cd", /pier@gadgets:~\$ /);
      expect(term.text).not.toContain("I have no name!");
      expect(term.text).not.toContain(dataDir);
    } finally {
      term.close();
    }
  }, 60_000);

  test("Pier's client in a hostile pod gets only what the socket gives its own person: no other session's token or secret, no other pod's socket", async () => {
    await pier.fetch("/api/users", json({ username: "mallory", password: "mallory password", role: "member" }, { cookie }));
    const mallory = await signIn(pier, "mallory", "mallory password");
    const hers = await activeSession(pier, mallory, { repoId });
    expect(hers.podId).not.toBe(session.podId);
    const own = servicesOf(hers);
    const ask = (socket: string, ...args: string[]) => inPod(hers, [join(own, "pier-ask"), socket, ...args].map((arg) => `'${arg}'`).join(" "));
    const mine = join(own, "pier.sock");

    // Her own session: the client works, so the refusals below are the socket's.
    expect((await ask(mine, "GET", "/anthropic-key", `session=${hers.id}`)).stdout).toMatch(/^pier_gw_/);
    const attempts = [
      await ask(mine, "GET", "/anthropic-key", `session=${session.id}`),
      await ask(mine, "GET", "/mcp-headers", `session=${session.id}`),
      await ask(mine, "GET", "/mcp-server", `session=${session.id}`, "name=echoer"),
      // A second pair smuggled into a value stays in the value.
      await ask(mine, "GET", "/anthropic-key", `session=${hers.id}&session=${session.id}`),
      await ask(mine, "GET", "/../anthropic-key", `session=${session.id}`),
    ];
    for (const attempt of attempts) {
      expect(attempt.exitCode).toBe(1);
      expect(attempt.stdout).toBe("");
      expect(attempt.stderr).toMatch(/^Pier: No live session of yours has (that id|an MCP server of that name)\.\n$/);
    }
    // The other pod's socket is not in her pod at all.
    const elsewhere = await ask(join(servicesOf(session), "pier.sock"), "GET", "/anthropic-key", `session=${session.id}`);
    expect(elsewhere.exitCode).toBe(1);
    expect(elsewhere.stderr).toContain("No such file or directory");
    for (const attempt of [...attempts, elsewhere]) expect(attempt.stdout + attempt.stderr).not.toMatch(new RegExp(`pier_gw_|Bearer|${MCP_SECRET}`));
    // Nor can she put a program of her own in the client's place.
    const swapped = await inPod(hers, `cp /bin/true ${join(own, "pier-ask")} 2>&1 || echo refused`);
    expect(swapped.stdout).toContain("Read-only file system");
  }, 120_000);
});
