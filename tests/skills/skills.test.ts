/**
 * Skills: the API's checks and who may change what, what a repo's sessions get under its policy,
 * the import of a repository's committed skills from the server's mirror (with a hostile repo),
 * the agent's load_skill and propose_skill through the suite's stand-in for the Anthropic API,
 * and the sync into a live session's worktree on the Docker runtime: the files and their front
 * matter, a change within seconds, gone when disabled, never in git status or the saved commit,
 * and a skill the repo commits itself winning.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ChatClient } from "../support/chat-client.ts";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic.ts";
import { type RemoteRepo, gitAt, makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";

const API_KEY = "sk-ant-skills-test-000000000000";

type Skill = { id: string; name: string; category: string; content: string; description: string; enabled: boolean; repoId: string | null };
type Policy = {
  mode: string;
  globals: Array<{ id: string; name: string; enabled: boolean; choice: boolean | null; on: boolean }>;
  own: Skill[];
  effective: Array<{ name: string; scope: string; description: string }>;
};
type Committed = { fetched: boolean; branch: string; truncated: boolean; skills: Array<{ dir: string; name: string | null; description: string; category: string; problem: string | null }> };
type Proposal = { id: string; name: string; state: string; skillId: string | null; repoId: string | null; content: string; sessionId: string };
type ApiError = { error: { code: string; message: string } };

/** Commits files (path → content, or a symlink target as { link }) to the remote's main branch. */
function commitToRemote(remote: RemoteRepo, files: Record<string, string | Buffer | { link: string }>, message = "Add skills"): void {
  const work = join(dirname(remote.path), "work");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    if (typeof content === "object" && !Buffer.isBuffer(content)) symlinkSync(content.link, join(work, path));
    else writeFileSync(join(work, path), content);
  }
  remote.git("add", "--all");
  remote.git("commit", "--quiet", "-m", message);
  remote.git("push", "--quiet", "origin", "main");
  Bun.spawnSync(["chmod", "-R", "a+rX", dirname(remote.path)]);
}

