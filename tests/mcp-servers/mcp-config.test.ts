/**
 * MCP servers' settings through the API: every field checked (a clear 400 naming it, nothing
 * written), names unique in their scope, admins write and members only read, environment values
 * sealed and masked and kept across edits that do not give them again. Then what sessions get:
 * .mcp.json in a live session's worktree (Pier's endpoint and the effective servers, never a
 * secret), brought up to date within seconds of a change, and the pod's launcher, which gets a
 * server's command and secrets over the pod's socket for a live session of its own only. On the
 * local runtime, where the test can run the launcher itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { type SessionJson, activeSession, addRepo } from "../support/sessions.ts";

type Server = { id: string; name: string; repoId: string | null; command: string; args: string[]; env: Record<string, string>; enabled: boolean };

const SECRET = "ghp_mcp-config-secret-0123456789abcdef";
const OTHER_SECRET = "second-secret-value-that-is-long";

let pier: TestPier;
let admin: string;
let member: string;
let repoId: string;
let otherRepoId: string;

const call = async (method: string, path: string, body?: unknown, who = admin) => {
  const res = await pier.fetch(path, { method, headers: { cookie: who, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : null };
};
const create = async (body: Record<string, unknown>) => {
  const res = await call("POST", "/api/config/mcps", body);
  expect(res.status, res.text).toBe(201);
  return res.body as Server;
};
/** Runs a program without blocking this process (Pier runs in it, and answers the launcher's socket). */
const run = async (argv: string[], cwd: string) => {
  const child = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" } });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, code };
};
const mcpJsonOf = (session: SessionJson) => JSON.parse(readFileSync(join(session.worktreePath, ".mcp.json"), "utf8")) as { mcpServers: Record<string, any> };
const eventually = async (check: () => void, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(100);
    }
  }
};

beforeAll(async () => {
  pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
  admin = await setUpAdmin(pier);
  expect((await pier.fetch("/api/users", json({ username: "mia", password: "member password 1", role: "member" }, { cookie: admin }))).status).toBe(201);
  member = await signIn(pier, "mia", "member password 1");
  repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("configured").path}`, "configured");
  otherRepoId = await addRepo(pier, admin, `file://${makeRemoteRepo("elsewhere").path}`, "elsewhere");
}, 60_000);

afterAll(async () => {
  if (pier) await closeForGood(pier);
}, 60_000);

