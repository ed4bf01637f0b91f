/**
 * Review comments on a session's diff (POST /api/sessions/:id/review): each comment is checked
 * against the diff, kept until sent, and sent as ONE chat message carrying every file and line,
 * which a real turn then answers through the stand-in for the Anthropic API. Ended sessions keep
 * their diff (from the branch, through the pod) and their comments wait for a resume. On the
 * local runtime, where the session's worktree is this machine's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo, apiError, waitForState } from "../support/sessions.ts";

const API_KEY = "sk-ant-test-key-000000000000";

type Comment = { id: string; path: string; line: number; body: string; context: string; sentAt: string | null };
type Diff = { files: Array<{ path: string; status: string; additions: number; deletions: number }>; patch: string };

describe("review comments", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-review-"));
  let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let pier: TestPier;
  let cookie: string;
  let memberCookie: string;
  let repoId: string;
  let session: SessionJson;

  /** A command in the session's worktree, as its (local) pod runs it; never synchronous, or Pier, in this process, could not answer. */
  const sh = async (script: string) => {
    const child = Bun.spawn(["bash", "-c", script], { cwd: session.worktreePath, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`${script}: ${stderr}`);
    return stdout;
  };
  const review = (body: unknown, who = cookie, id = session.id) => pier.fetch(`/api/sessions/${id}/review`, json(body, { cookie: who }));
  const comments = async (id = session.id) => ((await (await pier.fetch(`/api/sessions/${id}/review`, { headers: { cookie } })).json()) as { comments: Comment[] }).comments;
  const transcript = async (id = session.id) => (await (await pier.fetch(`/api/sessions/${id}/transcript`, { headers: { cookie } })).json()) as Array<{ kind: string; text?: string }>;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    await pier.fetch("/api/users", json({ username: "mallory", password: "mallory password", role: "member" }, { cookie }));
    memberCookie = await signIn(pier, "mallory", "mallory password");
    repoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("reviewed").path}`, "reviewed");
    session = await activeSession(pier, cookie, { repoId });
    // A committed new file and an uncommitted change: the diff against the base holds both.
    await sh(
      [
        "mkdir -p src && printf 'export const a = 1;\\nexport const b = 2;\\nexport const c = 3;\\n' > src/app.ts",
        "git add src/app.ts && git -c user.name=t -c user.email=t@example.com commit -qm 'Add app'",
        "printf '# reviewed\\n\\nSecond line\\nThird line\\n' > README.md",
      ].join(" && "),
    );
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("a bad comment is a 400 naming its field, and nothing of the request is kept", async () => {
    const good = { path: "src/app.ts", line: 2, body: "Fine." };
    const cases: Array<[unknown, string]> = [
      [{}, "comments"],
      [{ comments: "README.md" }, "comments"],
      [{ comments: [] }, "comments"],
      [{ comments: [good], send: "yes" }, "send"],
      [{ comments: [good, "no"] }, "comments[1]"],
      [{ comments: [{ ...good, path: "../../../etc/passwd" }] }, "comments[0].path"],
      [{ comments: [{ ...good, path: "src/../README.md" }] }, "comments[0].path"],
      [{ comments: [{ ...good, path: "/etc/passwd" }] }, "comments[0].path"],
      [{ comments: [{ ...good, path: "not-changed.txt" }] }, "comments[0].path"],
      [{ comments: [{ ...good, path: "src/app.ts\nREADME.md" }] }, "comments[0].path"],
      [{ comments: [{ ...good, line: 0 }] }, "comments[0].line"],
      [{ comments: [{ ...good, line: -3 }] }, "comments[0].line"],
      [{ comments: [{ ...good, line: 1.5 }] }, "comments[0].line"],
      [{ comments: [{ ...good, line: "2" }] }, "comments[0].line"],
      [{ comments: [good, { ...good, line: 40 }] }, "comments[1].line"],
      [{ comments: [{ ...good, body: "" }] }, "comments[0].body"],
      [{ comments: [{ ...good, body: "   \n " }] }, "comments[0].body"],
      [{ comments: [{ ...good, body: "x".repeat(2001) }] }, "comments[0].body"],
      [{ comments: [{ ...good, body: "bell\u0007" }] }, "comments[0].body"],
      [{ comments: Array.from({ length: 31 }, () => good) }, "comments"],
    ];
    for (const [body, field] of cases) {
      const res = await review(body);
      const error = await apiError(res);
      expect(`${JSON.stringify(body).slice(0, 80)} → ${res.status}`).toBe(`${JSON.stringify(body).slice(0, 80)} → 400`);
      expect(error.message).toContain(field);
    }
    expect(await comments()).toEqual([]);
    expect((await transcript()).filter((item) => item.kind === "user")).toEqual([]);
  }, 60_000);

  test("someone else's session is not there to review, and signed out is 401", async () => {
    const paths = [`/api/sessions/${session.id}/review`];
    expect((await pier.fetch(paths[0]!, { headers: { cookie: memberCookie } })).status).toBe(404);
    const res = await review({ comments: [{ path: "src/app.ts", line: 1, body: "Let me in" }], send: true }, memberCookie);
    expect(await apiError(res)).toMatchObject({ status: 404 });
    expect((await pier.fetch(paths[0]!, json({ comments: [] }))).status).toBe(401);
    expect(await comments()).toEqual([]);
    expect((await transcript()).filter((item) => item.kind === "user")).toEqual([]);
  });

  test("kept comments wait on their lines; sending makes one chat message with each file and line, which the agent answers", async () => {
    const kept = await review({ comments: [{ path: "README.md", line: 3, body: "Say what the second line is for." }] });
    expect(kept.status).toBe(201);
    const keptBody = (await kept.json()) as { comments: Comment[]; sent: boolean };
    expect(keptBody.sent).toBe(false);
    expect(keptBody.comments[0]).toMatchObject({ path: "README.md", line: 3, sentAt: null });
    expect(keptBody.comments[0]!.context).toContain("+Second line");
    expect((await transcript()).filter((item) => item.kind === "user")).toEqual([]);

    // A deletion a kept comment was wrong about: deleting it takes it out of the review.
    const mistaken = (await (await review({ comments: [{ path: "README.md", line: 1, body: "Never mind." }] })).json()) as { comments: Comment[] };
    expect((await pier.fetch(`/api/sessions/${session.id}/review/comments/${mistaken.comments[0]!.id}`, { method: "DELETE", headers: { cookie: memberCookie } })).status).toBe(404);
    expect((await pier.fetch(`/api/sessions/${session.id}/review/comments/${mistaken.comments[0]!.id}`, { method: "DELETE", headers: { cookie } })).status).toBe(204);

    const chat = await ChatClient.connect(pier.url, session.id, { cookie });
    fake.script({ text: "I will explain the second line and rename b." });
    const from = chat.events.length;
    const sent = await review({ comments: [{ path: "src/app.ts", line: 2, body: "Rename `b` to something clearer." }], send: true });
    expect(sent.status).toBe(201);
    const sentBody = (await sent.json()) as { comments: Comment[]; sent: boolean; message: string };
    expect(sentBody.sent).toBe(true);
    expect(sentBody.comments.map((c) => `${c.path}:${c.line}`)).toEqual(["README.md:3", "src/app.ts:2"]);
    await chat.next("turn_end", from);
    chat.close();

    const users = (await transcript()).filter((item) => item.kind === "user");
    expect(users).toHaveLength(1);
    const text = users[0]!.text!;
    expect(text).toContain("README.md:3");
    expect(text).toContain("Say what the second line is for.");
    expect(text).toContain("+Second line");
    expect(text).toContain("src/app.ts:2");
    expect(text).toContain("Rename `b` to something clearer.");
    expect(text).toContain("+export const b = 2;");
    expect(text).not.toContain("Never mind.");
    // The model was asked with the file and line in the person's message.
    const asked = JSON.stringify(fake.requests.at(-1)!.body.messages);
    expect(asked).toContain("README.md:3");
    expect(asked).toContain("src/app.ts:2");
    const assistant = (await transcript()).filter((item) => item.kind === "assistant");
    expect(assistant.at(-1)!.text).toBe("I will explain the second line and rename b.");

    const all = await comments();
    expect(all.map((c) => [c.path, c.line, c.sentAt !== null])).toEqual([["README.md", 3, true], ["src/app.ts", 2, true]]);
    // Sent comments stay with the review: they cannot be taken back.
    expect((await pier.fetch(`/api/sessions/${session.id}/review/comments/${all[0]!.id}`, { method: "DELETE", headers: { cookie } })).status).toBe(409);
    // Nothing kept and nothing given: there is nothing to send.
    expect((await review({ comments: [], send: true })).status).toBe(400);
  }, 60_000);

  test("the review page shows a comment's HTML as text, and is not there for someone else", async () => {
    const attack = `<script>alert("review")</script><img src=x onerror="alert(1)">`;
    expect((await review({ comments: [{ path: "src/app.ts", line: 3, body: attack }] })).status).toBe(201);
    const html = await (await pier.fetch(`/sessions/${session.id}/review`, { headers: { cookie } })).text();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;alert(");
    const stranger = await pier.fetch(`/sessions/${session.id}/review`, { headers: { cookie: memberCookie } });
    expect(stranger.status).toBe(404);
    expect(await stranger.text()).not.toContain("onerror");
    const sent = await pier.fetch(`/sessions/${session.id}/review/send`, { method: "POST", headers: { cookie: memberCookie, origin: pier.url } });
    expect(sent.status).toBe(404);
    const mine = (await comments()).find((c) => c.body === attack)!;
    expect(mine.sentAt).toBeNull();
    expect((await pier.fetch(`/api/sessions/${session.id}/review/comments/${mine.id}`, { method: "DELETE", headers: { cookie } })).status).toBe(204);
  });

  test("a new file not added to git shows its lines in the diff and takes comments on them; the person's index stays as it was", async () => {
    const fresh = await activeSession(pier, cookie, { repoId });
    const run = async (script: string) => {
      const child = Bun.spawn(["bash", "-c", script], { cwd: fresh.worktreePath, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      if (code !== 0) throw new Error(`${script}: ${stderr}`);
      return stdout;
    };
    // A staged change besides the new file: the index holds something of the person's to keep.
    await run("mkdir -p 'docs/new notes' && printf 'Plan\\nShip it\\nCelebrate\\n' > 'docs/new notes/plan.md' && printf 'staged\\n' >> README.md && git add README.md");
    const indexState = "export GIT_OPTIONAL_LOCKS=0 && sha256sum \"$(git rev-parse --git-path index)\" && git diff --cached --stat && git status --porcelain=v1 --untracked-files=all";
    const before = await run(indexState);
    expect(before).toContain('?? "docs/new notes/plan.md"');

    const diff = (await (await pier.fetch(`/api/sessions/${fresh.id}/diff`, { headers: { cookie } })).json()) as Diff;
    expect(diff.files).toContainEqual({ path: "docs/new notes/plan.md", status: "untracked", additions: 3, deletions: 0 });
    expect(diff.patch).toContain("+++ b/docs/new notes/plan.md");
    expect(diff.patch).toContain("+Ship it\n+Celebrate\n");
    expect(await run(indexState)).toBe(before);

    const kept = await review({ comments: [{ path: "docs/new notes/plan.md", line: 2, body: "Say when." }] }, cookie, fresh.id);
    expect(kept.status).toBe(201);
    const [comment] = ((await kept.json()) as { comments: Comment[] }).comments;
    expect(comment).toMatchObject({ path: "docs/new notes/plan.md", line: 2, body: "Say when.", sentAt: null });
    expect(comment!.context).toBe("+Plan\n+Ship it");
    const past = await apiError(await review({ comments: [{ path: "docs/new notes/plan.md", line: 4, body: "Past the end." }] }, cookie, fresh.id));
    expect(past).toMatchObject({ status: 400 });
    expect(past.message).toContain("between 1 and 3");
    expect((await comments(fresh.id)).map((c) => `${c.path}:${c.line}`)).toEqual(["docs/new notes/plan.md:2"]);

    // The review page shows the new file's lines, each with its button to comment on it.
    const html = await (await pier.fetch(`/sessions/${fresh.id}/review`, { headers: { cookie } })).text();
    const file = html.slice(html.indexOf('data-path="docs/new notes/plan.md"'));
    expect(file).toContain("Celebrate");
    expect(file).toContain('data-comment-line="3"');
    expect(await run(indexState)).toBe(before);
    await pier.fetch(`/api/sessions/${fresh.id}/end`, json({}, { cookie }));
  }, 120_000);

  test("an ended session keeps its diff from its branch; sending waits for a resume, which brings it back with the same id and branch", async () => {
    const ended = await pier.fetch(`/api/sessions/${session.id}/end`, json({}, { cookie }));
    expect(ended.status).toBe(200);
    const diff = (await (await pier.fetch(`/api/sessions/${session.id}/diff`, { headers: { cookie } })).json()) as Diff;
    // Its worktree is gone; the saved commit on the branch carries the uncommitted change.
    expect(diff.files.map((f) => [f.path, f.status, f.additions]).sort()).toEqual([["README.md", "modified", 3], ["src/app.ts", "added", 3]]);
    expect(diff.patch).toContain("+Third line");

    const refused = await review({ comments: [{ path: "README.md", line: 4, body: "And the third?" }], send: true });
    const error = await apiError(refused);
    expect(error.status).toBe(409);
    expect(error.message).toMatch(/resume/i);
    const kept = await review({ comments: [{ path: "README.md", line: 4, body: "And the third?" }] });
    expect(kept.status).toBe(201);

    const page = await pier.fetch(`/sessions/${session.id}/review`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    // Each file of the diff is listed with a link to its place on the page.
    for (const [path, id] of fileAnchors(html)) {
      expect(html).toContain(`id="${id}"`);
      expect(["README.md", "src/app.ts"]).toContain(path);
    }
    expect(fileAnchors(html).map(([path]) => path).sort()).toEqual(["README.md", "src/app.ts"]);
    expect(html).toContain("And the third?");

    // Resume from the review page: a plain form, no JavaScript needed.
    const form = /<form[^>]*action="(\/sessions\/[^"]+\/resume)"/.exec(html);
    expect(form?.[1]).toBe(`/sessions/${session.id}/resume`);
    const resumed = await pier.fetch(form![1]!, { method: "POST", headers: { cookie, origin: pier.url, "content-type": "application/x-www-form-urlencoded" }, body: "" });
    expect(resumed.status).toBe(303);
    const back = await waitForState(pier, cookie, session.id, "active");
    expect(back.id).toBe(session.id);
    expect(back.branch).toBe(session.branch);

    fake.script({ text: "The third line is there for symmetry." });
    const chat = await ChatClient.connect(pier.url, session.id, { cookie });
    const from = chat.events.length;
    expect((await review({ comments: [], send: true })).status).toBe(201);
    await chat.next("turn_end", from);
    chat.close();
    const last = (await transcript()).filter((item) => item.kind === "user").at(-1)!;
    expect(last.text).toContain("README.md:4");
    expect(last.text).toContain("And the third?");
    expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).toContain("README.md:4");
  }, 120_000);
});

/** The diff's file list on the review page: each file's path and the id of the place its link jumps to. */
function fileAnchors(html: string): Array<[string, string]> {
  return [...html.matchAll(/<a[^>]*class="diff-nav-link"[^>]*href="#([^"]+)"[^>]*>\s*<span[^>]*>([^<]+)<\/span>/g)].map((m) => [m[2]!, m[1]!]);
}
