/**
 * The pod is untrusted. Each test here is an attack, made the way a malicious repository, code
 * running in a pod or a curious member would make it, against a real Pier on the Docker runtime
 * with real pods; each passes only if the attack reaches nothing of the server's or of another
 * person's. The model API is the suite's local stand-in; everything else is real.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, waitForState } from "../support/sessions.ts";
import { TermClient } from "../support/term-client.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-test-key-000000000000";

describe("the pod is untrusted", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-boundary-"));
  /** In the server's own environment (this process runs the test Pier): must never reach a pod or the model. */
  const canary = `pier-canary-${crypto.randomUUID()}`;
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let cookie: string;
  let repoId: string;

  /** Runs a script in the session's pod, as the pod user, in its worktree (the way code in the pod runs). */
  const inPod = (session: SessionJson, script: string) =>
    pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 30_000 });
  const headers = () => ({ cookie, origin: pier.url });
  const end = (session: SessionJson, who = cookie) => pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie: who }));
  /** A path on the server's host for an attack to try to create; it must never appear. */
  const hostMarker = (name: string) => join(tmpdir(), `pier-${name}-${crypto.randomUUID()}`);

  beforeAll(async () => {
    process.env.PIER_TEST_CANARY = canary;
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ ...(await dockerTestEnv()), ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("target").path}`, "target");
  }, 300_000);

  afterAll(async () => {
    delete process.env.PIER_TEST_CANARY;
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("a repository's CLAUDE.md and AGENTS.md linked to the server's environment and secret key reach the model as nothing", async () => {
    const remote = makeRemoteRepo("linked");
    remote.git("rm", "-q", "README.md");
    Bun.spawnSync(["ln", "-s", "/proc/self/environ", "CLAUDE.md"], { cwd: join(remote.path, "..", "work") });
    Bun.spawnSync(["ln", "-s", join(dataDir, "secret.key"), "AGENTS.md"], { cwd: join(remote.path, "..", "work") });
    remote.git("add", "CLAUDE.md", "AGENTS.md");
    remote.git("commit", "-q", "-m", "Instructions, as links");
    remote.git("push", "-q", "origin", "main");
    const linked = await addRepo(pier, cookie, `file://${remote.path}`, "linked");
    const session = await activeSession(pier, cookie, { repoId: linked });
    expect((await inPod(session, "readlink CLAUDE.md AGENTS.md")).stdout.split("\n").slice(0, 2)).toEqual(["/proc/self/environ", join(dataDir, "secret.key")]);

    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "Hello." });
    await chat.turn("Hi");
    chat.close();
    const system = JSON.stringify(fake.requests.at(-1)!.body.system);
    expect(system).toContain("You are a coding agent");
    expect(system).not.toContain(canary);
    expect(system).not.toContain(readFileSync(join(dataDir, "secret.key"), "utf8").trim());
    expect(system).not.toContain("CLAUDE.md from the repository");
    expect(system).not.toContain("AGENTS.md from the repository");
    await end(session);
  }, 120_000);

  test("a CLAUDE.md that is a FIFO stalls nothing: pages answer and the turn runs without it", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    expect((await inPod(session, "mkfifo CLAUDE.md && test -p CLAUDE.md && echo fifo")).stdout.trim()).toBe("fifo");
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ text: "Still here.", delayMs: 300 });
    const from = chat.events.length;
    chat.send("Are you there?");
    await chat.next("turn_start", from, 10_000);
    const health = await Promise.race([pier.fetch("/healthz").then((r) => r.status), Bun.sleep(5000).then(() => "no answer")]);
    expect(health).toBe(200);
    await chat.next("turn_end", from, 20_000);
    expect(JSON.stringify(fake.requests.at(-1)!.body.system)).not.toContain("CLAUDE.md from the repository");
    chat.close();
    await end(session);
  }, 120_000);

  test("the agent's file tools cannot leave the pod: a dangling link, a swapped worktree", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const escape = hostMarker("dangling");
    await inPod(session, `ln -s ${escape} dangling`);
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ toolUse: { name: "write_file", input: { path: "dangling", content: "written outside\n" } } }, { text: "Done." });
    const write = (await chat.turn("Write it.")).find((e) => e.type === "tool_result")!;
    expect(write.isError).toBe(true);
    expect(existsSync(escape)).toBe(false);

    // The worktree itself replaced by a link to the server's data dir.
    const moved = await inPod(session, `mv "$PWD" "$PWD.moved" && ln -s ${dataDir} ${session.worktreePath} && echo swapped`);
    expect(moved.stdout.trim()).toBe("swapped");
    fake.script(
      { toolUse: { name: "read_file", input: { path: "secret.key" } } },
      { toolUse: { name: "edit_file", input: { path: "pier.db", old_string: "SQLite", new_string: "pwned!" } } },
      { text: "Done." },
    );
    const results = (await chat.turn("Read it.")).filter((e) => e.type === "tool_result");
    expect(results.map((r) => r.isError)).toEqual([true, true]);
    expect(JSON.stringify(results)).not.toContain(readFileSync(join(dataDir, "secret.key"), "utf8").trim());
    expect(readFileSync(join(dataDir, "pier.db")).subarray(0, 6).toString()).toBe("SQLite");
    chat.close();
    await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", `rm ${session.worktreePath} && mv ${session.worktreePath}.moved ${session.worktreePath}`], {
      cwd: "/",
    });
    await end(session);
  }, 120_000);

  test("a command that prints without end is cut off, not gathered into the server's memory", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const chat = await ChatClient.connect(pier.url, session.id, headers());
    fake.script({ toolUse: { name: "bash", input: { command: "yes pier", timeout_seconds: 600 } } }, { text: "Done." });
    const started = Date.now();
    const result = (await chat.turn("Say yes.", 60_000)).find((e) => e.type === "tool_result")!;
    expect(result.output).toContain("printed more than");
    expect(Date.now() - started).toBeLessThan(60_000);
    chat.close();
    await end(session);
  }, 120_000);

  test("git config planted in the clone runs nothing on the server: a clean filter, ext::, core.sshCommand, uploadpack", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const filter = hostMarker("filter");
    const ext = hostMarker("ext");
    const ssh = hostMarker("ssh");
    const upload = hostMarker("uploadpack");
    const planted = await inPod(session, [
      `git config filter.pwn.clean 'touch ${filter}; cat'`,
      `git config filter.pwn.smudge 'touch ${filter}; cat'`,
      "echo '* filter=pwn' > .gitattributes",
      "echo changed >> README.md",
      `git config protocol.ext.allow always`,
      `git config remote.origin.url 'ext::sh -c touch% ${ext}'`,
      `git config core.sshCommand 'touch ${ssh}; false'`,
      `git config remote.origin.uploadpack 'touch ${upload}; git-upload-pack'`,
      "echo planted",
    ].join(" && "));
    expect(planted.stdout.trim()).toBe("planted");

    // Everything Pier does with the clone: the diff, what ending would save, ending, a new session, and a resume.
    expect((await pier.fetch(`/api/sessions/${session.id}/diff`, { headers: { cookie } })).status).toBe(200);
    expect((await pier.fetch(`/api/sessions/${session.id}/changes`, { headers: { cookie } })).status).toBe(200);
    const ended = (await (await end(session)).json()) as { state: string; savedUncommitted: boolean };
    expect(ended).toMatchObject({ state: "ended", savedUncommitted: true });
    const next = await activeSession(pier, cookie, { repoId });
    await inPod(next, "git config remote.origin.url ssh://git.invalid/target.git");
    await end(next);
    await pier.fetch(`/api/sessions/${session.id}/resume`, json({}, { cookie }));
    await waitForState(pier, cookie, session.id, "active");
    await activeSession(pier, cookie, { repoId, branch: "feature/login" }).then((s) => end(s));
    for (const marker of [filter, ext, ssh, upload]) expect(`${marker}: ${existsSync(marker)}`).toBe(`${marker}: false`);
    await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
  }, 180_000);

  test("the GitHub token is in no command line and no environment in the pod, and reaches git and gh when they ask", async () => {
    const put = (githubToken: string) => pier.fetch("/api/settings", { ...json({ githubToken }, { cookie }), method: "PUT" });
    const first = `ghp_first${crypto.randomUUID().replaceAll("-", "")}`;
    await put(first);
    const session = await activeSession(pier, cookie, { repoId });
    const term = await TermClient.connect(pier.url, session.id, headers());
    await term.run("echo ready-$((40+2))", /ready-42/);

    const hostArgs = Bun.spawnSync(["ps", "-eo", "args"]).stdout.toString();
    expect(hostArgs).toContain(`tmux -L`);
    expect(hostArgs).not.toContain(first);
    const environ = await inPod(session, "sudo -n sh -c 'cat /proc/[0-9]*/environ' | tr '\\0' '\\n' | grep -c ghp_ || true");
    expect(environ.stdout.trim()).toBe("0");
    expect((await inPod(session, `grep -rl ${first} ${join(dataDir, "workspaces")} /home /tmp 2>/dev/null | wc -l`)).stdout.trim()).toBe("0");

    const fill = "printf 'protocol=https\\nhost=github.com\\n\\n' | GIT_TERMINAL_PROMPT=0 git credential fill";
    expect((await inPod(session, fill)).stdout).toContain(`password=${first}`);
    await term.run("gh auth token; echo gh-$((1+1))", new RegExp(`${first}\\r\\ngh-2`));
    const elsewhere = await inPod(session, "printf 'protocol=https\\nhost=git.example.com\\n\\n' | GIT_TERMINAL_PROMPT=0 git credential fill");
    expect(elsewhere.stdout).not.toContain("ghp_");

    // Rotation takes effect at once, in the terminal that was already open too.
    const second = `ghp_second${crypto.randomUUID().replaceAll("-", "")}`;
    await put(second);
    expect((await inPod(session, fill)).stdout).toContain(`password=${second}`);
    await term.run("gh auth token; echo gh-$((2+1))", new RegExp(`${second}\\r\\ngh-3`));
    term.close();

    // With no live session of theirs, a pod gets no token.
    await end(session);
    const clone = join(dataDir, "workspaces", repoId, session.userId, "clone.git");
    const after = await pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", `cd ${clone} && ${fill} 2>&1 || true`], { cwd: "/" });
    expect(after.stdout).toContain("terminal prompts disabled");
    expect(after.stdout).not.toContain("ghp_");
  }, 120_000);

  test("two members on one repo reach nothing of each other's: worktree, tmux, clone config", async () => {
    await pier.fetch("/api/users", json({ username: "mallory", password: "mallory password", role: "member" }, { cookie }));
    const mallory = await signIn(pier, "mallory", "mallory password");
    const mine = await activeSession(pier, cookie, { repoId });
    await inPod(mine, "echo 'my unpushed secret' > private.txt");
    const theirs = await activeSession(pier, mallory, { repoId });
    expect(theirs.podId).not.toBe(mine.podId);
    for (const [s, who] of [[mine, cookie], [theirs, mallory]] as const) {
      const term = await TermClient.connect(pier.url, s.id, { cookie: who, origin: pier.url });
      term.close();
    }

    // As root in their own pod, which they may be.
    const look = await inPod(theirs, [
      `sudo -n cat ${mine.worktreePath}/private.txt 2>/dev/null || echo no-worktree`,
      `sudo -n ls ${join(dataDir, "workspaces", repoId)}`,
      `tmux -L ${pier.pier.terminals.socketFor(theirs.id)} list-sessions -F '#{session_name}'`,
      `tmux -L ${pier.pier.terminals.socketFor(mine.id)} send-keys -t pier-${mine.id} 'touch /tmp/typed-by-mallory' Enter 2>/dev/null || echo no-tmux`,
    ].join("; "));
    expect(look.stdout.trim().split("\n")).toEqual(["no-worktree", theirs.userId, `pier-${theirs.id}`, "no-tmux"]);

    // A hook and config planted in their clone do not reach mine.
    const hook = `/tmp/mallory-hook-${crypto.randomUUID()}`;
    await inPod(theirs, `mkdir -p .hooks && printf '#!/bin/sh\\ntouch ${hook}\\n' > .hooks/post-checkout && chmod +x .hooks/post-checkout && git config core.hooksPath "$PWD/.hooks"`);
    const next = await activeSession(pier, cookie, { repoId });
    const mineNow = await inPod(next, `git config --get core.hooksPath || echo unset; git status --short >/dev/null; test -e ${hook} && echo ran || echo clean; test -e /tmp/typed-by-mallory && echo typed || echo untouched`);
    expect(mineNow.stdout.trim().split("\n")).toEqual(["unset", "clean", "untouched"]);
    expect(existsSync(hook)).toBe(false);
    for (const s of [mine, next]) await end(s);
    await end(theirs, mallory);
  }, 180_000);

  test("the diff is bounded: a huge file shows its first part, a huge change stops with a notice", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const made = await inPod(
      session,
      "head -c 3000000 /dev/zero | tr '\\0' a | fold -w 99 > big.txt && for i in $(seq -w 1 20); do head -c 300000 /dev/zero | tr '\\0' b | fold -w 99 > more-$i.txt; done && git add . && echo made",
    );
    expect(made.stdout.trim()).toBe("made");
    const res = await pier.fetch(`/api/sessions/${session.id}/diff`, { headers: { cookie } });
    const body = await res.text();
    expect(body.length).toBeLessThan(5 * 1024 * 1024);
    const diff = JSON.parse(body) as { files: Array<{ path: string; truncated?: boolean; additions: number }>; patch: string; truncated: boolean; notice: string };
    expect(diff.truncated).toBe(true);
    expect(diff.files.find((f) => f.path === "big.txt")).toMatchObject({ truncated: true, additions: Math.ceil(3_000_000 / 99) });
    expect(diff.files).toHaveLength(21);
    // Each file stops at 256 KiB, so the 17th reaches 4 MiB and the rest are not shown at all.
    expect(diff.files.filter((f) => f.truncated)).toHaveLength(21);
    expect(diff.patch).toContain("diff --git a/more-16.txt");
    expect(diff.patch).not.toContain("diff --git a/more-17.txt");
    expect(diff.notice).toContain("256 KiB");
    expect(diff.notice).toContain("4 MiB");
    await end(session);
  }, 120_000);

  /** What must not change when Pier reads a diff: the person's index, what it stages and what git sees as new. */
  const indexState = (session: SessionJson) =>
    inPod(session, 'export GIT_OPTIONAL_LOCKS=0 && sha256sum "$(git rev-parse --git-path index)" && git diff --cached --stat && git status --porcelain=v1 -z --untracked-files=all | base64 -w0').then((r) => r.stdout);
  type DiffJson = { files: Array<{ path: string; status: string; additions: number; deletions: number; truncated?: boolean }>; patch: string; truncated: boolean; notice: string | null };
  const diffOf = async (session: SessionJson) => {
    const res = await pier.fetch(`/api/sessions/${session.id}/diff`, { headers: { cookie } });
    const body = await res.text();
    expect(res.status, body.slice(0, 500)).toBe(200);
    expect(body.length).toBeLessThan(5 * 1024 * 1024);
    return JSON.parse(body) as DiffJson;
  };

  test("new files not added to git are bounded like the rest: a huge one shows its first part, many stop with a notice", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const made = await inPod(
      session,
      "head -c 3000000 /dev/zero | tr '\\0' a | fold -w 99 > big.txt && for i in $(seq -w 1 20); do head -c 300000 /dev/zero | tr '\\0' b | fold -w 99 > more-$i.txt; done && echo made",
    );
    expect(made.stdout.trim()).toBe("made");
    const before = await indexState(session);
    const diff = await diffOf(session);
    expect(diff.truncated).toBe(true);
    expect(diff.files.find((f) => f.path === "big.txt")).toMatchObject({ status: "untracked", truncated: true, additions: Math.ceil(3_000_000 / 99) });
    expect(diff.files).toHaveLength(21);
    expect(diff.files.find((f) => f.path === "more-01.txt")).toMatchObject({ status: "untracked", additions: Math.ceil(300_000 / 99) });
    expect(diff.files.filter((f) => f.truncated)).toHaveLength(21);
    expect(diff.patch).toContain(`diff --git a/big.txt b/big.txt\nnew file mode 100644\n`);
    expect(diff.patch).toContain(`+${"a".repeat(99)}\n`);
    expect(diff.patch).toContain("diff --git a/more-16.txt");
    expect(diff.patch).not.toContain("diff --git a/more-17.txt");
    expect(diff.notice).toContain("256 KiB");
    expect(diff.notice).toContain("4 MiB");
    expect(await indexState(session)).toBe(before);
    await end(session);
  }, 120_000);

  test("very many new files: the diff lists the first ones and says there are more", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const made = await inPod(session, "mkdir many && cd many && seq -f 'new-file-%05g.txt' 1 20000 | xargs touch && echo made");
    expect(made.stdout.trim()).toBe("made");
    const diff = await diffOf(session);
    expect(diff.truncated).toBe(true);
    expect(diff.notice).toContain(`lists the first ${diff.files.length}`);
    // Each new path counts its name and 64 bytes against 1 MiB.
    expect(diff.files.length).toBe(Math.floor((1024 * 1024) / ("many/new-file-00001.txt".length + 64)));
    expect(diff.files.every((f) => f.status === "untracked" && f.additions === 0)).toBe(true);
    expect(diff.patch).toContain("diff --git a/many/new-file-00001.txt b/many/new-file-00001.txt\nnew file mode 100644\n");
    await end(session);
  }, 120_000);

  test("hostile new files: links are shown, never followed; FIFOs and ignored files stay out; binary is said; odd names keep their lines", async () => {
    const session = await activeSession(pier, cookie, { repoId });
    const made = await inPod(session, [
      "ln -s /etc/passwd passwd-link",
      "ln -s /etc/shadow shadow-link",
      "ln -s / root-link",
      "mkfifo fifo && ln -s fifo fifo-link",
      // Pods may not make devices (MKNOD is dropped); if one could, it would stay out as the FIFO does.
      "{ sudo -n mknod null-device c 1 3 2>/dev/null || true; }",
      "printf 'a\\0b\\0c\\n' > blob.bin",
      "printf 'spaced\\n' > 'with space.txt'",
      "printf 'quoted\\n' > 'say \"hi\".txt'",
      "printf 'first\\nsecond\\n' > $'new\\nline.txt'",
      "printf 'dashed\\n' > ./--force.txt",
      "printf 'starred\\n' > './*.txt'",
      "printf 'ignored.log\\n' > .gitignore && printf 'hidden\\n' > ignored.log",
      "mkdir inner && git -C inner init -q",
      "echo made",
    ].join(" && "));
    expect(made.stdout.trim()).toBe("made");
    const before = await indexState(session);
    const diff = await Promise.race([diffOf(session), Bun.sleep(60_000).then(() => null)]);
    expect(diff).not.toBeNull();
    const { files, patch } = diff!;
    const file = (path: string) => files.find((f) => f.path === path);
    const paths = files.map((f) => f.path);
    expect(paths).not.toContain("fifo");
    expect(paths).not.toContain("null-device");
    expect(paths).not.toContain("ignored.log");
    expect(patch).not.toContain("hidden");

    for (const link of ["passwd-link", "shadow-link", "root-link", "fifo-link"]) expect(file(link)).toMatchObject({ status: "untracked", additions: 1 });
    expect(patch).toContain("diff --git a/passwd-link b/passwd-link\nnew file mode 120000\n");
    expect(patch).toContain("+/etc/passwd\n\\ No newline at end of file");
    expect(patch).toContain("+/etc/shadow\n");
    expect(patch).toContain("+fifo\n");
    expect(patch).not.toContain("root:x:0:0");

    expect(file("blob.bin")).toMatchObject({ status: "untracked", additions: 0, deletions: 0 });
    expect(patch).toContain("Binary files /dev/null and b/blob.bin differ");
    expect(file("inner/")).toMatchObject({ status: "untracked", additions: 0 });

    const odd: Array<[string, string]> = [["with space.txt", "+spaced"], ['say "hi".txt', "+quoted"], ["new\nline.txt", "+second"], ["--force.txt", "+dashed"], ["*.txt", "+starred"]];
    for (const [path, line] of odd) {
      expect(file(path)).toMatchObject({ status: "untracked", additions: line === "+second" ? 2 : 1 });
      expect(patch).toContain(`${line}\n`);
    }
    // A quoted name's lines take comments as any other's.
    const commented = await pier.fetch(`/api/sessions/${session.id}/review`, json({ comments: [{ path: 'say "hi".txt', line: 1, body: "Why quotes?" }] }, { cookie }));
    expect(commented.status).toBe(201);
    expect(((await commented.json()) as { comments: Array<{ context: string }> }).comments[0]!.context).toBe("+quoted");

    expect(await indexState(session)).toBe(before);
    // Ending cannot save a repository without commits inside the worktree (git add --all refuses it).
    await inPod(session, "rm -rf inner");
    await end(session);
  }, 120_000);
});