describe("MCP servers through the API", () => {
  test("every field is checked: a 400 naming it, and nothing written", async () => {
    const good = { name: "checked", command: "npx", args: ["-y", "server"], env: { TOKEN: "x" } };
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ ...good, name: "a/b" }, "name"],
      [{ ...good, name: ".." }, "name"],
      [{ ...good, name: "../x" }, "name"],
      [{ ...good, name: "GitHub" }, "name"],
      [{ ...good, name: "-lead" }, "name"],
      [{ ...good, name: "trail-" }, "name"],
      [{ ...good, name: "two--hyphens" }, "name"],
      [{ ...good, name: "under_score" }, "name"],
      [{ ...good, name: "a".repeat(65) }, "name"],
      [{ ...good, name: "pier" }, "name"],
      [{ ...good, name: "" }, "name"],
      [{ ...good, name: undefined }, "name"],
      [{ ...good, command: "" }, "command"],
      [{ ...good, command: "   " }, "command"],
      [{ ...good, command: "npx\nrm -rf /" }, "command"],
      [{ ...good, command: "x".repeat(1001) }, "command"],
      [{ ...good, args: "-y server" }, "args"],
      [{ ...good, args: ["ok", 3] }, "args"],
      [{ ...good, args: ["line\nbreak"] }, "args"],
      [{ ...good, args: Array.from({ length: 101 }, () => "a") }, "args"],
      [{ ...good, env: ["TOKEN=x"] }, "env"],
      [{ ...good, env: { TOKEN: 42 } }, "env"],
      [{ ...good, env: { "BAD NAME": "x" } }, "env"],
      [{ ...good, env: { "1ST": "x" } }, "env"],
      [{ ...good, env: { "A=B": "x" } }, "env"],
      [{ ...good, env: { TOKEN: "nul\0inside" } }, "env"],
      [{ ...good, env: { __pier_command: "x" } }, "env"],
      [{ ...good, env: { TOKEN: "••••••••" } }, "env"],
      [{ ...good, env: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`V${i}`, "x"])) }, "env"],
      [{ ...good, enabled: "yes" }, "enabled"],
      [{ ...good, repoId: "no-such-repo" }, "repoId"],
    ];
    for (const [body, field] of refused) {
      const res = await call("POST", "/api/config/mcps", body);
      expect(`${JSON.stringify(body).slice(0, 80)} → ${res.status} ${res.body?.error?.field}`).toBe(`${JSON.stringify(body).slice(0, 80)} → 400 ${field}`);
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
    expect((await call("GET", "/api/config/mcps")).body).toEqual([]);
  });

  test("secrets are sealed, shown as one fixed mask in every answer and kept across edits that do not give them", async () => {
    const created = await create({ name: "github", command: "npx", args: ["-y", "@modelcontextprotocol/server-github"], env: { GITHUB_TOKEN: SECRET, SHORT: "tiny" } });
    expect(created).toMatchObject({ name: "github", repoId: null, command: "npx", args: ["-y", "@modelcontextprotocol/server-github"], enabled: true });
    // Long or short, nothing of a value shows, to the admin who set it neither.
    expect(created.env).toEqual({ GITHUB_TOKEN: "••••••••", SHORT: "••••••••" });

    // Editing other fields never needs the secret again: left out, or sent back as shown.
    const renamed = await call("PATCH", `/api/config/mcps/${created.id}`, { command: "bunx", enabled: false });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ command: "bunx", enabled: false, env: created.env });
    const roundTrip = await call("PATCH", `/api/config/mcps/${created.id}`, { ...renamed.body, enabled: true });
    expect(roundTrip.body.env).toEqual(created.env);
    expect(await pier.pier.mcpServers.launch(repoId, "github")).toEqual({
      command: "bunx",
      args: ["-y", "@modelcontextprotocol/server-github"],
      env: { GITHUB_TOKEN: SECRET, SHORT: "tiny" },
    });

    // A value given replaces that one; a name left out is removed; a new name needs its value.
    const replaced = await call("PATCH", `/api/config/mcps/${created.id}`, { env: { GITHUB_TOKEN: created.env.GITHUB_TOKEN, EXTRA: OTHER_SECRET } });
    expect(replaced.body.env).toEqual({ GITHUB_TOKEN: "••••••••", EXTRA: "••••••••" });
    expect((await pier.pier.mcpServers.launch(repoId, "github"))!.env).toEqual({ GITHUB_TOKEN: SECRET, EXTRA: OTHER_SECRET });
    const unknownKept = await call("PATCH", `/api/config/mcps/${created.id}`, { env: { NEWONE: "••••••••" } });
    expect(unknownKept.status).toBe(400);
    expect(unknownKept.body.error.field).toBe("env");
    expect((await pier.pier.mcpServers.launch(repoId, "github"))!.env).toEqual({ GITHUB_TOKEN: SECRET, EXTRA: OTHER_SECRET });

    // Nowhere in what anyone reads, nor in the database's bytes.
    for (const who of [admin, member]) {
      for (const path of ["/api/config/mcps", `/api/config/mcps/${created.id}`, `/api/config/mcps?repoId=${repoId}`]) {
        const res = await call("GET", path, undefined, who);
        expect(res.status).toBe(200);
        expect(res.text).not.toContain(SECRET);
        expect(res.text).not.toContain(OTHER_SECRET);
      }
    }
    pier.pier.db.$client.exec("PRAGMA wal_checkpoint(PASSIVE)");
    for (const file of ["pier.db", "pier.db-wal"]) {
      const path = join(pier.dataDir, file);
      if (!existsSync(path)) continue;
      const bytes = readFileSync(path);
      expect(bytes.includes(SECRET)).toBe(false);
      expect(bytes.includes(OTHER_SECRET)).toBe(false);
    }
  });

  test("names are unique in their scope: 409; a repo's may share a global one's name", async () => {
    const taken = await call("POST", "/api/config/mcps", { name: "github", command: "x" });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("name_taken");
    const forRepo = await create({ name: "github", command: "repo-github", repoId });
    expect(forRepo.repoId).toBe(repoId);
    expect((await call("POST", "/api/config/mcps", { name: "github", command: "again", repoId })).status).toBe(409);
    await create({ name: "github", command: "other-github", repoId: otherRepoId });
    const other = await create({ name: "tools", command: "tools" });
    const clash = await call("PATCH", `/api/config/mcps/${other.id}`, { name: "github" });
    expect(clash.status).toBe(409);
    expect((await call("GET", `/api/config/mcps/${other.id}`)).body.name).toBe("tools");
    expect((await call("GET", `/api/config/mcps?repoId=${repoId}`)).body.map((s: Server) => s.command)).toEqual(["repo-github"]);
    const all = (await call("GET", "/api/config/mcps")).body as Server[];
    expect(all.map((s) => `${s.name}:${s.repoId === null ? "global" : s.repoId === repoId ? "configured" : "elsewhere"}`).sort()).toEqual(
      ["github:configured", "github:elsewhere", "github:global", "tools:global"].sort(),
    );
    // The repo's wins over the global one of its name.
    expect(pier.pier.mcpServers.effective(repoId).map((s) => `${s.name}:${s.command}`)).toEqual(["github:repo-github", "tools:tools"]);
    await call("DELETE", `/api/config/mcps/${other.id}`);
  });

  test("members read but cannot change anything; an unknown id is 404", async () => {
    const [server] = (await call("GET", "/api/config/mcps", undefined, member)).body as Server[];
    for (const [method, path, body] of [
      ["POST", "/api/config/mcps", { name: "mine", command: "x" }],
      ["PATCH", `/api/config/mcps/${server!.id}`, { enabled: false }],
      ["DELETE", `/api/config/mcps/${server!.id}`, undefined],
    ] as const) {
      expect((await call(method, path, body, member)).status).toBe(403);
    }
    expect((await call("GET", `/api/config/mcps/${server!.id}`)).body.enabled).toBe(server!.enabled);
    expect((await call("GET", "/api/config/mcps")).body).toHaveLength(3);
    expect((await pier.fetch("/api/config/mcps")).status).toBe(401);
    for (const method of ["GET", "PATCH", "DELETE"]) expect((await call(method, "/api/config/mcps/nope", method === "PATCH" ? {} : undefined)).status).toBe(404);
  });
});