/** A caller of the API as the person behind `cookie`. */
function client(pier: () => TestPier, cookie: () => string) {
  return async <T,>(method: string, path: string, body?: unknown, who = cookie()): Promise<{ status: number; body: T }> => {
    const res = await pier().fetch(path, { method, headers: { cookie: who, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: res.status === 204 ? (null as T) : ((await res.json()) as T) };
  };
}

/** Polls until `check` returns a value, or fails after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe("skills through the API, the import and the agent (local runtime)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-skills-"));
  let fake: FakeAnthropic;
  let pier: TestPier;
  let cookie: string;
  let member: string;
  let remote: RemoteRepo;
  let repoId: string;
  let otherRepoId: string;
  const call = client(() => pier, () => cookie);
  const newSkill = async (body: Record<string, unknown>) => {
    const res = await call<Skill>("POST", "/api/skills", { category: "coding", content: `# ${body.name}\n\nDo it well.\n`, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: API_KEY });
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1", ANTHROPIC_BASE_URL: fake.url }, dataDir);
    cookie = await setUpAdmin(pier);
    await pier.fetch("/api/settings", { ...json({ anthropicApiKey: API_KEY }, { cookie }), method: "PUT" });
    await pier.fetch("/api/users", json({ username: "mia", password: "mia password", role: "member" }, { cookie }));
    member = await signIn(pier, "mia", "mia password");
    remote = makeRemoteRepo("skilled");
    repoId = await addRepo(pier, cookie, `file://${remote.path}`, "skilled");
    otherRepoId = await addRepo(pier, cookie, `file://${makeRemoteRepo("plain").path}`, "plain");
  }, 120_000);

  afterAll(async () => {
    await closeForGood(pier);
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("bad names, categories, contents and repos are 400 naming the field; a name taken in its scope is 409; nothing is half-written", async () => {
    const badNames = ["a/b", "..", "../x", "Caps", "-lead", "trail-", "a--b", "a b", "ünï", "", "x".repeat(65), ".hidden", "a_b"];
    for (const name of badNames) {
      const res = await call<ApiError>("POST", "/api/skills", { name, category: "coding", content: "# X" });
      expect(`${JSON.stringify(name)}: ${res.status} ${res.body.error.code}`).toBe(`${JSON.stringify(name)}: 400 invalid_name`);
    }
    expect((await call<ApiError>("POST", "/api/skills", { name: "ok", category: "cooking", content: "# X" })).body.error.code).toBe("invalid_category");
    expect((await call<ApiError>("POST", "/api/skills", { name: "ok", category: "coding", content: "  \n" })).body.error.code).toBe("invalid_content");
    expect((await call<ApiError>("POST", "/api/skills", { name: "ok", category: "coding", content: "x".repeat(64 * 1024 + 1) })).body.error.code).toBe("invalid_content");
    expect((await call<ApiError>("POST", "/api/skills", { name: "ok", category: "coding", content: "# X", repoId: "no-such-repo" })).body.error).toMatchObject({ code: "invalid_repo_id" });
    expect((await call<ApiError>("POST", "/api/skills", { name: "ok", category: "coding", content: "# X", enabled: "yes" })).status).toBe(400);
    expect((await call<Skill[]>("GET", "/api/skills")).body).toEqual([]);

    const longest = await newSkill({ name: `${"a".repeat(30)}-${"b".repeat(33)}` });
    expect(longest.name).toHaveLength(64);
    const first = await newSkill({ name: "tidy-up" });
    expect((await call<ApiError>("POST", "/api/skills", { name: "tidy-up", category: "coding", content: "# Again" })).status).toBe(409);
    // The same name is free in a repo's own scope, and taken again there.
    const ownTidy = await newSkill({ name: "tidy-up", repoId: otherRepoId });
    expect((await call<ApiError>("POST", "/api/skills", { name: "tidy-up", category: "coding", content: "# Again", repoId: otherRepoId })).status).toBe(409);
    expect((await call<ApiError>("PATCH", `/api/skills/${longest.id}`, { name: "tidy-up" })).status).toBe(409);
    expect((await call<ApiError>("PATCH", `/api/skills/${first.id}`, { name: "../../etc" })).body.error.code).toBe("invalid_name");
    expect((await call<Skill>("GET", `/api/skills/${first.id}`)).body.name).toBe("tidy-up");
    for (const skill of [longest, first, ownTidy]) expect((await call("DELETE", `/api/skills/${skill.id}`)).status).toBe(204);
    expect((await call("GET", `/api/skills/${first.id}`)).status).toBe(404);
  });

  test("a member reads skills and policies but changes nothing", async () => {
    const skill = await newSkill({ name: "members-read" });
    expect((await call<Skill[]>("GET", "/api/skills", undefined, member)).body.map((s) => s.name)).toContain("members-read");
    expect((await call<Skill>("GET", `/api/skills/${skill.id}`, undefined, member)).status).toBe(200);
    expect((await call<Policy>("GET", `/api/repos/${repoId}/skill-policy`, undefined, member)).status).toBe(200);
    const refused = [
      await call("POST", "/api/skills", { name: "mine", category: "coding", content: "# Mine" }, member),
      await call("PATCH", `/api/skills/${skill.id}`, { enabled: false }, member),
      await call("DELETE", `/api/skills/${skill.id}`, undefined, member),
      await call("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "custom" }, member),
      await call("POST", `/api/repos/${repoId}/skills/import`, { names: ["deploy"] }, member),
      await call("POST", `/api/repos/${repoId}/skills/committed/refresh`, undefined, member),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect((await call<Skill>("GET", `/api/skills/${skill.id}`)).body.enabled).toBe(true);
    expect((await fetch(`${pier.url}/api/skills`)).status).toBe(401);
    await call("DELETE", `/api/skills/${skill.id}`);
  });

  test("what a repo's sessions get: inherit takes the enabled globals, custom its own choice; a repo's own skill wins a name", async () => {
    const lint = await newSkill({ name: "lint", category: "testing" });
    const ship = await newSkill({ name: "ship", category: "deployment", enabled: false });
    const docs = await newSkill({ name: "docs", category: "documentation", description: "The global docs skill" });
    const ownDocs = await newSkill({ name: "docs", repoId, content: "# Docs, the way this repo writes them\n" });
    await newSkill({ name: "own-off", repoId, enabled: false });
    const effective = async (id = repoId) => (await call<Policy>("GET", `/api/repos/${id}/skill-policy`)).body;

    let policy = await effective();
    expect(policy.mode).toBe("inherit");
    expect(policy.effective.map((s) => `${s.name}:${s.scope}`)).toEqual(["docs:repo", "lint:global"]);
    expect(policy.effective[0]!.description).toBe("Docs, the way this repo writes them");
    expect((await effective(otherRepoId)).effective.map((s) => `${s.name}:${s.scope}`)).toEqual(["docs:global", "lint:global"]);

    const custom = await call<Policy>("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "custom", skills: { [lint.id]: false, [ship.id]: true } });
    expect(custom.status).toBe(200);
    expect(custom.body.effective.map((s) => `${s.name}:${s.scope}`)).toEqual(["docs:repo", "ship:global"]);
    expect(custom.body.globals.find((g) => g.name === "docs")).toMatchObject({ choice: null, on: true });
    // A global left unchosen follows its own enabled: turned off globally, it goes.
    await call("PATCH", `/api/skills/${docs.id}`, { enabled: false });
    await call("DELETE", `/api/skills/${ownDocs.id}`);
    expect((await effective()).effective.map((s) => s.name)).toEqual(["ship"]);
    // Inheriting again keeps the choices for later but goes by the globals' own enabled.
    expect((await call<Policy>("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "inherit" })).body.effective.map((s) => s.name)).toEqual(["lint"]);
    expect((await call<Policy>("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "custom" })).body.effective.map((s) => s.name)).toEqual(["ship"]);

    expect((await call<ApiError>("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "sometimes" })).body.error.code).toBe("invalid_mode");
    expect((await call<ApiError>("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "custom", skills: { nope: true } })).body.error.code).toBe("invalid_skills");
    expect((await call<ApiError>("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "custom", skills: { [lint.id]: "on" } })).body.error.code).toBe("invalid_skills");
    expect((await call("GET", "/api/repos/nope/skill-policy")).status).toBe(404);
    expect((await effective()).mode).toBe("custom");

    await call("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "inherit" });
    for (const skill of (await call<Skill[]>("GET", "/api/skills")).body) await call("DELETE", `/api/skills/${skill.id}`);
  });

  test("importing from the mirror: bounded, a symlink or a huge file refused, hostile front matter kept as text and escaped on the page", async () => {
    const secretKey = readFileSync(join(dataDir, "secret.key"));
    const many: Record<string, string> = {};
    for (let i = 0; i < 60; i++) many[`.claude/skills/zz-filler-${String(i).padStart(2, "0")}/SKILL.md`] = `# Filler ${i}\n`;
    commitToRemote(remote, {
      ".claude/skills/deploy/SKILL.md": '---\nname: deploy\ndescription: "Ship it: to \\"staging\\", then prod"\ncategory: deployment\n---\n\n# Deploy\n\nRun `make ship`.\n',
      ".claude/skills/huge/SKILL.md": `# Huge\n${"x".repeat(200 * 1024)}\n`,
      ".claude/skills/stolen/SKILL.md": { link: join(dataDir, "secret.key") },
      ".claude/skills/passwd/SKILL.md": { link: "/etc/passwd" },
      ".claude/skills/hostile/SKILL.md": '---\nname: &a [*a, *a]\ndescription: <img src=x onerror="window.pwned=1"><script>alert(1)</script>\ncategory: cooking\n---\n# <b>Hostile</b>\n',
      ".claude/skills/Bad_Dir/SKILL.md": "# Nameless\n",
      ".claude/skills/binary/SKILL.md": Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      ".claude/skills/no-skill-file/README.md": "# Not a skill\n",
      ...many,
    });

    // Not fetched until a session starts (or an admin asks).
    expect((await call<Committed>("GET", `/api/repos/${repoId}/skills/committed`)).body).toMatchObject({ fetched: false, skills: [] });
    const fetched = await call<Committed>("POST", `/api/repos/${repoId}/skills/committed/refresh`);
    expect(fetched.status).toBe(200);
    const listed = (await call<Committed>("GET", `/api/repos/${repoId}/skills/committed`)).body;
    expect(listed).toMatchObject({ fetched: true, branch: "main", truncated: true });
    expect(listed.skills.length).toBeLessThanOrEqual(50);
    const byDir = new Map(listed.skills.map((s) => [s.dir, s]));
    expect(byDir.get("deploy")).toMatchObject({ name: "deploy", category: "deployment", description: 'Ship it: to "staging", then prod', problem: null });
    expect(byDir.get("huge")!.problem).toContain("at most 64 KiB");
    expect(byDir.get("stolen")!.problem).toContain("symbolic link");
    expect(byDir.get("passwd")!.problem).toContain("symbolic link");
    expect(byDir.get("binary")!.problem).toContain("not UTF-8");
    expect(byDir.get("Bad_Dir")).toMatchObject({ name: null });
    expect(byDir.get("Bad_Dir")!.problem).toContain("is a valid skill name");
    // Front matter's alias trick is text, not a name; the directory's name stands in.
    expect(byDir.get("hostile")).toMatchObject({ name: "hostile", category: "workflow", problem: null });
    expect(byDir.has("no-skill-file")).toBe(false);
    // A remote that cannot be reached is a sentence, not a crash.
    const vanishing = makeRemoteRepo("gone");
    const gone = await addRepo(pier, cookie, `file://${vanishing.path}`, "gone");
    rmSync(dirname(vanishing.path), { recursive: true, force: true });
    expect((await call<ApiError>("POST", `/api/repos/${gone}/skills/committed/refresh`)).body.error).toMatchObject({ code: "fetch_failed", message: expect.stringContaining("Fetching gone from its remote failed") });
    const answer = JSON.stringify(listed);
    expect(answer).not.toContain(secretKey.toString("utf8").trim());
    expect(answer).not.toContain("root:x:0:0");

    expect((await call<ApiError>("POST", `/api/repos/${repoId}/skills/import`, { names: ["stolen"] })).body.error.message).toContain("symbolic link");
    expect((await call<ApiError>("POST", `/api/repos/${repoId}/skills/import`, { names: ["deploy", "huge"] })).status).toBe(400);
    expect((await call<ApiError>("POST", `/api/repos/${repoId}/skills/import`, { names: ["not-there"] })).status).toBe(400);
    expect((await call<ApiError>("POST", `/api/repos/${repoId}/skills/import`, { names: [] })).status).toBe(400);
    expect((await call<Skill[]>("GET", `/api/skills?repoId=${repoId}`)).body).toEqual([]);

    const imported = await call<Skill[]>("POST", `/api/repos/${repoId}/skills/import`, { names: ["deploy", "hostile"] });
    expect(imported.status).toBe(201);
    const deploy = imported.body.find((s) => s.name === "deploy")!;
    expect(deploy).toMatchObject({ repoId, category: "deployment", description: 'Ship it: to "staging", then prod', content: "# Deploy\n\nRun `make ship`.\n", enabled: true });
    expect((await call<ApiError>("POST", `/api/repos/${repoId}/skills/import`, { names: ["deploy"] })).status).toBe(409);

    // The page lists them, escaped, and says the repository's own wins.
    const page = await (await pier.fetch(`/repos/${repoId}`, { headers: { cookie } })).text();
    expect(page).not.toContain('<img src=x onerror="window.pwned=1">');
    expect(page).not.toContain("<script>alert(1)</script>");
    expect(page).toContain("&lt;img src=x onerror=");
    expect(page).toContain("the repository's own wins");
    expect(page).not.toContain(secretKey.toString("utf8").trim());
  }, 60_000);

  test("the agent lists its skills, loads one (the repo's own wins), and proposes; an admin accepts and the worktree follows", async () => {
    const release = await newSkill({ name: "release-notes", category: "documentation", content: "# Release notes\n\nList the user-visible changes.\n" });
    const session = await activeSession(pier, cookie, { repoId });
    const chat = await ChatClient.connect(pier.url, session.id, { cookie, origin: pier.url });
    fake.script(
      { toolUse: { name: "load_skill", input: { name: "release-notes" } } },
      { toolUse: { name: "load_skill", input: { name: "deploy" } } },
      { toolUse: { name: "load_skill", input: { name: "nope" } } },
      { toolUse: { name: "propose_skill", input: { name: "changelog", category: "documentation", content: "# Changelog\n\nKeep CHANGELOG.md.\n", reason: "We keep one." } } },
      { toolUse: { name: "propose_skill", input: { name: "release-notes", category: "documentation", content: "# Release notes\n\nList the user-visible changes, newest first.\n" } } },
      { toolUse: { name: "propose_skill", input: { name: "Bad/Name", category: "coding", content: "# X" } } },
      { text: "Proposed." },
    );
    const events = await chat.turn("Use the skills");
    chat.close();
    const results = events.filter((e) => e.type === "tool_result");
    expect(results.map((r) => r.isError)).toEqual([false, false, true, false, false, true]);
    expect(results[0]!.output).toContain("List the user-visible changes.");
    // The repository commits its own deploy skill: that is what the worktree holds, and it wins.
    expect(results[1]!.output).toContain("The repository commits its own .claude/skills/deploy/SKILL.md");
    expect(results[1]!.output).toContain('description: "Ship it: to \\"staging\\", then prod"');
    expect(results[2]!.output).toContain("no skill named nope");
    expect(results[3]!.output).toContain("waits for a person");
    expect(results[4]!.output).toContain("a change to the skill release-notes");
    expect(results[5]!.output).toContain("lowercase words");
    const system = JSON.stringify(fake.requests.at(-1)!.body.system);
    expect(system).toContain("- release-notes: Release notes");
    expect(system).toContain("- deploy: Ship it: to");
    expect(system).not.toContain("No skills are configured");

    // Pending: the admin sees both; a member whose session it is not sees none.
    const pending = (await call<Proposal[]>("GET", "/api/skills/proposals?state=pending")).body;
    expect(pending.map((p) => p.name).sort()).toEqual(["changelog", "release-notes"]);
    expect((await call<Proposal[]>("GET", "/api/skills/proposals", undefined, member)).body).toEqual([]);
    const change = pending.find((p) => p.name === "release-notes")!;
    const fresh = pending.find((p) => p.name === "changelog")!;
    expect(change.skillId).toBe(release.id);
    expect(fresh).toMatchObject({ skillId: null, repoId });
    expect((await call("POST", `/api/skills/proposals/${fresh.id}/accept`, undefined, member)).status).toBe(403);
    expect((await call<Skill[]>("GET", "/api/skills")).body.some((s) => s.name === "changelog")).toBe(false);

    const accepted = await call<{ skill: Skill; proposal: Proposal }>("POST", `/api/skills/proposals/${fresh.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.skill).toMatchObject({ name: "changelog", repoId, content: "# Changelog\n\nKeep CHANGELOG.md.\n" });
    expect(accepted.body.proposal.state).toBe("accepted");
    expect((await call<ApiError>("POST", `/api/skills/proposals/${fresh.id}/accept`)).body.error.code).toBe("proposal_decided");
    await call("POST", `/api/skills/proposals/${change.id}/accept`);
    expect((await call<Skill>("GET", `/api/skills/${release.id}`)).body.content).toContain("newest first");

    // The live worktree follows: the new skill's file appears, the changed one is rewritten.
    const file = (name: string) => join(session.worktreePath, ".claude", "skills", name, "SKILL.md");
    await eventually("the accepted skill in the worktree", async () => existsSync(file("changelog")));
    await eventually("the changed skill in the worktree", async () => readFileSync(file("release-notes"), "utf8").includes("newest first"));
    expect(readFileSync(file("deploy"), "utf8")).toContain("Run `make ship`.");
    await call("POST", `/api/sessions/${session.id}/end`, {});
  }, 90_000);

  test("a member's session proposes: they see it waiting and may withdraw it, but not accept it; others see none of it", async () => {
    const session = await activeSession(pier, member, { repoId });
    const chat = await ChatClient.connect(pier.url, session.id, { cookie: member, origin: pier.url });
    fake.script(
      { toolUse: { name: "propose_skill", input: { name: "flaky-tests", category: "testing", content: "# Flaky tests\n\n<script>alert(1)</script> Rerun once.\n", scope: "global" } } },
      { toolUse: { name: "propose_skill", input: { name: "second", category: "testing", content: "# Second\n" } } },
      { text: "Proposed." },
    );
    await chat.turn("Propose");
    chat.close();
    const mine = (await call<Proposal[]>("GET", "/api/skills/proposals?state=pending", undefined, member)).body;
    expect(mine.map((p) => `${p.name}:${p.repoId ?? "global"}:${p.sessionId === session.id}`)).toEqual(["second:" + repoId + ":true", "flaky-tests:global:true"]);
    const flaky = mine.find((p) => p.name === "flaky-tests")!;
    expect((await call("POST", `/api/skills/proposals/${flaky.id}/accept`, undefined, member)).status).toBe(403);
    expect((await call<ApiError>("GET", "/api/skills/proposals?state=maybe", undefined, member)).status).toBe(400);

    // The member's Skills page shows it waiting, escaped, with no Accept.
    const memberPage = await (await pier.fetch("/skills", { headers: { cookie: member } })).text();
    expect(memberPage).toContain('data-proposal="' + flaky.id + '"');
    expect(memberPage).toContain("Waits for an admin to accept it.");
    expect(memberPage).not.toContain("<script>alert(1)</script>");
    expect(memberPage).not.toContain('action="/skills"');
    expect(memberPage).not.toContain(`/skills/proposals/${flaky.id}/accept`);
    expect(memberPage).toContain("Only an admin adds and changes skills.");
    const declined = await call<Proposal>("POST", `/api/skills/proposals/${flaky.id}/decline`, undefined, member);
    expect(declined.body.state).toBe("declined");
    expect((await call<Skill[]>("GET", "/api/skills")).body.some((s) => s.name === "flaky-tests")).toBe(false);

    // The admin's page: the other one waits, escaped; imported hostile text is escaped too.
    const page = await (await pier.fetch("/skills", { headers: { cookie } })).text();
    expect(page).toContain(`/skills/proposals/${mine.find((p) => p.name === "second")!.id}/accept`);
    expect(page).not.toContain(flaky.id);
    expect(page).not.toContain('<img src=x onerror="window.pwned=1">');
    expect(page).toContain("&lt;img src=x onerror=");
    await call("POST", `/api/sessions/${session.id}/end`, {}, member);
  }, 60_000);
});

describe("skills in a live session's worktree (Docker runtime)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pier-skills-docker-"));
  let pier: TestPier;
  let cookie: string;
  let repoId: string;
  const call = client(() => pier, () => cookie);
  const sh = (session: SessionJson, script: string) => pier.pier.runtime.exec({ id: session.podId!, image: "" }, ["bash", "-c", script], { cwd: session.worktreePath, timeoutMs: 30_000 });
  const cat = async (session: SessionJson, path: string) => {
    const out = await sh(session, `cat -- ${path} 2>/dev/null || echo MISSING`);
    return out.stdout;
  };

  beforeAll(async () => {
    pier = await startTestPier(await dockerTestEnv(), dataDir);
    cookie = await setUpAdmin(pier);
    const remote = makeRemoteRepo("docked");
    commitToRemote(remote, { ".claude/skills/shared/SKILL.md": "---\nname: shared\ndescription: The repo's own\n---\n# The repository's own shared skill\n" });
    repoId = await addRepo(pier, cookie, `file://${remote.path}`, "docked");
  }, 300_000);

  afterAll(async () => {
    await pier.pier.pods.removeAll(repoId);
    await closeForGood(pier);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("files with their front matter at start, a change within seconds, removed when disabled; never in git status or the saved commit; the repo's own wins", async () => {
    const description = 'Write notes: "short", #1 priority\nfor: everyone';
    const notes = (await call<Skill>("POST", "/api/skills", { name: "release-notes", category: "documentation", description, content: "# Release notes\n\nKeep them short.\n" })).body;
    await call("POST", "/api/skills", { name: "shared", category: "workflow", content: "# Pier's shared skill\n" });
    await call("POST", "/api/skills", { name: "only-here", category: "testing", repoId, content: "# Only here\n\nRun the tests.\n" });
    const session = await activeSession(pier, cookie, { repoId });
    expect(pier.pier.runtime.kind).toBe("docker");
    expect(session.podId).not.toBe("local");

    const written = await cat(session, ".claude/skills/release-notes/SKILL.md");
    expect(written).toBe(`---\nname: release-notes\ndescription: "Write notes: \\"short\\", #1 priority for: everyone"\n---\n\n# Release notes\n\nKeep them short.\n`);
    const front = Bun.YAML.parse(/^---\n([\s\S]*?)\n---\n/.exec(written)![1]!) as Record<string, string>;
    expect(front).toEqual({ name: "release-notes", description: 'Write notes: "short", #1 priority for: everyone' });
    expect(await cat(session, ".claude/skills/only-here/SKILL.md")).toContain("Run the tests.");
    // The repository commits its own shared skill: it stays as the repo has it.
    expect(await cat(session, ".claude/skills/shared/SKILL.md")).toBe("---\nname: shared\ndescription: The repo's own\n---\n# The repository's own shared skill\n");
    expect((await sh(session, "git status --porcelain --untracked-files=all")).stdout).toBe("");
    const page = await (await pier.fetch(`/repos/${repoId}`, { headers: { cookie } })).text();
    expect(page).toMatch(/data-skill="shared"[\s\S]*?the repository's own wins/);

    await call("PATCH", `/api/skills/${notes.id}`, { content: "# Release notes\n\nKeep them shorter.\n" });
    await eventually("the changed skill in the live worktree", async () => (await cat(session, ".claude/skills/release-notes/SKILL.md")).includes("Keep them shorter."));

    await call("PATCH", `/api/skills/${notes.id}`, { enabled: false });
    await eventually("the disabled skill gone from the live worktree", async () => (await sh(session, "test -e .claude/skills/release-notes || echo gone")).stdout.trim() === "gone");
    expect(await cat(session, ".claude/skills/only-here/SKILL.md")).toContain("Run the tests.");
    await call("PATCH", `/api/skills/${notes.id}`, { enabled: true });
    await eventually("the skill back", async () => (await cat(session, ".claude/skills/release-notes/SKILL.md")).includes("Keep them shorter."));
    // The repository's policy counts too: chosen off, the file goes; inheriting again, it is back.
    await call("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "custom", skills: { [notes.id]: false } });
    await eventually("the skill chosen off gone", async () => (await sh(session, "test -e .claude/skills/release-notes || echo gone")).stdout.trim() === "gone");
    await call("PUT", `/api/repos/${repoId}/skill-policy`, { mode: "inherit" });
    await eventually("the inherited skill back", async () => (await cat(session, ".claude/skills/release-notes/SKILL.md")).includes("Keep them shorter."));

    // The person's own work is saved at the end; Pier's files are not.
    await sh(session, "echo work > work.txt && echo edited >> .claude/skills/shared/SKILL.md");
    expect((await sh(session, "git status --porcelain --untracked-files=all")).stdout.split("\n").filter(Boolean).sort()).toEqual([" M .claude/skills/shared/SKILL.md", "?? work.txt"]);
    const ended = (await call<SessionJson>("POST", `/api/sessions/${session.id}/end`, {})).body;
    expect(ended.savedCommit).toBeTruthy();
    const clone = join(dataDir, "workspaces", repoId, session.userId, "clone.git");
    const files = gitAt(clone, "ls-tree", "-r", "--name-only", ended.savedCommit!).split("\n");
    expect(files).toContain("work.txt");
    expect(files).toContain(".claude/skills/shared/SKILL.md");
    expect(files.filter((f) => f.startsWith(".claude/skills/") && f !== ".claude/skills/shared/SKILL.md")).toEqual([]);
    expect(gitAt(clone, "show", "--name-only", "--format=", ended.savedCommit!).split("\n").sort()).toEqual([".claude/skills/shared/SKILL.md", "work.txt"]);
  }, 300_000);
});
