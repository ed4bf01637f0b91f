/**
 * Secrets a member did not set show as one fixed mask, whatever the secret: an MCP server's
 * environment values (through the API's list and detail, and every page that lists servers) and
 * the instance's credentials behind a member's own (their credentials' view). Made as a curious
 * member would, by reading every answer for any part of the value. Admins, who set MCP values,
 * see the same mask: the value is theirs to replace, never to read back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeRemoteRepo } from "../support/git-fixtures.ts";
import { type TestPier, closeForGood, json, setUpAdmin, signIn, startTestPier } from "../support/pier.ts";
import { addRepo } from "../support/sessions.ts";

/** Distinctive tails: no page or answer holds four of their characters in a row unless they leaked. */
const MCP_SECRET = "tok_QZXWVJKQYXZWPHQJ";
const SHORT_SECRET = "QJXZKW";
const INSTANCE_TOKEN = "ghp_WQZXJVKYQZXJWVKYPHQZ";
const FIXED_MASK = "••••••••";

type Server = { id: string; env: Record<string, string> };

/** Every run of four characters of `secret` after its first `skip`: none may appear anywhere. */
const pieces = (secret: string, skip = 0) => Array.from({ length: secret.length - skip - 3 }, (_, i) => secret.slice(skip + i, skip + i + 4));
const leaked = (text: string) => [...pieces(MCP_SECRET, 4), ...pieces(SHORT_SECRET), ...pieces(INSTANCE_TOKEN, 4)].filter((piece) => text.includes(piece));

describe("secrets show to members as a fixed mask", () => {
  let pier: TestPier;
  let admin: string;
  let member: string;
  let repoId: string;
  let server: Server;
  const read = async (who: string, path: string) => {
    const res = await pier.fetch(path, { headers: { cookie: who } });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    pier = await startTestPier({ PIER_ALLOW_LOCAL_REPOS: "1" });
    admin = await setUpAdmin(pier);
    expect((await pier.fetch("/api/users", json({ username: "nico", password: "nico password", role: "member" }, { cookie: admin }))).status).toBe(201);
    member = await signIn(pier, "nico", "nico password");
    repoId = await addRepo(pier, admin, `file://${makeRemoteRepo("masked").path}`, "masked");
    const created = await pier.fetch("/api/config/mcps", json({ name: "tracker", command: "tracker-mcp", env: { TRACKER_TOKEN: MCP_SECRET, PIN: SHORT_SECRET } }, { cookie: admin }));
    expect(created.status).toBe(201);
    server = (await created.json()) as Server;
    expect((await pier.fetch("/api/settings", { ...json({ githubToken: INSTANCE_TOKEN }, { cookie: admin }), method: "PUT" })).status).toBe(200);
  }, 60_000);

  afterAll(() => closeForGood(pier));

  test("a member listing or opening MCP servers sees the same mask for every value, and no part of one", async () => {
    const list = await read(member, "/api/config/mcps");
    expect(list.status).toBe(200);
    expect((JSON.parse(list.text) as Server[]).find((s) => s.id === server.id)?.env).toEqual({ TRACKER_TOKEN: FIXED_MASK, PIN: FIXED_MASK });
    const one = await read(member, `/api/config/mcps/${server.id}`);
    expect(one.status).toBe(200);
    expect((JSON.parse(one.text) as Server).env).toEqual({ TRACKER_TOKEN: FIXED_MASK, PIN: FIXED_MASK });
    for (const page of [list, one, await read(member, `/api/config/mcps?repoId=${repoId}`), await read(member, "/settings/mcps"), await read(member, `/repos/${repoId}`)]) {
      expect(page.status).toBe(200);
      expect(leaked(page.text)).toEqual([]);
    }
  });

  test("an admin sees the same mask, on the API and the server's edit form, and sending it back keeps the value", async () => {
    expect(((await (await pier.fetch(`/api/config/mcps/${server.id}`, { headers: { cookie: admin } })).json()) as Server).env.TRACKER_TOKEN).toBe(FIXED_MASK);
    const form = await read(admin, `/settings/mcps/${server.id}`);
    expect(form.text).toContain(`TRACKER_TOKEN=${FIXED_MASK}`);
    expect(leaked(form.text)).toEqual([]);
    const kept = await pier.fetch(`/api/config/mcps/${server.id}`, { ...json({ env: { TRACKER_TOKEN: FIXED_MASK, PIN: FIXED_MASK } }, { cookie: admin }), method: "PATCH" });
    expect(kept.status).toBe(200);
    expect((await pier.pier.mcpServers.launch(repoId, "tracker"))?.env).toEqual({ TRACKER_TOKEN: MCP_SECRET, PIN: SHORT_SECRET });
  });

  test("a member's credentials show the instance's token in use as the fixed mask", async () => {
    const view = await read(member, "/api/me/credentials");
    expect(JSON.parse(view.text).githubToken).toEqual({ set: true, mask: FIXED_MASK, source: "settings" });
    const page = await read(member, "/tokens");
    expect(page.status).toBe(200);
    for (const answer of [view, page]) expect(leaked(answer.text)).toEqual([]);
  });
});