describe("what sessions get", () => {
  let session: SessionJson;
  let launcher: string;

  test(".mcp.json lists Pier's endpoint and the repo's effective servers, never a secret", async () => {
    session = await activeSession(pier, admin, { repoId });
    const listed = mcpJsonOf(session).mcpServers;
    expect(Object.keys(listed).sort()).toEqual(["github", "pier"]);
    expect(listed.pier.type).toBe("http");
    launcher = listed.github.command;
    expect(listed.github).toEqual({ type: "stdio", command: launcher, args: [session.id, "github"] });
    expect(launcher.startsWith(pier.dataDir)).toBe(true);
    expect(readFileSync(join(session.worktreePath, ".mcp.json"), "utf8")).not.toContain(SECRET);
    const status = await run(["git", "status", "--porcelain"], session.worktreePath);
    expect(status.stdout).toBe("");
  }, 60_000);

  test("a change reaches the live session's .mcp.json within seconds; a disabled repo server turns the global one off there", async () => {
    const added = await create({ name: "notes", command: "notes-server", env: { NOTES_KEY: OTHER_SECRET } });
    await eventually(() => expect(Object.keys(mcpJsonOf(session).mcpServers).sort()).toEqual(["github", "notes", "pier"]));
    const repoGithub = ((await call("GET", `/api/config/mcps?repoId=${repoId}`)).body as Server[])[0]!;
    await call("PATCH", `/api/config/mcps/${repoGithub.id}`, { enabled: false });
    await eventually(() => expect(Object.keys(mcpJsonOf(session).mcpServers).sort()).toEqual(["notes", "pier"]));
    expect(pier.pier.mcpServers.effective(otherRepoId).map((s) => s.command)).toEqual(["other-github", "notes-server"]);
    await call("DELETE", `/api/config/mcps/${added.id}`);
    await eventually(() => expect(Object.keys(mcpJsonOf(session).mcpServers)).toEqual(["pier"]));
    await call("PATCH", `/api/config/mcps/${repoGithub.id}`, { enabled: true });
    await eventually(() => expect(Object.keys(mcpJsonOf(session).mcpServers).sort()).toEqual(["github", "pier"]));
  }, 30_000);

  test("the launcher gets the command, arguments and secrets from Pier at start, and becomes the server", async () => {
    const tricky = `line one\nit's "quoted" $HOME \`x\` ${SECRET}\n`;
    const repoGithub = ((await call("GET", `/api/config/mcps?repoId=${repoId}`)).body as Server[])[0]!;
    // Names the launcher could have used itself, and a PATH of the server's own, change nothing of how it starts.
    const path = `/opt/server-tools/bin:${process.env.PATH}`;
    await call("PATCH", `/api/config/mcps/${repoGithub.id}`, {
      command: "bash",
      args: ["-c", 'printf "%s|" "$0" "$@" "$$"; printf "%s" "$TRICKY"; printf "[%s]" "${EMPTY-unset}" "$command" "$args" "$PATH"', "a b", "it's", "$HOME", ""],
      env: { TRICKY: tricky, EMPTY: "", command: "not-a-program", args: "x", PATH: path },
    });
    const started = await run([launcher, session.id, "github"], session.worktreePath);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const [first, second, third, fourth, pid, rest] = started.stdout.split("|");
    expect([first, second, third, fourth]).toEqual(["a b", "it's", "$HOME", ""]);
    expect(Number(pid)).toBeGreaterThan(0);
    expect(rest).toBe(`${tricky}[][not-a-program][x][${path}]`);
  }, 30_000);

  test("the socket answers only for a live session of the pod's own person and repo", async () => {
    // Another person's session, an unknown server, another repo's session, no session at all.
    const theirs = await activeSession(pier, member, { repoId });
    const elsewhere = await activeSession(pier, admin, { repoId: otherRepoId });
    for (const [sessionId, name] of [[theirs.id, "github"], [session.id, "nope"], [elsewhere.id, "github"], ["", "github"]] as const) {
      const attempt = await run([launcher, sessionId, name], session.worktreePath);
      expect(attempt.code).toBe(1);
      expect(attempt.stdout).toBe("");
      expect(attempt.stderr).toContain("Pier: could not get the MCP server");
      expect(attempt.stderr).not.toContain(SECRET);
    }
    // The member's own pod has its own launcher, which works for their session.
    const theirLauncher = mcpJsonOf(theirs).mcpServers.github.command as string;
    expect(theirLauncher).not.toBe(launcher);
    expect((await run([theirLauncher, theirs.id, "github"], theirs.worktreePath)).code).toBe(0);
    expect((await call("POST", `/api/sessions/${session.id}/end`)).status).toBe(200);
    const ended = await run([launcher, session.id, "github"], pier.dataDir);
    expect(ended.code).toBe(1);
    expect(ended.stdout).toBe("");
  }, 60_000);
});
